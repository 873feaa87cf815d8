"""The migrations themselves (upgrading a database that already holds data keeps it intact), and
`flask init-db`: what it reports, and two of them at once."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from click.testing import Result
from sqlalchemy import inspect, make_url, text
from sqlalchemy.exc import DBAPIError

from forum import create_app
from forum.db import make_engine
from forum.platform import migrate
from tests.conftest import fresh_database_url, is_postgres, migrated_database_url


def test_upgrading_from_the_first_schema_keeps_authors_and_links(tmp_path: Path) -> None:
    url = fresh_database_url(tmp_path, "migrations")
    engine = make_engine(url)
    migrate.upgrade(engine, "0001")
    with engine.begin() as db:
        db.execute(
            text(
                "INSERT INTO users (id, username, username_key, email, email_key, password_hash, "
                "role, created_at, post_count, session_version) VALUES "
                "(1, 'ingrid', 'ingrid', 'i@e.org', 'i@e.org', 'x', 'member', '2024-01-01', 1, 1)"
            )
        )
        db.execute(
            text(
                "INSERT INTO boards (id, slug, name, description, network, status, facts, "
                "position, is_archived, created_at, thread_count, post_count) VALUES "
                "(1, 'pt', 'Partner Track', '', '', '', '{}', 0, false, '2024-01-01', 1, 1)"
            )
        )
        db.execute(
            text(
                "INSERT INTO threads (id, board_id, author_id, title, slug, created_at, "
                "post_count, last_post_at, last_poster_id, is_pinned, is_locked, is_hidden) VALUES "
                "(1, 1, 1, 'Season 2?', 'season-2', '2024-01-01', 1, '2024-01-01', 1, false, "
                "false, false)"
            )
        )
        db.execute(
            text(
                "INSERT INTO posts (id, thread_id, author_id, number, source, html, "
                "render_version, created_at, is_deleted) VALUES "
                "(1, 1, 1, 1, 'Hope so', '<p>Hope so</p>', 1, '2024-01-01', false)"
            )
        )
        db.execute(text("UPDATE threads SET last_post_id = 1"))
        db.execute(text("UPDATE boards SET last_post_id = 1"))

    migrate.upgrade(engine)

    with engine.connect() as db:
        assert db.execute(text("SELECT author_id FROM posts")).scalar_one() == 1
        assert db.execute(
            text("SELECT author_id, last_poster_id, last_post_id FROM threads")
        ).one() == (1, 1, 1)
        assert db.execute(text("SELECT last_post_id FROM boards")).scalar_one() == 1
        # Accounts that existed before email verification count as verified.
        assert db.execute(text("SELECT email_verified_at FROM users")).scalar_one() is not None
        # Members who were there before unread tracking have read what there was (0013).
        assert db.execute(text("SELECT marked_read_at FROM users")).scalar_one() is not None
    engine.dispose()


def test_downgrading_to_the_first_schema_and_back_works(tmp_path: Path) -> None:
    engine = make_engine(fresh_database_url(tmp_path, "roundtrip"))
    migrate.upgrade(engine)
    migrate.downgrade(engine, "0001")
    migrate.upgrade(engine)
    with engine.connect() as db:
        assert db.execute(text("SELECT version FROM cache_state")).scalar_one() == 0
    engine.dispose()


# ------------------------------------------------------------------------------ flask init-db

PROJECT = Path(__file__).resolve().parent.parent
# A bound on waiting for the two processes, not a measured duration.
PATIENCE_SECONDS = 180


def every_migration() -> list[str]:
    """ "0001 initial schema", ... in order, from the migration files themselves."""
    scripts = ScriptDirectory.from_config(migrate.alembic_config())
    return [
        f"{script.revision} {Path(script.path).stem.split('_', 1)[1].replace('_', ' ')}"
        for script in reversed(list(scripts.walk_revisions()))
    ]


def init_db(url: str) -> Result:
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "test", "TESTING": True})
    try:
        return app.test_cli_runner().invoke(args=["init-db"])
    finally:
        app.extensions["forum.engine"].dispose()


def test_init_db_on_an_empty_database_names_every_migration_it_applied(tmp_path: Path) -> None:
    result = init_db(fresh_database_url(tmp_path, "init_names"))

    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        *(f"Applied {migration}" for migration in every_migration()),
        f"Database upgraded to revision {migrate.head()}.",
    ]


def test_init_db_with_nothing_to_do_says_so_with_the_revision(tmp_path: Path) -> None:
    url = fresh_database_url(tmp_path, "init_again")
    init_db(url)

    result = init_db(url)

    assert result.exit_code == 0, result.output
    assert result.output == f"Database is up to date (revision {migrate.head()}).\n"


def test_init_db_applies_only_the_missing_migrations(tmp_path: Path) -> None:
    url = fresh_database_url(tmp_path, "init_partial")
    engine = make_engine(url)
    migrate.upgrade(engine, "0005")
    engine.dispose()

    result = init_db(url)

    assert result.exit_code == 0, result.output
    applied = [
        line.removeprefix("Applied ")
        for line in result.output.splitlines()
        if line.startswith("Applied ")
    ]
    assert applied == [m for m in every_migration() if m.split()[0] > "0005"]


def test_init_db_on_a_database_from_newer_code_fails_cleanly(tmp_path: Path) -> None:
    url = migrated_database_url(tmp_path, "init_newer")
    engine = make_engine(url)
    with engine.begin() as db:
        db.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()

    result = init_db(url)

    assert result.exit_code == 1
    assert "9999" in result.output and "older than the database" in result.output


@contextmanager
def migration_lock_held(url: str) -> Iterator[Callable[[list[subprocess.Popen[str]]], None]]:
    """Hold the lock `flask init-db` takes, and give a function that waits until the given
    processes all queue for it; leaving the block releases it, so they race for it at once."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection, connection.begin():
            # On SQLite this BEGIN is BEGIN IMMEDIATE (forum/db.py): the one write lock.
            if is_postgres():
                connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({migrate.LOCK_KEY})")

                def queued(processes: list[subprocess.Popen[str]]) -> bool:
                    return connection.exec_driver_sql(
                        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                        f"AND NOT granted AND objid = {migrate.LOCK_KEY}"
                    ).scalar_one() == len(processes)
            else:
                database = Path(make_url(url).database or "").resolve()

                def queued(processes: list[subprocess.Popen[str]]) -> bool:
                    # SQLite shows no waiters; a process with the file open is at its BEGIN.
                    return all(_has_open(process.pid, database) for process in processes)

            def wait(processes: list[subprocess.Popen[str]]) -> None:
                deadline = time.monotonic() + PATIENCE_SECONDS
                while not queued(processes):
                    finished = [p for p in processes if p.poll() is not None]
                    assert not finished, f"init-db ended before the lock: {_outputs(finished)}"
                    assert time.monotonic() < deadline, "init-db never waited for the lock"
                    time.sleep(0.05)

            yield wait  # leaving the transaction releases the lock
    finally:
        engine.dispose()


def _has_open(pid: int, path: Path) -> bool:
    try:
        return any(Path(os.readlink(fd)) == path for fd in Path(f"/proc/{pid}/fd").iterdir())
    except OSError:  # the process is starting or ending, or closed the descriptor meanwhile
        return False


def _outputs(processes: list[subprocess.Popen[str]]) -> list[tuple[str, str]]:
    return [process.communicate(timeout=PATIENCE_SECONDS) for process in processes]


def test_two_init_db_at_once_apply_each_migration_once(tmp_path: Path) -> None:
    url = fresh_database_url(tmp_path, "init_race")
    if not is_postgres():
        # The database file exists in WAL mode, as the app leaves it, so the lock can be held.
        sqlite3.connect(make_url(url).database or "").execute("PRAGMA journal_mode=WAL").close()
    env = {**os.environ, "FORUM_DATABASE_URL": url, "FORUM_SECRET_KEY": "test"}
    command = [sys.executable, "-m", "flask", "--app", "app", "init-db"]

    with migration_lock_held(url) as wait_until_queued:
        processes = [
            subprocess.Popen(
                command,
                cwd=PROJECT,
                env=env,
                text=True,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
            for _ in range(2)
        ]
        wait_until_queued(processes)
    outputs = _outputs(processes)

    assert [process.returncode for process in processes] == [0, 0], outputs
    reports = sorted(stdout for stdout, _ in outputs)
    assert reports == sorted(
        [
            "".join(f"Applied {m}\n" for m in every_migration())
            + f"Database upgraded to revision {migrate.head()}.\n",
            f"Database is up to date (revision {migrate.head()}).\n",
        ]
    )
    engine = make_engine(url)
    with engine.connect() as db:
        assert db.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == [
            migrate.head()
        ]
    engine.dispose()


FAILING_MIGRATION = '''"""a migration that fails half way

Revision ID: 9001
Revises: {head}
"""
import sqlalchemy as sa
from alembic import op

revision = "9001"
down_revision = "{head}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("half_done", sa.Column("id", sa.Integer, primary_key=True))
    op.execute("INSERT INTO no_such_table VALUES (1)")


def downgrade() -> None:
    pass
'''


def test_a_failing_migration_leaves_the_database_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The migrations folder plus one broken migration on top.
    folder = tmp_path / "migrations"
    shutil.copytree(migrate.MIGRATIONS, folder, ignore=shutil.ignore_patterns("__pycache__"))
    (folder / "versions" / "9001_half_done.py").write_text(
        FAILING_MIGRATION.replace("{head}", migrate.head() or "")
    )
    url = fresh_database_url(tmp_path, "init_failing")
    engine = make_engine(url)
    migrate.upgrade(engine, "0005")
    monkeypatch.setattr(migrate, "MIGRATIONS", folder)

    with pytest.raises(DBAPIError):
        migrate.upgrade(engine)

    # One transaction: neither the table it made nor the migrations before it stayed.
    with engine.connect() as db:
        assert db.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == "0005"
        assert "half_done" not in inspect(db).get_table_names()
    engine.dispose()
