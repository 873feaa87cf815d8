"""Alembic environment. Called through forum/platform/migrate.py, which passes either a live
connection
(tests, `flask init-db`) or the database URL.

Full-text search keeps objects the models don't describe (forum/search/search_sqlite.py,
search_postgres.py): SQLite's FTS5 table `search_fts` with its shadow tables and the triggers
on `search_documents`, PostgreSQL's generated `vector` column and its GIN index. `include_object`
hides them from autogenerate, so it never proposes dropping them; and since a batch migration
on SQLite rebuilds a table by copying it, which drops the table's triggers, every upgrade on
SQLite ends by putting the search triggers back where they are missing.
"""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy import Connection, inspect

from forum import models  # noqa: F401  (registers the tables on Base.metadata)
from forum.db import Base, make_engine
from forum.search import search_postgres, search_sqlite

config = context.config


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    """Leave full-text search's engine objects out of autogenerate's comparison."""
    if not reflected or name is None:
        return True
    if type_ == "table" and name.startswith(search_sqlite.OBJECT_PREFIX):
        return False
    table = getattr(getattr(obj, "table", None), "name", None)
    if type_ == "column" and table == "search_documents":
        return name not in search_postgres.UNMAPPED_COLUMNS
    return not (type_ == "index" and name in search_postgres.UNMAPPED_INDEXES)


def restore_search_triggers(connection: Connection) -> None:
    """Recreate the FTS5 table's triggers a batch migration may have dropped (SQLite only;
    nothing to do before the search migration ran or after its downgrade)."""
    if connection.dialect.name != "sqlite":
        return
    tables = set(inspect(connection).get_table_names())
    if {"search_documents", "search_fts"} <= tables:
        search_sqlite.install(connection)


def run_with(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        # SQLite can't ALTER most things; batch mode rebuilds tables instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_object=include_object,
    )
    with context.begin_transaction():
        context.run_migrations()
        if not context.is_offline_mode():
            restore_search_triggers(connection)


connection = config.attributes.get("connection")
if connection is not None:
    run_with(connection)
else:
    engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as fresh:
        run_with(fresh)
    engine.dispose()
