"""Which cached pages a write makes stale: declared by the write, turned into versions here.

Every domain function that changes rows says, next to the change, what the change shows on:

    freshness.changed(session, thread=..., board=..., user=...)  # those rows' pages
    freshness.changed(session, site=True)   # anything: moderation, settings, renames
    freshness.private(session)              # no public page: sign-ins, reports, read marks

and this module turns that into the versions the page cache keys on
(forum/platform/pagecache.py): a row's `cache_version` (its thread, board or profile page; the
board index sums its boards') or the site-wide `cache_state` version (every page). Both are
bumped at once, in the declaring transaction, so they commit or roll back with the change.
Statements that update the row anyway (posting's counters) bump the version in the same
statement with `next_version` and declare with `bumped=True`, which costs no statement.

An UNDECLARED write is treated as a site-wide change at commit, and logged. Serving one stale
page is a bug nobody sees until a fan complains; emptying the cache once is a cost that shows in
the log and the benchmark. So forgetting to declare costs speed, never correctness, and
tests/test_freshness.py holds every write it walks to a declaration.

Only the app's own sessions are watched: `init_app` asks forum/db.py to set up each session
factory the app uses before its first session (the tests swap the factory for one bound to a
rolled-back connection), and nothing is registered on SQLAlchemy's Session class, so sessions
that scripts or other apps in the process create are left alone.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, has_request_context, request
from sqlalchemy import ColumnElement, event, update
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction, sessionmaker

from forum import db
from forum.models import Board, CacheState, Thread, User

log = logging.getLogger(__name__)

_ROW_MODELS: dict[str, type[Board] | type[Thread] | type[User]] = {
    "thread": Thread,
    "board": Board,
    "user": User,
}
# session.info keys; cleared when a transaction ends.
_WROTE = "freshness.wrote"
_DECLARED = "freshness.declared"
_SITE_BUMPED = "freshness.site_bumped"


def next_version(model: type[Board] | type[Thread] | type[User]) -> ColumnElement[int]:
    """`cache_version + 1`, for a statement that updates the row anyway; declare it with
    `changed(..., bumped=True)`."""
    return model.cache_version + 1


def changed(
    session: Session,
    *,
    thread: int | None = None,
    board: int | None = None,
    user: int | None = None,
    site: bool = False,
    bumped: bool = False,
) -> None:
    """Declare that this transaction changes what the pages of these rows show (by id), or with
    `site=True` what any page may show. Unless `bumped` (the caller's own UPDATE already ran
    `next_version`), each row's version is bumped here, one statement each; the site-wide
    version at most once per transaction."""
    _declare(session)
    if not bumped:
        for name, row_id in (("thread", thread), ("board", board), ("user", user)):
            if row_id is not None:
                model = _ROW_MODELS[name]
                session.execute(
                    update(model)
                    .where(model.id == row_id)
                    .values(cache_version=next_version(model))
                    .execution_options(synchronize_session=False)
                )
    if site and not session.info.get(_SITE_BUMPED):
        session.execute(update(CacheState).values(version=CacheState.version + 1))
        session.info[_SITE_BUMPED] = True


def private(session: Session) -> None:
    """Declare that this transaction's writes show on no cached page (sign-in rows, a
    session's last visit, reports, read marks): every cached page stays valid."""
    _declare(session)


def _declare(session: Session) -> None:
    # A declaration belongs to the transaction it is made in (forgotten when that ends), so
    # one made before any statement opens the transaction rather than outliving it.
    if not session.in_transaction():
        session.begin()
    session.info[_DECLARED] = True


# ---------------------------------------------------------------- the undeclared default


def _note_statement_write(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        state.session.info[_WROTE] = True


def _note_flush(session: Session, _context: Any) -> None:
    session.info[_WROTE] = True


def _before_commit(session: Session) -> None:
    # Pending attribute changes (a pin, a rename) are flushed only after this hook, so flush
    # them now: that is what marks the transaction as writing.
    session.flush()
    if session.info.get(_WROTE) and not session.info.get(_DECLARED):
        where = f"{request.method} {request.path}" if has_request_context() else "outside a request"
        log.info("undeclared write (%s): every cached page is treated as stale", where)
        changed(session, site=True)


def _transaction_ended(session: Session, transaction: SessionTransaction) -> None:
    # Committed, rolled back or closed; a nested savepoint's end leaves its transaction's
    # declarations standing.
    if transaction.parent is None:
        for key in (_WROTE, _DECLARED, _SITE_BUMPED):
            session.info.pop(key, None)


def _watch(maker: sessionmaker[Session]) -> None:
    """Listen on this factory's sessions only (SQLAlchemy gives each sessionmaker a Session
    subclass of its own, which is what these listeners attach to)."""
    event.listen(maker, "do_orm_execute", _note_statement_write)
    event.listen(maker, "after_flush", _note_flush)
    event.listen(maker, "before_commit", _before_commit)
    event.listen(maker, "after_transaction_end", _transaction_ended)


def init_app(app: Flask) -> None:
    db.prepare_sessions(app, _watch)
