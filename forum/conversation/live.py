"""Live threads: does a thread have posts after the ones a page shows, and those posts.

A thread page polls `/t/<id>/live?after=<n>` every few seconds while it is open (static/js/
live.js): a thousand fans on a finale thread are two hundred polls a second, nearly all of them
"no news". So the answer comes from a per-process memo of each thread's post count
(`ThreadCounts`), read from the database at most once per MEMO_SECONDS per thread: within that,
a poll costs no SQL statement, no session and no member. It is only a cache of the database's
truth with a short life, so several app hosts (each with its own memo, all reading the shared
database) agree within MEMO_SECONDS, and nothing has to be told about a reply posted on another
host. A count is a number the board page prints anyway (a thread's replies, hidden and deleted
posts included), so the memo answers for anyone when the thread is visible to everyone; a
hidden thread is checked against the viewer, the slow way, so it can't be probed.

Only "no news" (a bare 204, in front of Flask: forum/views/live.py NoNewsPolls) is answered
from the memo. A poll that reaches Flask reads the thread from the database every time (and
refreshes the memo), so a thread a moderator just hid is a 404 there at once. What remains is
a window of at most MEMO_SECONDS per process in which a no-news poll of a just-hidden thread
still gets its 204: it tells no count and nothing that wasn't public a moment before.

When there is news, the page asks `/t/<id>/after/<n>` for the posts as HTML, built like the
thread page's own (presenting.post_cards: visibility, withheld spoilers, muted authors).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, joinedload

from forum.access import permissions
from forum.access.viewer import Viewer
from forum.models import Post, Thread

# How stale a count may be: a new reply shows up this much later at worst, on top of the
# page's polling interval (5 s). One statement per thread per MEMO_SECONDS per process.
MEMO_SECONDS = 1.5
# Threads remembered per process; past this the memo starts afresh (a scan of made-up ids
# must not grow a worker's memory without end).
MEMO_SIZE = 10_000
# The posts one "show" brings in; past this the bar asks for a reload (a page is 20 posts).
MAX_NEW_POSTS = 50


@dataclass(frozen=True, slots=True)
class Known:
    """What the memo knows of a thread: enough to answer a poll without the database."""

    post_count: int
    is_hidden: bool
    read_at: float  # the clock's time when this was read


# A missing thread, remembered like any other (is_hidden: so the slow path answers 404).
_MISSING = (0, True)

_COUNT = select(Thread.post_count, Thread.is_hidden).where(Thread.id == bindparam("thread_id"))


class ThreadCounts:
    """The per-process memo (one per app: app.extensions["forum.live"]). Safe under gthread
    workers: a race between two threads costs at most one extra read."""

    def __init__(
        self,
        max_age: float = MEMO_SECONDS,
        size: int = MEMO_SIZE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_age = max_age
        self.size = size
        self.clock = clock
        self._known: dict[int, Known] = {}
        self._lock = threading.Lock()

    def fresh(self, thread_id: int) -> Known | None:
        """The memo's entry when it is young enough to answer from; None: ask the database."""
        known = self._known.get(thread_id)
        if known is None or self.clock() - known.read_at > self.max_age:
            return None
        return known

    def read(self, session: Session, thread_id: int) -> Known:
        """The thread's count from the database (one statement), remembered."""
        row = session.execute(_COUNT, {"thread_id": thread_id}).first()
        count, hidden = (row.post_count, row.is_hidden) if row is not None else _MISSING
        known = Known(count, hidden, self.clock())
        with self._lock:
            if len(self._known) >= self.size and thread_id not in self._known:
                self._known.clear()
            self._known[thread_id] = known
        return known

    def forget(self, thread_id: int) -> None:
        self._known.pop(thread_id, None)


@dataclass(frozen=True)
class LivePosts:
    """The posts after `after` that a page may add, and how many there are in all."""

    thread: Thread
    posts: Sequence[Post]
    after: int
    total: int  # posts numbered after `after`, shown or not
    too_many: bool  # more than one insertion takes: the page says "reload" instead


_THREAD = (
    select(Thread).where(Thread.id == bindparam("thread_id")).options(joinedload(Thread.board))
)
_POSTS_AFTER = (
    select(Post)
    .where(Post.thread_id == bindparam("thread_id"), Post.number > bindparam("after"))
    .options(joinedload(Post.author))
    .order_by(Post.number)
    .limit(bindparam("limit"))
)


def posts_after(
    session: Session, viewer: Viewer, thread_id: int, after: int, limit: int = MAX_NEW_POSTS
) -> LivePosts | None:
    """The thread's posts numbered after `after` (at most `limit`, authors loaded), every one
    of them: as on the thread page, those the viewer may not read become stubs in
    presenting.post_cards. None when the thread is missing or hidden from `viewer`."""
    thread = session.scalar(_THREAD, {"thread_id": thread_id})
    if thread is None or not permissions.can_see_thread(viewer, thread):
        return None
    total = max(thread.post_count - after, 0)
    if total == 0 or total > limit:
        # Nothing to add, or too much for one insertion: no posts are loaded.
        return LivePosts(thread, (), after, total, too_many=total > limit)
    posts = session.scalars(
        _POSTS_AFTER, {"thread_id": thread.id, "after": after, "limit": limit}
    ).all()
    return LivePosts(thread, posts, after, total, too_many=False)
