"""Reading a thread page marks what it showed as read: a write made while serving a GET. So do
the new posts the live bar brings in (/t/<id>/after/<n>, forum/views/live.py): they were shown.

It goes through db.write_apart (its own short transaction after the page's reads: no SQLite
read-transaction upgrade, a failure is logged and the page still answers), declares itself
private (no cached page shows a member's read marks, so the anonymous cache keeps every page),
and runs only when the mark moves: re-reading a page writes nothing. The same transaction
marks read the member's notifications about the posts the page showed. Visitors cost nothing:
no statement is made for them."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from forum.access.viewer import Viewer
from forum.conversation import notifications, thread_states
from forum.db import write_apart
from forum.discussion.reading import ThreadListing
from forum.models import ThreadState, User
from forum.platform import freshness


def mark_page_read(session: Session, viewer: Viewer, listing: ThreadListing) -> bool:
    """Record that `viewer` read `listing`'s posts; whether anything was written. At most one
    read-mark statement, none when the page holds nothing past the member's mark."""
    user = viewer.user
    if user is None or not listing.posts:
        return False
    before = listing.state.last_read_number if listing.state is not None else 0
    return _record(session, user, listing.thread.id, before, listing.posts[-1].number)


def mark_shown_read(session: Session, viewer: Viewer, thread_id: int, shown: int) -> bool:
    """Record that `viewer` was shown the thread's posts up to number `shown` (the live bar's
    new posts); whether anything was written. For a member: one statement reads their mark,
    and one write moves it (none when it doesn't move); for a visitor, nothing at all."""
    user = viewer.user
    if user is None or shown <= 0:
        return False
    before = session.scalar(
        select(ThreadState.last_read_number).where(
            ThreadState.user_id == user.id, ThreadState.thread_id == thread_id
        )
    )
    return _record(session, user, thread_id, before or 0, shown)


def _record(session: Session, user: User, thread_id: int, before: int, shown: int) -> bool:
    if shown <= before:
        return False
    has_unread = user.unread_notifications > 0

    def record(writing: Session) -> None:
        freshness.private(writing)
        thread_states.upsert_read_mark(writing, user.id, thread_id, shown)
        if has_unread:
            notifications.read_in_thread(writing, user, thread_id, shown)

    return write_apart(session, record, what="a read mark")
