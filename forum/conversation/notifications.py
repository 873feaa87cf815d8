"""Notifications: writing them (idempotently, at most one unread row per member, kind and
thread), reading them, and the bell's count (users.unread_notifications, kept exact here)."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from forum.db import rows_matched
from forum.discussion import markup
from forum.models import Notification, Post, User, utcnow


def post_added(session: Session, post: Post, rendered: markup.Rendered) -> None:
    """A member's new post (not committed): queue the job that notifies whoever it concerns
    (watchers, the thread's author, mentioned and quoted members), run after the commit."""


def read_in_thread(session: Session, user: User, thread_id: int, up_to_number: int) -> int:
    """Mark read the member's unread notifications about posts of the thread up to post
    `up_to_number` (they just saw them), keeping the bell's count exact; how many."""
    shown = select(Post.id).where(Post.thread_id == thread_id, Post.number <= up_to_number)
    read = rows_matched(
        session.execute(
            update(Notification)
            .where(
                Notification.user_id == user.id,
                Notification.thread_id == thread_id,
                Notification.read_at.is_(None),
                Notification.post_id.in_(shown),
            )
            .values(read_at=utcnow())
            .execution_options(synchronize_session=False)
        )
    )
    if read:
        session.execute(
            update(User)
            .where(User.id == user.id)
            .values(unread_notifications=User.unread_notifications - read)
            .execution_options(synchronize_session=False)
        )
    return read
