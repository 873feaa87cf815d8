"""Loaders for the sitemaps (forum/views/crawlers.py): the boards, and the threads a visitor
may see in pages of thread-id ranges, with their last posts. Addresses and dates only, no
titles: slugs of threads that may be masked are their episode code or "news"
(spoilers.thread_slug). Shared by everyone and stored (pagecache.serve_document)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from forum.access.viewer import VISITOR
from forum.access.visibility import visible_threads
from forum.models import Board, Thread
from forum.platform.publicurl import external_url
from forum.sharing.feed_reading import absolute_links, stamp

# Thread ids a sitemap page covers (ids, not threads: a page is a range on the primary key, so
# page 40 costs what page 1 does; hidden threads leave their page with fewer than this). The
# protocol allows 50,000 URLs a file; a page is rendered again after any new post (its key is
# every board's version), and 10,000 URLs take ~90 ms and 1.5 MB where 50,000 took 434 ms and
# 7.7 MB (SQLite, 1M posts), while the index's per-page lastmod lets crawlers skip the rest.
SITEMAP_THREADS_PER_PAGE = 10_000


@dataclass(frozen=True, slots=True)
class SitemapUrl:
    url: str
    lastmod: str


@dataclass(frozen=True, slots=True)
class SitemapPage:
    number: int
    lastmod: str  # "" when none of its threads is visible


def sitemap_pages(session: Session) -> tuple[list[SitemapPage], str | None]:
    """The thread pages the sitemap index lists (thread ids cut in ranges of
    SITEMAP_THREADS_PER_PAGE, up to the newest id), each with its visible threads' last post,
    and when anything was last posted on a board: three statements, one a pass over the
    threads (the index is stored until a post or a moderator changes it)."""
    size = SITEMAP_THREADS_PER_PAGE
    newest_id = session.scalar(select(func.max(Thread.id))) or 0
    page_of = (Thread.id - 1) // size
    lastmods = dict(
        session.execute(
            select(page_of, func.max(Thread.last_post_at))
            .where(visible_threads(VISITOR))
            .group_by(page_of)
        ).all()
    )
    last_post = session.scalar(select(func.max(Board.last_post_at)))
    pages = [
        SitemapPage(n, stamp(lastmods[n - 1]) if lastmods.get(n - 1) is not None else "")
        for n in range(1, -(-newest_id // size) + 1)
    ]
    return pages, stamp(last_post) if last_post is not None else None


def sitemap_boards(session: Session) -> list[SitemapUrl]:
    """The index and every board (archived ones are still read), with their last posts."""
    boards = session.scalars(select(Board).order_by(Board.position, Board.name)).all()
    board_url = absolute_links("boards.board", None, "slug")
    newest = max(
        (board.last_post_at or board.created_at for board in boards),
        default=None,
    )
    urls = [SitemapUrl(external_url("boards.index"), stamp(newest) if newest else "")]
    urls += [
        SitemapUrl(board_url(0, board.slug), stamp(board.last_post_at or board.created_at))
        for board in boards
    ]
    return urls


def sitemap_threads(session: Session, page: int) -> list[SitemapUrl] | None:
    """The threads a visitor may see whose ids fall in page `page` (from 1), oldest first;
    None past the last page. Only addresses and dates: slugs of threads that may be masked are
    their episode code or "news" (spoilers.thread_slug), so no masked title is printed."""
    newest_id = session.scalar(select(func.max(Thread.id))) or 0
    if not 1 <= page <= max(-(-newest_id // SITEMAP_THREADS_PER_PAGE), 1):
        return None
    first = (page - 1) * SITEMAP_THREADS_PER_PAGE
    rows = session.execute(
        select(Thread.id, Thread.slug, Thread.last_post_at)
        .where(
            Thread.id > first,
            Thread.id <= first + SITEMAP_THREADS_PER_PAGE,
            visible_threads(VISITOR),
        )
        .order_by(Thread.id)
    ).all()
    thread_url = absolute_links("threads.thread", "thread_id", "slug")
    return [SitemapUrl(thread_url(id_, slug), stamp(last)) for id_, slug, last in rows]
