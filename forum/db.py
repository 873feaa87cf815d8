"""Engine, session factory and the one-session-per-request lifecycle.

Views get the request's session from `db_session()`; the view commits once. Domain functions
receive a session and never commit. Tests rebind the sessionmaker to a connection that rolls back.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, cast
from weakref import WeakSet

from flask import Flask, current_app, g, has_request_context, request
from sqlalchemy import MetaData, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import CursorResult, Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

log = logging.getLogger(__name__)

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def make_engine(url: str, echo: bool = False) -> Engine:
    options: dict[str, Any] = {"echo": echo}
    if url.startswith("sqlite"):
        # Writers wait for the lock instead of failing with "database is locked".
        options["connect_args"] = {"timeout": 15}
    else:
        options["pool_pre_ping"] = True
        # A host that drops packets would hold a request (or /readyz) until TCP gives up.
        options["connect_args"] = {"connect_timeout": 5}
    engine = create_engine(url, **options)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
    return engine


READ_METHODS = {"GET", "HEAD", "OPTIONS"}


def _sqlite_begin(connection: Any) -> None:
    """Anything that may write (POST requests, CLI commands, scripts) takes SQLite's write lock
    when its transaction starts (BEGIN IMMEDIATE), waiting up to the busy timeout. A deferred
    transaction that reads first and writes later fails at once with "database is locked" when
    another writer got in between. Page views stay deferred, so readers never wait."""
    reading = (
        has_request_context()
        and not g.get("sqlite_writes_apart", False)
        and (request.method in READ_METHODS or g.get("sqlite_reads_first", False))
    )
    connection.exec_driver_sql("BEGIN" if reading else "BEGIN IMMEDIATE")


@contextmanager
def reads_first(session: Session) -> Iterator[None]:
    """Run slow work that only reads (checking a password) outside SQLite's write lock.

    A POST takes the write lock with its first statement and holds it to the commit, so an
    Argon2id check after a lookup would stall every other writer for half a second. Inside this
    block the transaction starts as a plain deferred one; on leaving it is committed (it wrote
    nothing), so the request's writes start a transaction of their own, BEGIN IMMEDIATE again.
    No effect on PostgreSQL, where readers never block writers."""
    g.sqlite_reads_first = True
    try:
        yield
    finally:
        g.sqlite_reads_first = False
    session.commit()


def write_apart(session: Session, work: Callable[[Session], None], *, what: str) -> bool:
    """Run `work`, writes made while serving a GET (a session's last visit; later read marks),
    in a short transaction of its own, and say whether it committed. A failure is logged (as
    "could not record <what>") and rolled back, never an error page.

    On SQLite a GET's transaction is deferred: it reads from a snapshot, and when it then
    writes after another writer committed, SQLite refuses at once with "database is locked"
    (the snapshot is stale; the busy timeout doesn't apply). So the read transaction is ended
    first, and `work` runs in one that starts with BEGIN IMMEDIATE, waiting for the write lock
    like any writer; the page's later reads start a deferred one again. `work` declares what
    it changes (forum/platform/freshness.py): `freshness.private` for what no page shows, so
    the page cache is left alone."""
    try:
        session.commit()  # the read transaction wrote nothing: this only ends it
        g.sqlite_writes_apart = True
        try:
            work(session)
            session.commit()
        finally:
            g.sqlite_writes_apart = False
    except SQLAlchemyError as error:
        session.rollback()
        log.warning("could not record %s: %s", what, error.__class__.__name__)
        return False
    return True


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy's "begin" event issue BEGIN itself (pysqlite's own handling is lazy).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=15000")
    cursor.close()


def init_app(app: Flask) -> None:
    engine = make_engine(app.config["DATABASE_URL"], echo=app.config["SQL_ECHO"])
    app.extensions["forum.engine"] = engine
    app.extensions["forum.sessionmaker"] = sessionmaker(bind=engine, expire_on_commit=False)
    app.teardown_appcontext(_close_session)


def prepare_sessions(app: Flask, prepare: Callable[[sessionmaker[Session]], None]) -> None:
    """Have `prepare` set up (listen on) every session factory this app uses, before its first
    session. Factories rather than the Session class, so nothing done here reaches sessions
    the app doesn't own; and on first use rather than now, because the tests swap the factory
    for one bound to a rolled-back connection after the app is built."""
    app.extensions.setdefault("forum.session_setup", []).append(prepare)


_prepared: WeakSet[sessionmaker[Session]] = WeakSet()


def session_factory(app: Flask) -> sessionmaker[Session]:
    """The app's session factory, set up by every prepare_sessions caller (once)."""
    maker: sessionmaker[Session] = app.extensions["forum.sessionmaker"]
    if maker not in _prepared:
        for prepare in app.extensions.get("forum.session_setup", ()):
            prepare(maker)
        _prepared.add(maker)
    return maker


def db_session() -> Session:
    """The session of the current request (or CLI command), created on first use."""
    if "db_session" not in g:
        g.db_session = session_factory(current_app)()
    return cast(Session, g.db_session)


def upsert(session: Session, model: type[Any]) -> Any:
    """An INSERT into `model`'s table that takes ON CONFLICT (`.on_conflict_do_update`,
    `.on_conflict_do_nothing`, `.excluded`): the dialect's own, since the clause is spelled the
    same on SQLite and PostgreSQL but core `insert()` has none."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(model)
    return sqlite.insert(model)


def engine() -> Engine:
    return cast(Engine, current_app.extensions["forum.engine"])


def rows_matched(result: object) -> int:
    """How many rows an UPDATE or DELETE matched. Session.execute() is typed as returning a
    plain Result, which has no rowcount; for those statements it is a CursorResult, which does."""
    if not isinstance(result, CursorResult):
        raise TypeError(f"{type(result).__name__} counts no rows: pass an UPDATE's or DELETE's")
    return result.rowcount


def _close_session(_exc: BaseException | None) -> None:
    session: Session | None = g.pop("db_session", None)
    if session is not None:
        session.close()
