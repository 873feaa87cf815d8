"""What the read pages print, worked out in Python before the template runs.

A thread page shows twenty posts, each with links, dates and buttons that depend on who is
looking. Asking the permission functions, `url_for` and the date filters from inside the
template's loop costs more than the rest of the page together (docs/performance.md), so the
loop gets `PostCard`s instead: the post, its precomputed links and dates, and one flag per
button. The flags come from forum/access/permissions.py, so a button still shows exactly when the
action behind it is allowed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from forum.access import permissions
from forum.access.viewer import Viewer
from forum.models import Post, Thread, User
from forum.platform.links import link


def time_ago(moment: datetime | None, now: datetime | None = None) -> str:
    if moment is None:
        return "never"
    seconds = int(((now or datetime.now(UTC)) - moment).total_seconds())
    if seconds < 60:
        return "just now"
    for size, unit in (
        (31_536_000, "year"),
        (2_592_000, "month"),
        (604_800, "week"),
        (86_400, "day"),
        (3_600, "hour"),
        (60, "minute"),
    ):
        if seconds >= size:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''} ago"
    return "just now"


def iso(moment: datetime | None) -> str:
    return moment.isoformat(timespec="seconds") if moment else ""


def long_date(moment: datetime | None) -> str:
    return f"{moment:%B} {moment.day}, {moment.year}" if moment else ""


@dataclass(frozen=True, slots=True)
class Moment:
    """A timestamp as a page prints it: <time datetime="iso" title="long">ago</time>."""

    iso: str
    long: str
    ago: str

    @classmethod
    def of(cls, moment: datetime, now: datetime) -> Moment:
        return cls(iso(moment), long_date(moment), time_ago(moment, now))


@dataclass(frozen=True, slots=True)
class Author:
    name: str
    url: str
    role: str
    avatar_colour: int
    initial: str


@dataclass(frozen=True, slots=True)
class PostCard:
    """A post as one viewer sees it. A button's URL is None when the viewer may not use it."""

    post: Post
    author: Author | None  # None: the account was deleted
    url: str  # the permalink
    posted: Moment
    edited: str  # the long date of the last edit, or "" when never edited
    shows_text: bool  # False: a "removed by a moderator" stub instead of the text
    edit_url: str | None
    delete_url: str | None
    revisions_url: str | None
    report_url: str | None
    can_moderate: bool  # whether to include mod/_post_tools.html


def author_of(user: User | None, cache: dict[int, Author]) -> Author | None:
    if user is None:
        return None
    if user.id not in cache:
        cache[user.id] = Author(
            user.username,
            link("users.profile", username=user.username),
            user.role,
            user.id % 8,
            user.username[:1].upper(),
        )
    return cache[user.id]


def post_cards(posts: Sequence[Post], thread: Thread, viewer: Viewer) -> list[PostCard]:
    """One card per post (authors loaded), as `viewer` sees it."""
    now = datetime.now(UTC)
    authors: dict[int, Author] = {}
    # mod/_post_tools.html decides per post what a moderator's tools offer.
    moderator = permissions.can_moderate_post(viewer, thread)
    cards = []
    for post in posts:
        can_edit = permissions.can_edit_post(viewer, post, thread)
        cards.append(
            PostCard(
                post=post,
                author=author_of(post.author, authors),
                url=link("threads.permalink", post_id=post.id),
                posted=Moment.of(post.created_at, now),
                edited=long_date(post.edited_at) if post.edited_at and not post.is_deleted else "",
                shows_text=permissions.can_see_post_text(viewer, post, thread),
                edit_url=link("threads.edit", post_id=post.id) if can_edit else None,
                delete_url=link("threads.delete", post_id=post.id) if can_edit else None,
                revisions_url=link("history.revisions", post_id=post.id)
                if permissions.can_see_revisions(viewer, post, thread)
                else None,
                report_url=link("reports.report", post_id=post.id)
                if permissions.can_report(viewer, post)
                else None,
                can_moderate=moderator,
            )
        )
    return cards


@dataclass(frozen=True, slots=True)
class ThreadRow:
    """A thread in a board's list."""

    thread: Thread
    url: str
    author: Author | None
    started: Moment
    last_post_url: str | None  # None: the thread has no posts left to link to
    last_poster: Author | None
    last_posted: Moment
    # Hidden by a moderator: only the board's moderators get such rows, marked "Hidden".
    hidden: bool


def thread_rows(threads: Sequence[Thread]) -> list[ThreadRow]:
    """One row per thread (author and last poster loaded)."""
    now = datetime.now(UTC)
    authors: dict[int, Author] = {}
    return [
        ThreadRow(
            thread=thread,
            url=link("threads.thread", thread_id=thread.id, slug=thread.slug),
            author=author_of(thread.author, authors),
            started=Moment.of(thread.created_at, now),
            last_post_url=link("threads.permalink", post_id=thread.last_post_id)
            if thread.last_post_id
            else None,
            last_poster=author_of(thread.last_poster, authors),
            last_posted=Moment.of(thread.last_post_at, now),
            hidden=thread.is_hidden,
        )
        for thread in threads
    ]
