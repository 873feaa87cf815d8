"""Read marks are writes made while serving a GET (forum/conversation/read_marks.py through
db.write_apart): at most one per thread page view and none when the mark doesn't move, no
emptied anonymous cache, and no failed page when another writer gets in first or holds SQLite's
write lock.

The concurrency tests run on a database of their own, committed for real, so a second
connection can write while the page is being served."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, make_url, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from forum.accounts.membership import create_user
from forum.db import db_session, make_engine
from forum.discussion import posting
from forum.models import Board, CacheState, Thread, ThreadState, User
from tests.conftest import (
    PASSWORD,
    Browserish,
    Factory,
    LoginAs,
    StatementLog,
    committed_app,
    is_postgres,
)

on_sqlite = pytest.mark.skipif(is_postgres(), reason="SQLite's write lock; PostgreSQL has none")
WRITE = re.compile(r"\s*(INSERT|UPDATE|DELETE)\b", re.IGNORECASE)


def url_of(thread: Thread) -> str:
    return f"/t/{thread.id}/{thread.slug}"


def writes_for(browser: Browserish, sql: StatementLog, url: str) -> list[str]:
    sql.clear()
    assert browser.get(url).status_code == 200
    return [statement for statement in sql.statements if WRITE.match(statement)]


def mark_of(db: Session, user: User, thread: Thread) -> int | None:
    db.expire_all()
    return db.scalar(
        select(ThreadState.last_read_number).where(
            ThreadState.user_id == user.id, ThreadState.thread_id == thread.id
        )
    )


@pytest.fixture
def reader(make: Factory) -> User:
    return make.user("marking_mo")


@pytest.fixture
def long_thread(make: Factory) -> Thread:
    """25 posts: page 1 ends at post 20."""
    return make.thread(board=make.board("mark-show"), title="Two pages", replies=24)


def test_one_write_per_view_and_none_when_the_mark_does_not_move(
    db: Session, sql: StatementLog, login_as: LoginAs, reader: User, long_thread: Thread
) -> None:
    mo = login_as(reader)
    mo.get("/search")  # settings warmed: the counts are the page's own
    first_page, second_page = url_of(long_thread), f"{url_of(long_thread)}?page=2"

    first = writes_for(mo, sql, first_page)
    assert len(first) == 1 and "thread_states" in first[0]
    assert mark_of(db, reader, long_thread) == 20

    assert writes_for(mo, sql, first_page) == []  # read already

    assert len(writes_for(mo, sql, second_page)) == 1
    assert mark_of(db, reader, long_thread) == 25

    assert writes_for(mo, sql, first_page) == []  # behind the mark: it never moves back
    assert writes_for(mo, sql, second_page) == []
    assert mark_of(db, reader, long_thread) == 25


def test_a_visitors_view_writes_nothing(
    sql: StatementLog, visitor: Browserish, long_thread: Thread
) -> None:
    assert writes_for(visitor, sql, url_of(long_thread)) == []


def test_a_members_view_leaves_the_anonymous_cache_alone(
    db: Session, login_as: LoginAs, visitor: Browserish, reader: User, long_thread: Thread
) -> None:
    pages = [url_of(long_thread), f"{url_of(long_thread)}?page=2", "/b/mark-show", "/"]
    for page in pages:
        visitor.get(page)
        assert visitor.get(page).headers["X-Cache"] == "hit", page
    site_version = db.scalar(select(CacheState.version))
    thread_version = db.scalar(select(Thread.cache_version).where(Thread.id == long_thread.id))

    mo = login_as(reader)
    mo.get(url_of(long_thread))
    mo.get(f"{url_of(long_thread)}?page=2")

    assert mark_of(db, reader, long_thread) == 25
    assert db.scalar(select(CacheState.version)) == site_version
    assert (
        db.scalar(select(Thread.cache_version).where(Thread.id == long_thread.id)) == thread_version
    )
    for page in pages:
        assert visitor.get(page).headers["X-Cache"] == "hit", page


# ------------------------------------------------------------------------------ concurrency


class Forum:
    """A committed database with a member and a thread of theirs' to read."""

    def __init__(self, tmp_path: Path) -> None:
        self.app, self.url = committed_app(tmp_path, "marks", "mark_reader", "mr@example.org")
        with self.app.app_context():
            session = db_session()
            author = create_user(session, "mark_author", "ma@example.org", PASSWORD)
            board = Board(slug="busy-show", name="Busy Show")
            session.add(board)
            session.flush()
            thread = posting.create_thread(session, board, author, "Busy night", "Opening")
            for n in range(4):
                posting.add_post(session, thread, author, f"Reply {n}")
            session.commit()
            self.thread_url = url_of(thread)
            self.thread_id = thread.id

    @property
    def engine(self) -> Engine:
        engine: Engine = self.app.extensions["forum.engine"]
        return engine

    def reader(self) -> Browserish:
        browser = Browserish(self.app.test_client())
        browser.login("mark_reader")
        return browser

    def mark(self) -> int | None:
        with self.engine.connect() as connection:
            return connection.execute(
                text(
                    "SELECT last_read_number FROM thread_states s JOIN users u ON u.id = s.user_id"
                    " WHERE u.username = 'mark_reader' AND s.thread_id = :thread"
                ),
                {"thread": self.thread_id},
            ).scalar()

    @property
    def path(self) -> Path:
        return Path(str(make_url(self.url).database))

    def another_writer_commits(self) -> None:
        """A write by someone else, committed on a connection of its own."""
        if not is_postgres():
            other = sqlite3.connect(self.path, timeout=5, isolation_level=None)
            try:
                other.execute("UPDATE users SET post_count = post_count + 1")
            finally:
                other.close()
            return
        engine = make_engine(self.url)
        try:
            with engine.begin() as connection:
                connection.execute(text("UPDATE users SET post_count = post_count + 1"))
        finally:
            engine.dispose()


@pytest.fixture
def forum(tmp_path: Path) -> Iterator[Forum]:
    forum = Forum(tmp_path)
    yield forum
    forum.engine.dispose()


def test_a_writer_committing_during_the_page_does_not_fail_it(forum: Forum) -> None:
    """On SQLite the page's deferred read transaction has a snapshot older than the other
    writer's commit: writing from it would fail at once ("database is locked"). The mark is
    written in a transaction of its own instead."""
    reader = forum.reader()
    wrote: list[bool] = []

    def after_the_posts_are_read(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if not wrote and re.search(r"\bFROM posts\b", statement):
            forum.another_writer_commits()
            wrote.append(True)

    event.listen(forum.engine, "after_cursor_execute", after_the_posts_are_read)
    try:
        response = reader.get(forum.thread_url)
    finally:
        event.remove(forum.engine, "after_cursor_execute", after_the_posts_are_read)

    assert wrote == [True]
    assert response.status_code == 200
    assert "Reply 3" in response.get_data(as_text=True)
    assert forum.mark() == 5


@on_sqlite
def test_a_held_write_lock_costs_the_mark_not_the_page(
    forum: Forum, caplog: pytest.LogCaptureFixture
) -> None:
    reader = forum.reader()

    def impatient(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute("PRAGMA busy_timeout=50")

    event.listen(forum.engine, "connect", impatient)
    forum.engine.dispose()  # new connections, which wait 50 ms for the lock instead of 15 s
    holder = sqlite3.connect(forum.path, timeout=0, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        response = reader.get(forum.thread_url)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
        event.remove(forum.engine, "connect", impatient)

    assert response.status_code == 200
    assert "Reply 3" in response.get_data(as_text=True)
    assert "could not record a read mark: OperationalError" in caplog.text
    assert forum.mark() is None


@on_sqlite
def test_the_write_lock_is_taken_only_when_the_mark_moves(forum: Forum) -> None:
    """SQLite page views start deferred transactions; only a moving mark takes the write lock
    (BEGIN IMMEDIATE), once."""
    reader = forum.reader()
    begins: list[str] = []

    def note_begin(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.strip().upper().startswith("BEGIN"):
            begins.append(statement.strip().upper())

    event.listen(forum.engine, "before_cursor_execute", note_begin)
    try:
        assert reader.get(forum.thread_url).status_code == 200
        first = list(begins)
        begins.clear()
        assert reader.get(forum.thread_url).status_code == 200
        again = list(begins)
    finally:
        event.remove(forum.engine, "before_cursor_execute", note_begin)

    assert first.count("BEGIN IMMEDIATE") == 1
    assert again and "BEGIN IMMEDIATE" not in again
    assert forum.mark() == 5
