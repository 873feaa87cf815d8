"""Running Alembic from the app: `flask init-db`, `flask db revision`, and the test fixtures."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection
from sqlalchemy.engine import Engine

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(url: str | None = None, connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if url:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    with _migrating(engine) as connection:
        command.upgrade(alembic_config(connection=connection), revision)


def downgrade(engine: Engine, revision: str) -> None:
    with _migrating(engine) as connection:
        command.downgrade(alembic_config(connection=connection), revision)


@contextmanager
def _migrating(engine: Engine) -> Iterator[Connection]:
    """A transaction for migrations. On SQLite, foreign keys are off meanwhile: batch mode
    rebuilds a table by copying it and dropping the old one, and with foreign keys on, the drop
    would fire ON DELETE SET NULL on every row pointing at it (wiping post authors)."""
    with engine.connect() as connection:
        sqlite = engine.dialect.name == "sqlite"
        raw = connection.connection.dbapi_connection
        if sqlite:
            # Must run outside a transaction, or SQLite ignores it.
            raw.execute("PRAGMA foreign_keys=OFF")  # type: ignore[union-attr]
        try:
            with connection.begin():
                yield connection
                if sqlite:
                    problems = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
                    if problems:
                        raise RuntimeError(f"migration broke foreign keys: {problems[:5]}")
        finally:
            if sqlite:
                raw.execute("PRAGMA foreign_keys=ON")  # type: ignore[union-attr]


def new_revision(engine: Engine, message: str) -> None:
    with engine.begin() as connection:
        command.revision(alembic_config(connection=connection), message=message, autogenerate=True)
