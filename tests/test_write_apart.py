"""Writes made while serving a GET (a session's last visit; later read marks) go through
db.write_apart: they neither empty the page cache nor hit SQLite's read-transaction upgrade
failure ("database is locked" when a deferred transaction that has read tries to write after
another writer committed).

The SQLite tests run on a database file of their own, committed for real, so a second
connection can write in between."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import make_url, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from forum.db import db_session, write_apart
from forum.models import AuthSession, Board, CacheState, User, utcnow
from forum.platform import freshness
from tests.conftest import (
    Browserish,
    Factory,
    committed_app,
    is_postgres,
    write_lock_is_free,
)

on_sqlite = pytest.mark.skipif(is_postgres(), reason="SQLite's deferred transactions")


@pytest.fixture
def database(tmp_path: Path) -> tuple[Flask, Path]:
    app, url = committed_app(tmp_path, "apart", "apart_ada", "ada@example.org")
    return app, Path(str(make_url(url).database))


def another_writer_commits(path: Path) -> None:
    other = sqlite3.connect(path, timeout=5, isolation_level=None)
    try:
        other.execute("UPDATE users SET post_count = post_count + 1")
    finally:
        other.close()


def note_visit(db: Session) -> None:
    db.execute(update(User).values(post_count=User.post_count + 10))
    freshness.private(db)


@on_sqlite
def test_without_it_a_get_that_read_cannot_write_after_another_commit(
    database: tuple[Flask, Path],
) -> None:
    app, path = database
    with app.test_request_context("/", method="GET"):
        session = db_session()
        session.scalar(select(User.id))  # a page's read: its deferred transaction has a snapshot
        another_writer_commits(path)

        with pytest.raises(OperationalError, match="database is locked"):
            session.execute(update(User).values(post_count=User.post_count + 10))
        session.rollback()


@on_sqlite
def test_with_it_the_same_write_waits_its_turn_and_commits(
    database: tuple[Flask, Path],
) -> None:
    app, path = database
    with app.test_request_context("/", method="GET"):
        session = db_session()
        session.scalar(select(User.id))
        another_writer_commits(path)

        assert write_apart(session, note_visit, what="a visit") is True

        # The page reads on, in a deferred transaction again.
        assert session.scalar(select(User.post_count)) == 11  # the other writer's 1, and ours
        assert write_lock_is_free(path)
        session.rollback()


@on_sqlite
def test_its_work_holds_the_write_lock_from_its_first_statement(
    database: tuple[Flask, Path],
) -> None:
    """A work that reads before it writes can't be overtaken in between: its transaction
    starts with BEGIN IMMEDIATE, not a deferred BEGIN."""
    app, path = database
    seen: list[bool] = []

    def read_then_write(db: Session) -> None:
        db.scalar(select(User.id))
        seen.append(write_lock_is_free(path))
        note_visit(db)

    with app.test_request_context("/", method="GET"):
        assert write_apart(db_session(), read_then_write, what="a visit") is True
    assert seen == [False]


@on_sqlite
def test_a_failure_is_logged_and_the_page_goes_on(
    database: tuple[Flask, Path], caplog: pytest.LogCaptureFixture
) -> None:
    app, path = database
    holder = sqlite3.connect(path, timeout=0, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with app.test_request_context("/", method="GET"):
            session = db_session()
            session.connection().exec_driver_sql("PRAGMA busy_timeout=50")
            assert write_apart(session, note_visit, what="a visit") is False
            assert session.scalar(select(User.username)) == "apart_ada"
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert "could not record a visit: OperationalError" in caplog.text


def test_a_members_stale_visit_is_recorded_and_leaves_the_cache_alone(
    app: Flask, make: Factory, db: Session
) -> None:
    board = make.board("apart-board")
    member = make.user("touching_tom")
    visitor = Browserish(app.test_client())
    visitor.get("/b/apart-board")
    assert visitor.get("/b/apart-board").headers["X-Cache"] == "hit"
    browser = Browserish(app.test_client())
    browser.login(member.username)
    an_hour_ago = utcnow() - timedelta(hours=1)
    db.execute(update(AuthSession).values(last_seen_at=an_hour_ago))
    freshness.private(db)
    db.commit()
    version = db.scalar(select(CacheState.version))

    assert browser.get(f"/b/{board.slug}").status_code == 200

    db.expire_all()
    assert db.scalar(select(AuthSession.last_seen_at)) > an_hour_ago
    assert db.scalar(select(CacheState.version)) == version
    assert db.scalar(select(Board.cache_version).where(Board.id == board.id)) == 0
    assert visitor.get("/b/apart-board").headers["X-Cache"] == "hit"
