"""Alembic environment. Called through forum/platform/migrate.py, which passes either a live
connection
(tests, `flask init-db`) or the database URL."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from forum import models  # noqa: F401  (registers the tables on Base.metadata)
from forum.db import Base, make_engine

config = context.config


def run_with(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        # SQLite can't ALTER most things; batch mode rebuilds tables instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    run_with(connection)
else:
    engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as fresh:
        run_with(fresh)
    engine.dispose()
