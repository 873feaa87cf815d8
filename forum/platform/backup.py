"""Backups of the live database and restores into an empty one (`flask backup`, `flask restore`).

SQLite: the online backup API copies the database as of one read transaction, the committed
pages still in the WAL included, while the site keeps writing (a plain `cp` of the file misses
whatever the WAL holds). PostgreSQL: `pg_dump -Fc` on a snapshot this module exports, so the
row counts printed are those of the dump. Either way the backup is written to a temporary file
beside FILE and renamed at the end: a failed backup never leaves a partial file under FILE, and
an older backup of the same name survives until the new one is complete.
"""

from __future__ import annotations

import os
import secrets
import shutil
import sqlite3
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import URL, Connection, inspect, text
from sqlalchemy.engine import Engine

MAIN_TABLES = ("users", "boards", "threads", "posts")
SQLITE_HEADER = b"SQLite format 3\x00"
PG_DUMP_HEADER = b"PGDMP"  # the custom format's magic (pg_dump -Fc)
# How long a backup or restore waits for SQLite's locks before giving up (writers hold the
# write lock for milliseconds; a restore's target should have no users at all).
SQLITE_WAIT_SECONDS = 60


class BackupError(Exception):
    """A backup or restore that cannot be done; the message is for the operator."""


class NotEmpty(BackupError):
    """Restoring would overwrite a database that already has a schema."""


@dataclass(frozen=True)
class Summary:
    path: Path
    size: int  # bytes of the backup file
    revision: str | None  # the schema's Alembic revision in the backup
    counts: dict[str, int]  # rows per table


def backup(engine: Engine, target: Path) -> Summary:
    if engine.dialect.name == "sqlite":
        return _backup_sqlite(_sqlite_path(engine), target)
    return _backup_postgres(engine, target)


def restore(engine: Engine, source: Path) -> Summary:
    """Load a backup into the configured database, which must be empty (no tables at all)."""
    kind = _archive_kind(source)
    if kind != engine.dialect.name:
        raise BackupError(
            f"{source} is a backup of {_KIND_NAMES[kind]} database but the "
            f"configured database is {_KIND_NAMES[engine.dialect.name]}."
        )
    if kind == "sqlite":
        summary = _restore_sqlite(source, _sqlite_path(engine))
    else:
        summary = _restore_postgres(engine, source)
    _new_cache_namespace(engine)
    return summary


# ------------------------------------------------------------------------------ SQLite


def _sqlite_path(engine: Engine) -> Path:
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        raise BackupError(
            "Backups need an SQLite database file (FORUM_DATABASE_URL="
            "sqlite:////path/to/file.sqlite3)."
        )
    return Path(database).resolve()


def _backup_sqlite(database: Path, target: Path) -> Summary:
    if not database.is_file():
        raise BackupError(f"There is no database at {database}.")
    if target.resolve() == database:
        raise BackupError(f"{target} is the live database itself; back up to another file.")
    with _written_atomically(target) as partial:
        try:
            # Connecting to an existing file; sqlite3 would create a missing one, checked above.
            with (
                closing(sqlite3.connect(database, timeout=SQLITE_WAIT_SECONDS)) as live,
                closing(sqlite3.connect(partial)) as copy,
            ):
                # One step: a single read transaction on the live database, so the copy is one
                # consistent snapshot. In WAL mode that read blocks no writer.
                _copy(live, copy)
                # The copy's header says WAL like the original's; make it one self-contained
                # file that can be renamed, copied off-site and opened read-only.
                copy.execute("PRAGMA journal_mode=DELETE")
                _check_sqlite(copy, target)
                counts = _sqlite_counts(copy)
                revision = _sqlite_revision(copy)
        except sqlite3.Error as error:
            raise BackupError(f"Reading {database} failed: {error}.") from None
    return Summary(target, target.stat().st_size, revision, counts)


def _restore_sqlite(source: Path, database: Path) -> Summary:
    try:
        with closing(sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)) as backup:
            _check_sqlite(backup, source)
            revision = _sqlite_revision(backup)
            if revision is None:
                raise BackupError(
                    f"{source} is an SQLite database but not a Showboard backup "
                    "(it has no alembic_version table)."
                )
            database.parent.mkdir(parents=True, exist_ok=True)
            with closing(sqlite3.connect(database, timeout=SQLITE_WAIT_SECONDS)) as target:
                existing = target.execute(
                    "SELECT count(*) FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'"
                ).fetchone()[0]
                if existing:
                    raise NotEmpty(
                        f"{database} already has {existing} tables, indexes or "
                        "views. Restore only goes into an empty database, so a live "
                        "forum is never overwritten: point FORUM_DATABASE_URL at a "
                        "new file."
                    )
                _copy(backup, target)
                # As the app runs it (forum/db.py); the backup file itself is in DELETE mode.
                target.execute("PRAGMA journal_mode=WAL")
                counts = _sqlite_counts(target)
    except sqlite3.Error as error:
        raise BackupError(f"Restoring {source} into {database} failed: {error}.") from None
    return Summary(source, source.stat().st_size, revision, counts)


def _copy(source: sqlite3.Connection, destination: sqlite3.Connection) -> None:
    """The whole database in one backup step (pages=-1). Python retries a step that finds a
    database locked forever; this gives up after SQLITE_WAIT_SECONDS instead (a restore's
    target that something keeps writing to, a live database held by an exclusive lock)."""
    deadline = time.monotonic() + SQLITE_WAIT_SECONDS

    def give_up_when_stuck(status: int, _remaining: int, _total: int) -> None:
        if status in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED) and time.monotonic() > deadline:
            raise BackupError(f"The database stayed locked for {SQLITE_WAIT_SECONDS} seconds.")

    source.backup(destination, progress=give_up_when_stuck)


def _check_sqlite(connection: sqlite3.Connection, path: Path) -> None:
    result = connection.execute("PRAGMA quick_check").fetchone()[0]
    if result != "ok":
        raise BackupError(f"{path} fails SQLite's integrity check: {result}.")


def _sqlite_counts(connection: sqlite3.Connection) -> dict[str, int]:
    tables = [
        row[0]
        for row in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "ORDER BY name"
        )
    ]
    return {
        table: connection.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
        for table in tables
    }


def _sqlite_revision(connection: sqlite3.Connection) -> str | None:
    try:
        row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.OperationalError:  # no such table
        return None
    return row[0] if row else None


# ------------------------------------------------------------------------------ PostgreSQL


def _backup_postgres(engine: Engine, target: Path) -> Summary:
    pg_dump = _client_tool(engine, "pg_dump")
    with engine.connect() as connection:
        snapshot_reader = connection.execution_options(isolation_level="REPEATABLE READ")
        with snapshot_reader.begin():
            # pg_dump reads this transaction's snapshot, so the counts below are the dump's.
            snapshot = snapshot_reader.exec_driver_sql("SELECT pg_export_snapshot()").scalar_one()
            counts = _table_counts(snapshot_reader)
            revision = _revision(snapshot_reader)
            with _written_atomically(target) as partial:
                _run(
                    [
                        pg_dump,
                        "--format=custom",
                        f"--snapshot={snapshot}",
                        f"--file={partial}",
                        f"--dbname={_libpq_url(engine.url)}",
                    ],
                    _libpq_env(engine.url),
                )
    return Summary(target, target.stat().st_size, revision, counts)


def _restore_postgres(engine: Engine, source: Path) -> Summary:
    pg_restore = _client_tool(engine, "pg_restore")
    with engine.connect() as connection:
        existing = connection.execute(
            text(
                "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = current_schema()"
            )
        ).scalar_one()
        database = connection.exec_driver_sql("SELECT current_database()").scalar_one()
    if existing:
        raise NotEmpty(
            f"Database {database} already has {existing} tables, indexes or "
            "sequences. Restore only goes into an empty database, so a live forum is "
            "never overwritten: create a new one (createdb) and point "
            "FORUM_DATABASE_URL at it."
        )
    # One transaction: a restore that fails part way leaves the database empty, not half full.
    # --no-owner/--no-privileges: the roles of the backed-up server need not exist here.
    _run(
        [
            pg_restore,
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            "--single-transaction",
            f"--dbname={_libpq_url(engine.url)}",
            str(source),
        ],
        _libpq_env(engine.url),
    )
    with engine.connect() as connection:
        counts = _table_counts(connection)
        revision = _revision(connection)
    return Summary(source, source.stat().st_size, revision, counts)


def _table_counts(connection: Connection) -> dict[str, int]:
    tables = sorted(inspect(connection).get_table_names())
    return {
        table: connection.execute(text(f'SELECT count(*) FROM "{table}"')).scalar_one()
        for table in tables
    }


def _revision(connection: Connection) -> str | None:
    if not inspect(connection).has_table("alembic_version"):
        return None
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def _client_tool(engine: Engine, name: str) -> str:
    path = shutil.which(name)
    if path is None:
        with engine.connect() as connection:
            major = (connection.dialect.server_version_info or ("N",))[0]
        raise BackupError(
            f"{name} is not on PATH: install the PostgreSQL client tools of the "
            f"server's version (Debian/Ubuntu: apt-get install "
            f"postgresql-client-{major})."
        )
    return path


def _libpq_url(url: URL) -> str:
    """The database URL as pg_dump understands it, without the password (see _libpq_env),
    which would otherwise show in `ps` for everyone on the machine."""
    plain = URL.create(
        "postgresql",
        username=url.username,
        host=url.host,
        port=url.port,
        database=url.database,
        query=url.query,
    )
    return plain.render_as_string(hide_password=False)


def _libpq_env(url: URL) -> dict[str, str]:
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return env


def _run(command: list[str], env: dict[str, str]) -> None:
    name = Path(command[0]).name
    try:
        result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    except OSError as error:
        raise BackupError(f"{name} could not start: {error}.") from None
    if result.returncode != 0:
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        detail = lines[-1] if lines else "no message"
        raise BackupError(f"{name} failed (exit code {result.returncode}): {detail}")


# ------------------------------------------------------------------------------ shared


_KIND_NAMES = {"sqlite": "an SQLite", "postgresql": "a PostgreSQL"}


def _archive_kind(source: Path) -> str:
    try:
        with source.open("rb") as file:
            header = file.read(len(SQLITE_HEADER))
    except OSError as error:
        raise BackupError(f"Cannot read {source}: {error.strerror}.") from None
    if header.startswith(SQLITE_HEADER):
        return "sqlite"
    if header.startswith(PG_DUMP_HEADER):
        return "postgresql"
    raise BackupError(
        f"{source} is not a backup: neither an SQLite database nor a pg_dump custom-format archive."
    )


@contextmanager
def _written_atomically(target: Path) -> Iterator[Path]:
    """A temporary file beside `target` (same file system, so the rename is atomic), renamed
    to `target` when the block succeeds and removed when it fails. Created 0600: backups hold
    password hashes and email addresses."""
    if not target.parent.is_dir():
        raise BackupError(f"The folder {target.parent} does not exist.")
    descriptor, name = tempfile.mkstemp(
        prefix=f".{target.name}.", suffix=".partial", dir=target.parent
    )
    os.close(descriptor)
    partial = Path(name)
    try:
        yield partial
        with partial.open("rb") as written:
            os.fsync(written.fileno())
        os.replace(partial, target)
        directory = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(directory)  # the rename itself survives a crash
        finally:
            os.close(directory)
    finally:
        for leftover in (
            partial,
            Path(f"{partial}-journal"),
            Path(f"{partial}-wal"),
            Path(f"{partial}-shm"),
        ):
            leftover.unlink(missing_ok=True)


def _new_cache_namespace(engine: Engine) -> None:
    """Give the restored database its own page-cache namespace: the original may live on with
    the same namespace and content versions, and a shared Redis would serve its pages here."""
    with engine.begin() as connection:
        if inspect(connection).has_table("cache_state"):
            connection.execute(
                text("UPDATE cache_state SET namespace = :namespace"),
                {"namespace": secrets.token_hex(8)},
            )
