"""`flask backup` and `flask restore`, against real databases that commit (no rolled-back test
transaction here): a backup taken while replies keep arriving restores to exactly the data of
one moment, and restore never writes over a database that has a schema."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import Result
from sqlalchemy import inspect, select, text
from sqlalchemy.orm import Session

from forum.db import make_engine
from forum.discussion import posting
from forum.models import Thread, User
from forum.platform import backup, migrate
from forum.staff import recount
from tests.conftest import (
    EXAMPLE_FILE,
    flask_command,
    fresh_database_url,
    is_postgres,
    migrated_database_url,
)

TWO_SHOWS = Path(__file__).parent / "fixtures" / "shows" / "two_shows.toml"

# A bound on waiting for the writer thread, not a measured duration.
PATIENCE_SECONDS = 120


flask = flask_command


def ok(result: Result) -> Result:
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture
def forum_url(tmp_path: Path) -> str:
    """A migrated database with boards, the demo community and bulk threads and posts."""
    url = migrated_database_url(tmp_path, "backup_source")
    ok(flask(url, "boards", "import", str(EXAMPLE_FILE)))
    ok(flask(url, "demo"))
    ok(flask(url, "demo", "--threads", "10", "--posts", "400"))
    return url


def contents(url: str, up_to_post: int | None = None) -> tuple[dict[str, int], str]:
    """Rows in every table and a SHA-256 over the posts in id order; with `up_to_post`, only the
    posts up to that id count (replies written after a backup are left out)."""
    engine = make_engine(url)
    limit = up_to_post if up_to_post is not None else 2**62
    try:
        with engine.connect() as connection:
            # Search documents follow their posts (up to the same id); the FTS5 table's shadow
            # tables hold index segments, whose number depends on merges, not on the moment.
            counts = {
                table: connection.execute(
                    text(f'SELECT count(*) FROM "{table}" WHERE post_id <= :limit')
                    if table == "search_documents"
                    else text(f'SELECT count(*) FROM "{table}"'),
                    {"limit": limit},
                ).scalar_one()
                for table in sorted(inspect(connection).get_table_names())
                if table != "posts" and not table.startswith("search_fts")
            }
            digest = hashlib.sha256()
            rows = connection.execute(
                text("SELECT id, thread_id, source FROM posts WHERE id <= :limit ORDER BY id"),
                {"limit": limit},
            ).all()
            for row in rows:
                digest.update(repr(tuple(row)).encode())
            counts["posts"] = len(rows)
    finally:
        engine.dispose()
    return counts, digest.hexdigest()


def newest_post(url: str) -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return connection.execute(text("SELECT max(id) FROM posts")).scalar_one()
    finally:
        engine.dispose()


class Replier(threading.Thread):
    """Replies to one thread in a loop, one commit per reply, as the site does under load."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.committed = 0
        self.error: BaseException | None = None
        self.stopping = threading.Event()
        self.progress = threading.Condition()

    def run(self) -> None:
        engine = make_engine(self.url)
        try:
            with Session(engine) as session:
                thread = session.scalars(select(Thread).order_by(Thread.id)).first()
                author = session.scalars(select(User).order_by(User.id)).first()
                assert thread is not None and author is not None
                while not self.stopping.is_set():
                    posting.add_post(session, thread, author, f"Live reply {self.committed + 1}")
                    session.commit()
                    with self.progress:
                        self.committed += 1
                        self.progress.notify_all()
        except BaseException as error:  # reported by wait_for, in the test's thread
            self.error = error
            with self.progress:
                self.progress.notify_all()
        finally:
            engine.dispose()

    def wait_for(self, replies: int) -> int:
        with self.progress:
            reached = self.progress.wait_for(
                lambda: self.committed >= replies or self.error is not None, PATIENCE_SECONDS
            )
        assert self.error is None, f"the replier failed: {self.error!r}"
        assert reached, f"the replier committed only {self.committed} of {replies} replies"
        return self.committed


@pytest.fixture
def replier(forum_url: str) -> Iterator[Replier]:
    writer = Replier(forum_url)
    writer.start()
    yield writer
    writer.stopping.set()
    writer.join(PATIENCE_SECONDS)


def test_backup_while_replies_arrive_restores_one_consistent_moment(
    forum_url: str, replier: Replier, tmp_path: Path
) -> None:
    backup_file = tmp_path / "forum.backup"
    replies_before = replier.wait_for(20)

    backed_up = ok(flask(forum_url, "backup", str(backup_file)))

    replier.wait_for(replier.committed + 20)  # it kept writing through the backup
    replier.stopping.set()
    replier.join(PATIENCE_SECONDS)
    target = fresh_database_url(tmp_path, "restored")
    restored = ok(flask(target, "restore", str(backup_file)))

    last_backed_up = newest_post(target)
    restored_counts, restored_posts = contents(target)
    source_counts, source_posts = contents(forum_url, up_to_post=last_backed_up)
    assert restored_counts == source_counts
    assert restored_posts == source_posts
    # Every reply committed before the backup began is in it (a copy of the file alone loses
    # those still in SQLite's WAL), and those in it are a prefix of all (the checksum above).
    assert replies_before <= _live_replies(target) <= replier.committed
    # The counters in the copy agree with its rows: it is one moment, not a blend of several.
    with Session(engine := make_engine(target)) as session:
        assert recount.differences(session) == []
    engine.dispose()
    # Both commands print the counts they saw, which are those of the copy.
    summary = (
        f"{restored_counts['users']:,} users, {restored_counts['boards']:,} boards, "
        f"{restored_counts['threads']:,} threads, {restored_counts['posts']:,} posts"
    )
    assert summary in backed_up.output
    assert summary in restored.output
    assert "The schema is up to date." in restored.output


def _live_replies(url: str) -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return connection.execute(
                text("SELECT count(*) FROM posts WHERE source LIKE 'Live reply %'")
            ).scalar_one()
    finally:
        engine.dispose()


def test_backup_is_one_private_file_that_replaces_the_old_one(
    forum_url: str, tmp_path: Path
) -> None:
    backup_file = tmp_path / "forum.backup"
    backup_file.write_bytes(b"yesterday's backup")

    ok(flask(forum_url, "backup", str(backup_file)))

    assert sorted(
        path.name
        for path in tmp_path.iterdir()
        if path.name.startswith(("forum.backup", ".forum.backup"))
    ) == ["forum.backup"]
    assert stat.S_IMODE(backup_file.stat().st_mode) == 0o600
    assert backup_file.read_bytes()[:5] == (b"PGDMP" if is_postgres() else b"SQLit")
    if not is_postgres():
        # Self-contained: it opens read-only, with no -wal file beside it.
        with sqlite3.connect(f"{backup_file.as_uri()}?mode=ro", uri=True) as copy:
            assert copy.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
            assert copy.execute("SELECT count(*) FROM posts").fetchone()[0] > 400


def test_a_failed_backup_leaves_the_previous_file_and_no_partial_one(
    forum_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    backup_file = tmp_path / "forum.backup"
    ok(flask(forum_url, "backup", str(backup_file)))
    good = backup_file.read_bytes()
    if is_postgres():
        # pg_dump writes its whole output, then dies (a full disk, a dropped connection).
        tools = tmp_path / "bin"
        tools.mkdir()
        failing = tools / "pg_dump"
        failing.write_text(
            f'#!/bin/sh\n{_real("pg_dump")} "$@"\n'
            'echo "pg_dump: error: connection lost" >&2\nexit 1\n'
        )
        failing.chmod(0o755)
        monkeypatch.setenv("PATH", f"{tools}{os.pathsep}{os.environ['PATH']}")
        source = forum_url
    else:
        # A database file whose pages cannot be read: the copy fails part way.
        broken = tmp_path / "broken.sqlite3"
        broken.write_bytes(b"\0" * 100 + os.urandom(8192))
        source = f"sqlite:///{broken}"

    result = flask(source, "backup", str(backup_file))

    assert result.exit_code == 1
    assert "Nothing was written" in result.output
    assert backup_file.read_bytes() == good
    assert not [path for path in tmp_path.iterdir() if path.name.endswith(".partial")]


def _real(tool: str) -> str:
    for folder in os.environ["PATH"].split(os.pathsep):
        candidate = Path(folder) / tool
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    raise AssertionError(f"{tool} is not installed")


def test_backup_names_the_missing_client_tool(
    forum_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    backup_file = tmp_path / "forum.backup"
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))

    result = flask(forum_url, "backup", str(backup_file))

    if is_postgres():
        assert result.exit_code == 1
        assert "pg_dump is not on PATH" in result.output
        assert "postgresql-client-" in result.output
        assert not backup_file.exists()
    else:  # SQLite needs no outside program
        assert result.exit_code == 0, result.output
        assert backup_file.exists()


def test_restore_refuses_a_database_that_has_rows(forum_url: str, tmp_path: Path) -> None:
    backup_file = tmp_path / "forum.backup"
    ok(flask(forum_url, "backup", str(backup_file)))
    before = contents(forum_url)

    result = flask(forum_url, "restore", str(backup_file))

    assert result.exit_code == 1
    assert "empty database" in result.output
    assert contents(forum_url) == before


def test_restore_refuses_a_database_with_only_a_schema(forum_url: str, tmp_path: Path) -> None:
    backup_file = tmp_path / "forum.backup"
    ok(flask(forum_url, "backup", str(backup_file)))
    schema_only = migrated_database_url(tmp_path, "schema_only")

    result = flask(schema_only, "restore", str(backup_file))

    assert result.exit_code == 1
    assert "empty database" in result.output
    counts, _ = contents(schema_only)
    assert counts["posts"] == counts["users"] == 0


def test_restore_of_a_file_that_is_not_a_backup_changes_nothing(tmp_path: Path) -> None:
    not_a_backup = tmp_path / "notes.txt"
    not_a_backup.write_text("SELECT 1;\n")
    target = fresh_database_url(tmp_path, "restore_target")

    result = flask(target, "restore", str(not_a_backup))

    assert result.exit_code == 1
    assert "is not a backup" in result.output
    engine = make_engine(target)
    with engine.connect() as connection:
        assert inspect(connection).get_table_names() == []
    engine.dispose()


def test_restoring_an_older_backup_asks_for_init_db_which_upgrades_it(tmp_path: Path) -> None:
    source = fresh_database_url(tmp_path, "old_source")
    engine = make_engine(source)
    migrate.upgrade(engine, "0006")
    engine.dispose()
    # A file without episodes: revision 0006 has no episodes table.
    ok(flask(source, "boards", "import", str(TWO_SHOWS)))
    backup_file = tmp_path / "old.backup"
    ok(flask(source, "backup", str(backup_file)))
    target = fresh_database_url(tmp_path, "old_restored")

    restored = ok(flask(target, "restore", str(backup_file)))
    upgraded = ok(flask(target, "init-db"))

    assert "(revision 0006)" in restored.output
    assert f"This code is at revision {migrate.head()}: run `flask init-db`" in restored.output
    assert f"Database upgraded to revision {migrate.head()}." in upgraded.output
    assert contents(target)[0]["boards"] == contents(source)[0]["boards"] > 0


def test_restore_into_an_empty_database_the_site_already_opened(
    forum_url: str, tmp_path: Path
) -> None:
    backup_file = tmp_path / "forum.backup"
    ok(flask(forum_url, "backup", str(backup_file)))
    target = fresh_database_url(tmp_path, "opened_target")
    engine = make_engine(target)
    with engine.connect() as connection:  # on SQLite this creates the file, in WAL mode
        connection.exec_driver_sql("SELECT 1")
        connection.commit()
    # The idle connection stays open in the engine's pool, as in a running site.
    ok(flask(target, "restore", str(backup_file)))
    engine.dispose()

    assert contents(target) == contents(forum_url)


def test_sqlite_restore_gives_up_on_a_target_that_stays_locked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # SQLite's locking, so SQLite on both runs of the suite. Python's own backup call would
    # retry a locked target forever.
    source = f"sqlite:///{tmp_path / 'source.sqlite3'}"
    migrate.upgrade(engine := make_engine(source))
    engine.dispose()
    backup_file = tmp_path / "forum.backup"
    ok(flask(source, "backup", str(backup_file)))
    target = tmp_path / "target.sqlite3"
    holder = sqlite3.connect(target, isolation_level=None)
    holder.execute("PRAGMA journal_mode=WAL")
    holder.execute("BEGIN IMMEDIATE")  # a writer that never lets go
    monkeypatch.setattr(backup, "SQLITE_WAIT_SECONDS", 1)

    result = flask(f"sqlite:///{target}", "restore", str(backup_file))

    holder.rollback()
    assert result.exit_code == 1
    assert "stayed locked for 1 seconds" in result.output
    assert holder.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] == 0
    holder.close()
