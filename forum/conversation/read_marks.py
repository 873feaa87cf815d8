"""Reading a thread page marks what it showed as read: a write made while serving a GET.

It goes through db.write_apart (its own short transaction after the page's reads: no SQLite
read-transaction upgrade, a failure is logged and the page still answers), declares itself
private (no cached page shows a member's read marks, so the anonymous cache keeps every page),
and runs only when the mark moves: re-reading a page writes nothing. The same transaction
marks read the member's notifications about the posts the page showed."""

from __future__ import annotations

from sqlalchemy.orm import Session

from forum.access.viewer import Viewer
from forum.conversation import notifications, thread_states
from forum.db import write_apart
from forum.discussion.reading import ThreadListing
from forum.platform import freshness


def mark_page_read(session: Session, viewer: Viewer, listing: ThreadListing) -> bool:
    """Record that `viewer` read `listing`'s posts; whether anything was written. At most one
    read-mark statement, none when the page holds nothing past the member's mark."""
    user = viewer.user
    if user is None or not listing.posts:
        return False
    shown = listing.posts[-1].number
    before = listing.state.last_read_number if listing.state is not None else 0
    if shown <= before:
        return False
    thread_id = listing.thread.id
    has_unread = user.unread_notifications > 0

    def record(writing: Session) -> None:
        freshness.private(writing)
        thread_states.upsert_read_mark(writing, user.id, thread_id, shown)
        if has_unread:
            notifications.read_in_thread(writing, user, thread_id, shown)

    return write_apart(session, record, what="a read mark")
