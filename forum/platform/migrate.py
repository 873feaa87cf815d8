"""Running Alembic from the app: `flask init-db`, `flask db revision`, and the test fixtures.

Migrations run in one transaction under a lock, so two `flask init-db` at once (two deploy
hooks, two containers starting) are safe: the second waits, then finds nothing to do."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection
from sqlalchemy.engine import Engine

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"
# pg_advisory_xact_lock key shared by every process that migrates ("Show" in ASCII).
LOCK_KEY = 0x53686F77
# A second init-db on SQLite waits for the first one's whole upgrade, which may rebuild large
# tables; the usual 15-second busy timeout would make it fail instead.
SQLITE_MIGRATION_WAIT_MS = 30 * 60 * 1000
SQLITE_USUAL_WAIT_MS = 15000


@dataclass(frozen=True)
class Migration:
    revision: str
    name: str  # from the file name: 0002_moderation.py -> "moderation"

    def __str__(self) -> str:
        return f"{self.revision} {self.name}"


@dataclass(frozen=True)
class Upgrade:
    applied: list[Migration]
    revision: str | None  # where the database is now


def alembic_config(url: str | None = None, connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if url:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head() -> str | None:
    return _scripts().get_current_head()


def is_known(revision: str) -> bool:
    return any(script.revision == revision for script in _scripts().walk_revisions())


def current_revision(connection: Connection) -> str | None:
    """The database's revision; None when Alembic never ran on it."""
    return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> Upgrade:
    with _migrating(engine) as connection:
        before = current_revision(connection)
        command.upgrade(alembic_config(connection=connection), revision)
        after = current_revision(connection)
    return Upgrade(applied=_between(before, after), revision=after)


def downgrade(engine: Engine, revision: str) -> None:
    with _migrating(engine) as connection:
        command.downgrade(alembic_config(connection=connection), revision)


def _scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def _between(before: str | None, after: str | None) -> list[Migration]:
    """The migrations after `before` up to and including `after`, oldest first."""
    if after is None or after == before:
        return []
    scripts = list(_scripts().iterate_revisions(after, before or "base"))
    return [_describe(script.revision, script.path, script.doc) for script in reversed(scripts)]


def _describe(revision: str, path: str, doc: str) -> Migration:
    stem = Path(path).stem
    prefix = f"{revision}_"
    name = stem[len(prefix) :] if stem.startswith(prefix) else doc.splitlines()[0]
    return Migration(revision, name.replace("_", " "))


@contextmanager
def _migrating(engine: Engine) -> Iterator[Connection]:
    """A transaction for migrations, holding the migration lock from its first statement.

    PostgreSQL: a transaction-level advisory lock, released by the commit or rollback itself,
    so a crashed migration never leaves it held. SQLite: the transaction starts with BEGIN
    IMMEDIATE (forum/db.py), the database's single write lock; all of Alembic's DDL runs inside
    it (SQLite's DDL is transactional, and Alembic adds no transaction of its own when handed
    one that is open).

    On SQLite, foreign keys are off meanwhile: batch mode rebuilds a table by copying it and
    dropping the old one, and with foreign keys on, the drop would fire ON DELETE SET NULL on
    every row pointing at it (wiping post authors)."""
    with engine.connect() as connection:
        sqlite = engine.dialect.name == "sqlite"
        raw = connection.connection.dbapi_connection
        if sqlite:
            # Must run outside a transaction, or SQLite ignores it.
            raw.execute("PRAGMA foreign_keys=OFF")  # type: ignore[union-attr]
            raw.execute(f"PRAGMA busy_timeout={SQLITE_MIGRATION_WAIT_MS}")  # type: ignore[union-attr]
        try:
            with connection.begin():
                if engine.dialect.name == "postgresql":
                    connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({LOCK_KEY})")
                yield connection
                if sqlite:
                    problems = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
                    if problems:
                        raise RuntimeError(f"migration broke foreign keys: {problems[:5]}")
        finally:
            if sqlite:
                raw.execute("PRAGMA foreign_keys=ON")  # type: ignore[union-attr]
                raw.execute(f"PRAGMA busy_timeout={SQLITE_USUAL_WAIT_MS}")  # type: ignore[union-attr]


def new_revision(engine: Engine, message: str) -> None:
    with engine.begin() as connection:
        command.revision(alembic_config(connection=connection), message=message, autogenerate=True)
