"""The search index's cost on disk and in time: its size (per object, and per 1M posts), and how
long indexing an existing forum from nothing takes (what migration 0011 does when it upgrades a
forum: every post's document written, the FTS5 table or GIN index filled as they are).

Indexing from nothing is timed on a throwaway copy of the dataset (SQLite: a backup of the file;
PostgreSQL: CREATE DATABASE ... TEMPLATE), emptied of its documents, then `flask search
reindex`, which writes every one; the copy is removed after.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bench.dataset import RESULTS, drop_database, flask

# An index object's name ends so when its bytes are part of another object (not added up).
WITHIN = " (within)"


def index_from_empty_seconds(url: str) -> float:
    """Seconds `flask search reindex` takes to index every post of the dataset at `url` from
    an empty index, measured on a copy."""
    if url.startswith("sqlite"):
        copy = RESULTS / "reindex-copy.sqlite3"
        _sqlite_empty_copy(make_url(url).database or "", copy)
        target = f"sqlite:///{copy}"
    else:
        target = _postgres_empty_copy(url)
    try:
        started = time.perf_counter()
        flask(target, "search", "reindex")
        return round(time.perf_counter() - started, 1)
    finally:
        if url.startswith("sqlite"):
            for suffix in ("", "-wal", "-shm"):
                Path(f"{copy}{suffix}").unlink(missing_ok=True)
        else:
            drop_database(target)


def _sqlite_empty_copy(source: str, copy: Path) -> None:
    """A copy of the database with no search documents and an empty FTS5 index. The delete
    triggers are set aside while the documents go (FTS5's own 'delete-all' empties the index at
    once, instead of a 'delete' per row) and put back as they were."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{copy}{suffix}").unlink(missing_ok=True)
    with closing(sqlite3.connect(source)) as original, closing(sqlite3.connect(copy)) as db:
        original.backup(db)
        virtual = [
            name
            for (name,) in db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND sql LIKE 'CREATE VIRTUAL TABLE%USING fts5%'"
            )
        ]
        triggers = db.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
            "AND tbl_name = 'search_documents'"
        ).fetchall()
        with db:
            for name, _sql in triggers:
                db.execute(f'DROP TRIGGER "{name}"')
            db.execute("DELETE FROM search_documents")
            for table in virtual:
                db.execute(f'INSERT INTO "{table}"("{table}") VALUES (\'delete-all\')')
            for _name, sql in triggers:
                db.execute(sql)
        db.execute("VACUUM")


def _postgres_empty_copy(url: str) -> str:
    source = make_url(url)
    target = source.set(database=f"{source.database}_reindex")
    admin = create_engine(source.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
            connection.execute(
                text(f'CREATE DATABASE "{target.database}" TEMPLATE "{source.database}"')
            )
    finally:
        admin.dispose()
    rendered = target.render_as_string(hide_password=False)
    engine = create_engine(rendered, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text("TRUNCATE search_documents"))
            connection.execute(text("VACUUM ANALYZE search_documents"))
    finally:
        engine.dispose()
    return rendered


def _on(url: str, read: Callable[[Any], Any]) -> Any:
    """What `read` returns from a connection to the database at `url`."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return read(connection)
    finally:
        engine.dispose()


def _scalar(url: str, statement: str) -> int:
    return int(_on(url, lambda connection: connection.scalar(text(statement))) or 0)


def index_size(url: str) -> dict[str, Any]:
    """The search index's size on disk: each object's bytes, their total, the whole database's,
    the posts counted, and the total scaled to 1M posts.

    SQLite: the pages (dbstat's pgsize) of every FTS5 table's shadow tables and of every table or
    index named *search*. PostgreSQL: pg_total_relation_size of every relation named *search*
    and of every GIN index, plus the stored tsvector columns (pg_column_size over their rows,
    TOAST included), which live inside the posts and threads tables' own pages."""
    if url.startswith("sqlite"):
        objects = sqlite_index_objects(make_url(url).database or "")
        whole = _sqlite_file_bytes(make_url(url).database or "")
    else:
        objects = _on(url, _postgres_index_objects)
        whole = _scalar(url, "SELECT pg_database_size(current_database())")
    posts = _scalar(url, "SELECT COUNT(*) FROM posts")
    total = sum(size for name, size in objects.items() if not name.endswith(WITHIN))
    return {
        "objects": objects,
        "total_bytes": total,
        "database_bytes": whole,
        "posts": posts,
        "per_million_posts_bytes": round(total * 1_000_000 / max(posts, 1)),
    }


def sqlite_index_objects(path: str) -> dict[str, int]:
    with closing(sqlite3.connect(path)) as db:
        virtual = [
            name
            for (name,) in db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND sql LIKE 'CREATE VIRTUAL TABLE%USING fts5%'"
            )
        ]
        named = {
            name
            for name, table in db.execute(
                "SELECT name, tbl_name FROM sqlite_master WHERE type IN ('table', 'index')"
            )
            if "search" in name.casefold()
            or "search" in table.casefold()
            or any(name == v or name.startswith(f"{v}_") for v in virtual)
            or any(table == v or table.startswith(f"{v}_") for v in virtual)
        }
        sizes = dict(db.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name").fetchall())
    return {name: int(sizes[name]) for name in sorted(named) if sizes.get(name)}


def _sqlite_file_bytes(path: str) -> int:
    with closing(sqlite3.connect(path)) as db:
        pages = db.execute("PRAGMA page_count").fetchone()[0]
        size = db.execute("PRAGMA page_size").fetchone()[0]
    return int(pages * size)


def _postgres_index_objects(connection: Any) -> dict[str, Any]:
    """Tables named *search* (pg_table_size: heap, TOAST, maps) and indexes on them or named
    *search* or of the GIN method (pg_relation_size), each on its own; stored tsvector columns
    of other tables (their bytes are inside those tables). The tsvector columns of the search
    tables are reported apart, as `<table>.<column> (within)`, and not added to the total."""
    relations = connection.execute(
        text(
            "SELECT c.relname, c.relkind, "
            "CASE c.relkind WHEN 'i' THEN pg_relation_size(c.oid) ELSE pg_table_size(c.oid) END "
            "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "LEFT JOIN pg_am a ON a.oid = c.relam "
            "LEFT JOIN pg_index i ON i.indexrelid = c.oid "
            "LEFT JOIN pg_class t ON t.oid = i.indrelid "
            "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'i', 'm') "
            "AND (c.relname ILIKE '%search%' OR a.amname = 'gin' OR t.relname ILIKE '%search%') "
            "ORDER BY c.relkind DESC, c.relname"
        )
    ).all()
    objects: dict[str, Any] = {name: int(size) for name, _kind, size in relations}
    columns = connection.execute(
        text(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND udt_name = 'tsvector' "
            "ORDER BY table_name, column_name"
        )
    ).all()
    for table, column in columns:
        stored = connection.scalar(
            text(f'SELECT COALESCE(SUM(pg_column_size("{column}")), 0) FROM "{table}"')
        )
        within = "search" in table.casefold()
        objects[f"{table}.{column}{WITHIN if within else ''}"] = int(stored)
    return objects
