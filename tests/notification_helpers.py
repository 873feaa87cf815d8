"""Shared steps of the notification tests: posting through HTTP as a member does, and reading
the bell from the header's bytes."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from forum.models import Board, Notification, Post, Thread, User
from tests.conftest import Browserish, fresh

BELL_COUNT = re.compile(r'class="count-badge">(\d+|99\+)<')
BELL = re.compile(r'<a class="bell[^"]*"')


def bell(browser: Browserish) -> int:
    """The unread count the header's bell shows (0 when it shows none); from /search, an
    uncached page with the header."""
    page = browser.get("/search").get_data(as_text=True)
    assert BELL.search(page), "the bell is in the header of a member's page"
    found = BELL_COUNT.search(page[page.index('class="bell') :])
    return int(found.group(1)) if found else 0


def reply(browser: Browserish, thread: Thread, body: str) -> None:
    response = browser.post(
        f"/t/{thread.id}/reply", {"body": body}, page=f"/t/{thread.id}/{thread.slug}"
    )
    assert response.status_code == 302, response.get_data(as_text=True)


def start_thread(db: Session, browser: Browserish, board: Board, title: str, body: str) -> Thread:
    response = browser.post(
        f"/b/{board.slug}/new", {"title": title, "body": body}, page=f"/b/{board.slug}/new"
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    db.expire_all()
    thread = db.scalar(
        select(Thread).where(Thread.title == title).order_by(Thread.id.desc()).limit(1)
    )
    assert thread is not None
    return thread


def latest_post(db: Session, thread: Thread) -> Post:
    db.expire_all()
    post = db.scalar(
        select(Post).where(Post.thread_id == thread.id).order_by(Post.number.desc()).limit(1)
    )
    assert post is not None
    return post


def rows_of(db: Session, user: User) -> list[Notification]:
    db.expire_all()
    return list(
        db.scalars(
            select(Notification).where(Notification.user_id == user.id).order_by(Notification.id)
        )
    )


def unread_of(db: Session, user: User) -> int:
    fresh(db, user)
    return user.unread_notifications


def notifications_page(browser: Browserish, page: int = 1) -> str:
    response = browser.get("/notifications" + (f"?page={page}" if page > 1 else ""))
    assert response.status_code == 200
    return response.get_data(as_text=True)
