"""Loaders for what feed readers get: the Atom feeds (the sitemaps: sitemap_reading.py).

They are the same for everyone (cached and shared, forum/platform/pagecache.serve_document),
so they are always built as a visitor sees the site (`public_viewer`): hidden threads and posts
never load (access/visibility.py), threads and posts about episodes past the visitor boundary
are left out, titles go through spoilers.thread_title. Post HTML is the stored, sanitised HTML
with every spoiler cut out (`feed_html`): a feed reader shows no CSS and no checkbox, so a
spoiler it got would be in plain sight. Each loader runs a fixed number of statements.

Links are absolute, on FORUM_PUBLIC_URL (platform/publicurl.py), built once per endpoint and
filled in per row (`absolute_links`), as platform/links.py does for pages.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol
from urllib.parse import quote

from flask import current_app
from sqlalchemy import and_, select
from sqlalchemy.orm import Session, contains_eager, joinedload

from forum.access import spoilers
from forum.access.viewer import VISITOR, Viewer
from forum.access.visibility import (
    readable_posts,
    unspoiled_posts,
    unspoiled_threads,
    visible_threads,
)
from forum.discussion.spoiler_html import withhold_every
from forum.models import Board, Post, Thread, User, utcnow
from forum.platform.publicurl import external_url
from forum.platform.settings import get_settings

# How many threads the site and board feeds list, and posts a thread's feed.
FEED_THREADS = 30
FEED_POSTS = 20


def public_viewer(session: Session) -> Viewer:
    """The visitor, with today's visitor boundary on every board: what anyone may see. The
    episodes come from the settings' per-process cache: no statement."""
    return spoilers.with_limits(
        VISITOR,
        get_settings(session).episodes,
        utcnow().date(),
        current_app.config["SPOILER_GRACE_DAYS"],
    )


# ------------------------------------------------------------------------------ text


# Characters XML 1.0 can't carry, even escaped; text is cleaned on input, this is for old rows.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def xml_text(text: str) -> str:
    return _NOT_XML.sub("", text)


def feed_html(post: Post, limit: int, reveal_url: str) -> str:
    """The post's stored HTML for a feed: no spoiler text of any kind (withhold_every)."""
    return xml_text(withhold_every(post.html, limit, reveal_url))


def stamp(moment: datetime) -> str:
    """RFC 3339 in UTC, as Atom and sitemaps want it."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# ------------------------------------------------------------------------------ links

_INT_STAND_IN = 918_273_645
_TEXT_STAND_IN = "zqzstandinzqz"
_PATH_SAFE = "!$&'()*+,/:;=@"


class LinkBuilder(Protocol):
    def __call__(self, number: int, text: str = "") -> str: ...


def absolute_links(endpoint: str, number: str | None, text: str | None = None) -> LinkBuilder:
    """external_url(endpoint, ...) for many rows: built once with stand-ins, then filled in
    (a route build costs microseconds; a sitemap page has 50,000 of them). `number` names the
    route's integer argument, `text` its text one (quoted as the route quotes it); the builder
    takes (number, text), either ignored when the route has no such argument."""
    values: dict[str, object] = {}
    if number is not None:
        values[number] = _INT_STAND_IN
    if text is not None:
        values[text] = _TEXT_STAND_IN
    pattern = external_url(endpoint, **values)

    def build(number: int, text: str = "") -> str:
        url = pattern.replace(str(_INT_STAND_IN), str(number), 1)
        return url.replace(_TEXT_STAND_IN, quote(text, safe=_PATH_SAFE), 1)

    return build


# ------------------------------------------------------------------------------ feeds


@dataclass(frozen=True, slots=True)
class FeedEntry:
    id: str  # absolute and stable: the thread's or post's address without its slug
    title: str
    url: str
    author: str
    author_url: str | None
    published: str
    updated: str
    content: str | None  # HTML, escaped by the template (Atom's type="html")
    summary: str | None  # plain text, when there is no content to show


@dataclass(frozen=True, slots=True)
class Feed:
    id: str
    title: str
    subtitle: str
    self_url: str
    alternate_url: str
    base_url: str  # xml:base, for the relative links stored post HTML holds
    updated: str
    entries: Sequence[FeedEntry]


def _profile_url(user: User | None) -> tuple[str, str | None]:
    if user is None:
        return "deleted user", None
    return xml_text(user.username), external_url("users.profile", username=user.username)


def _threads_feed(viewer: Viewer, rows: Sequence[tuple[Thread, Post | None]]) -> list[FeedEntry]:
    """One entry per thread: its (visitor's) title and its opening post, when readable."""
    thread_id = absolute_links("threads.thread", "thread_id")
    thread_url = absolute_links("threads.thread", "thread_id", "slug")
    reveal = absolute_links("threads.reveal", "post_id")
    profiles: dict[int, tuple[str, str | None]] = {}
    entries = []
    for thread, opener in rows:
        title = spoilers.thread_title(viewer, thread)
        author = profiles.get(thread.author_id or 0) or _profile_url(thread.author)
        profiles[thread.author_id or 0] = author
        content = summary = None
        updated = thread.created_at
        if opener is not None and not title.masked:
            content = feed_html(opener, viewer.spoiler_limit(thread.board_id), reveal(opener.id))
            updated = max(updated, opener.edited_at or updated)
        else:
            summary = f"A thread on {xml_text(thread.board.name)}: read it on the site."
        entries.append(
            FeedEntry(
                id=thread_id(thread.id),
                title=xml_text(title.text),
                url=thread_url(thread.id, thread.slug),
                author=author[0],
                author_url=author[1],
                published=stamp(thread.created_at),
                updated=stamp(updated),
                content=content,
                summary=summary,
            )
        )
    return entries


def _thread_rows(
    session: Session, viewer: Viewer, board_id: int | None
) -> Sequence[tuple[Thread, Post | None]]:
    """The newest threads `viewer` may see (of one board, or of the boards on the index), each
    with its opening post when they may read it: one statement. Newest by id. The ids are
    picked first, in a subquery, so the opening posts are joined for those threads only:
    joined over the whole board before the LIMIT, a 10,000-thread board took 110 ms."""
    newest = select(Thread.id).where(visible_threads(viewer), unspoiled_threads(viewer))
    if board_id is None:
        newest = newest.join(Thread.board).where(Board.is_archived.is_(False))
    else:
        newest = newest.where(Thread.board_id == board_id)
    newest = newest.order_by(Thread.id.desc()).limit(FEED_THREADS)
    stmt = (
        select(Thread, Post)
        .join(Thread.board)
        .outerjoin(
            Post,
            and_(
                Post.thread_id == Thread.id,
                Post.number == 1,
                readable_posts(viewer),
                unspoiled_posts(viewer),
            ),
        )
        .where(Thread.id.in_(newest.scalar_subquery()))
        .options(contains_eager(Thread.board), joinedload(Thread.author))
        .order_by(Thread.id.desc())
    )
    return [(thread, opener) for thread, opener in session.execute(stmt)]


def _newest(entries: Sequence[FeedEntry], otherwise: datetime) -> str:
    return max((entry.updated for entry in entries), default=stamp(otherwise))


def site_feed(session: Session, site_name: str) -> Feed:
    """The newest threads of the boards on the index."""
    viewer = public_viewer(session)
    entries = _threads_feed(viewer, _thread_rows(session, viewer, None))
    return Feed(
        id=external_url("feeds.site"),
        title=xml_text(f"{site_name}: latest threads"),
        subtitle=xml_text(get_settings(session).tagline),
        self_url=external_url("feeds.site"),
        alternate_url=external_url("boards.index"),
        base_url=external_url("boards.index"),
        updated=_newest(entries, datetime(2000, 1, 1, tzinfo=UTC)),
        entries=entries,
    )


def board_feed(session: Session, slug: str, site_name: str) -> Feed | None:
    """The newest threads of one board; None when there is no such board."""
    board = session.scalar(select(Board).where(Board.slug == slug))
    if board is None:
        return None
    viewer = public_viewer(session)
    entries = _threads_feed(viewer, _thread_rows(session, viewer, board.id))
    return Feed(
        id=external_url("feeds.board", slug=board.slug),
        title=xml_text(f"{board.name} · {site_name}"),
        subtitle=xml_text(board.description),
        self_url=external_url("feeds.board", slug=board.slug),
        alternate_url=external_url("boards.board", slug=board.slug),
        base_url=external_url("boards.index"),
        updated=_newest(entries, board.created_at),
        entries=entries,
    )


def thread_feed(session: Session, thread_id: int, site_name: str) -> Feed | None:
    """A thread's latest FEED_POSTS posts a visitor may read, newest first; None when a visitor
    may not see the thread. A thread tied to an episode past the visitor boundary has its
    masked title and no entries until the episode leaves the grace period."""
    viewer = public_viewer(session)
    thread = session.scalar(
        select(Thread)
        .where(Thread.id == thread_id, visible_threads(viewer))
        .options(joinedload(Thread.board))
    )
    if thread is None:
        return None
    title = spoilers.thread_title(viewer, thread)
    posts: Sequence[Post] = []
    if not title.masked:
        posts = session.scalars(
            select(Post)
            .join(Post.thread)
            .where(Post.thread_id == thread.id, readable_posts(viewer), unspoiled_posts(viewer))
            .options(contains_eager(Post.thread), joinedload(Post.author))
            .order_by(Post.number.desc())
            .limit(FEED_POSTS)
        ).all()
    entries = _posts_feed(viewer, thread, xml_text(title.text), posts)
    return Feed(
        id=external_url("feeds.thread", thread_id=thread.id),
        title=xml_text(f"{title.text} · {site_name}"),
        subtitle=xml_text(f"A thread on {thread.board.name}"),
        self_url=external_url("feeds.thread", thread_id=thread.id),
        alternate_url=external_url("threads.thread", thread_id=thread.id, slug=thread.slug),
        base_url=external_url("boards.index"),
        updated=_newest(entries, thread.created_at),
        entries=entries,
    )


def _posts_feed(
    viewer: Viewer, thread: Thread, title: str, posts: Sequence[Post]
) -> list[FeedEntry]:
    permalink = absolute_links("threads.permalink", "post_id")
    reveal = absolute_links("threads.reveal", "post_id")
    limit = viewer.spoiler_limit(thread.board_id)
    profiles: dict[int, tuple[str, str | None]] = {}
    entries = []
    for post in posts:
        author = profiles.get(post.author_id or 0) or _profile_url(post.author)
        profiles[post.author_id or 0] = author
        url = permalink(post.id)
        entries.append(
            FeedEntry(
                id=url,
                title=title if post.number == 1 else f"Re: {title} (#{post.number})",
                url=url,
                author=author[0],
                author_url=author[1],
                published=stamp(post.created_at),
                updated=stamp(post.edited_at or post.created_at),
                content=feed_html(post, limit, reveal(post.id)),
                summary=None,
            )
        )
    return entries
