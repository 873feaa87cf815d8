"""Full-text search over thread titles and post text: one function, `find`, on either engine.

The contract with the search page (docs: /work/notes/search_contract.md): `find(session, viewer,
query, filters, page)` answers a `SearchPage` and never raises for any query string.

How a search runs, in two statements whatever the database holds (three on PostgreSQL when
the newest documents hold too few matches: search_postgres.py):

1. Candidates: the newest MAX_RESULTS + 1 matching posts the viewer may read, walked in post id
   order (newest first; within one thread, along its posts) and stopped there, with their
   rank; and, in the same statement when ranking, up to TITLE_CANDIDATES (40) posts whose
   title holds every searched group, whatever their age, from an index of titles alone, so a
   thread titled "Writing" is found under 20,000 newer posts about writing. Visibility is part
   of that statement, before anything is counted, ranked or paged: readable_posts (or a purged
   opener, found by its thread's title alone), unspoiled_posts and unspoiled_threads
   (forum/access/visibility.py), news threads dropped for viewers who hide show news, and
   spoiler text (search_documents) matched only where the viewer's limit on the post's board
   reaches the post's latest inline episode spoiler. Excluded words (`-word`) are looked for
   in the open text only, for everyone: a spoiler must not change what "-word" leaves out, or
   subtracting searches would read it.
2. The page: the twenty posts shown, with their open text for snippets (never spoiler text).

Relevance ranks those candidates only (title candidates merged in once each), so the cost of a
common word is bounded by MAX_RESULTS and the few titles, not by how many posts hold it; the
total is "about N", counted up to MAX_RESULTS and "more than" beyond. A post whose title holds
a searched term is in a tier of its own (TITLE_TIER): no number of body repeats outranks it.
Within a tier the engines differ (SQLite counts body hits, capped; PostgreSQL's ts_rank).

No words but a member or a thread (`@name` alone): that member's or thread's newest posts the
viewer may read, newest first, with the same visibility, filters, paging and cap, in one
statement along the filter's own index (posts by author and date; a thread's numbers). A
query with nothing at all, or only excluded words, still gets its message.

The engines (forum/search/search_sqlite.py, search_postgres.py) build statement 1; this
module owns the rules they share; search_query.py says which words a query looks for (and
where the engines still differ).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Protocol

from sqlalchemy import ColumnElement, and_, false, or_, select
from sqlalchemy.orm import Session

from forum.access import visibility
from forum.access.viewer import Viewer
from forum.discussion import plain_text
from forum.models import Post, SearchDocument, Thread
from forum.search.search_query import Query, parse
from forum.search.search_query import normalise as normalise

PER_PAGE = 20
MAX_PAGES = 50
MAX_RESULTS = PER_PAGE * MAX_PAGES

EMPTY_MESSAGE = "Type a word to search."
ONLY_EXCLUDED_MESSAGE = "Add a word to look for: a search can't be only words to leave out."
TOO_DEEP_MESSAGE = (
    f"Searches go {MAX_PAGES} pages deep: add a word or a filter to narrow this one down."
)
TRUNCATED_MESSAGE = "That's a long search: only its first words were looked for."

# A post whose title holds a searched term ranks above every post whose title doesn't: the
# engines add this to the rank of a title hit and keep every other score below it.
TITLE_TIER = 1000.0


@dataclass(frozen=True)
class SearchFilters:
    board_id: int | None = None  # one board
    author_id: int | None = None  # posts by one member
    thread_id: int | None = None  # within one thread
    since: date | None = None  # posts created on or after (UTC date)
    until: date | None = None  # posts created on or before (UTC date)
    threads_only: bool = False  # only thread openers (post number 1)
    newest_first: bool = False  # else relevance


@dataclass(frozen=True)
class Hit:
    post_id: int
    thread_id: int
    post_number: int
    rank: float  # higher = better (for tests and debugging)
    text: str  # the post's open plain text: no spoiler text of any kind, for snippets


@dataclass(frozen=True)
class SearchPage:
    hits: tuple[Hit, ...]
    total: int  # matches counted up to MAX_RESULTS
    more_than_total: bool  # there are more than `total` matches
    highlight: tuple[str, ...]  # normalised positive words to mark in snippets
    message: str | None


@dataclass(frozen=True, slots=True)
class Candidate:
    post_id: int
    rank: float
    by_title: bool = False  # a title candidate (may be older than the newest matches)


@dataclass(frozen=True, slots=True)
class Scope:
    """What an engine's candidate statement must apply besides the words: the rows the viewer
    may find (`where`, over Post, Thread and SearchDocument), and where spoiler text counts
    (`spoilers_allowed`). `newest_by` is set when a filter keeps few posts (one thread): the
    engine then walks those posts newest first along this key's index and checks each for the
    words, instead of walking all the words' matches for the filter's few."""

    where: ColumnElement[bool]
    spoilers_allowed: ColumnElement[Any]
    newest_by: ColumnElement[Any] | None = None


class Engine(Protocol):
    def candidates(
        self, session: Session, query: Query, scope: Scope, *, limit: int, ranked: bool
    ) -> Sequence[Candidate]: ...


def find(
    session: Session, viewer: Viewer, query: str, filters: SearchFilters, page: int = 1
) -> SearchPage:
    """The page `page` of what `viewer` finds for `query` (see the module docstring)."""
    parsed = parse(query)
    listing = not parsed.groups and not parsed.excluded
    if listing and (filters.author_id is not None or filters.thread_id is not None):
        # No words, but a member or a thread: their newest posts, as a forum's "@name" lists.
        return _newest_posts(session, viewer, filters, page)
    if parsed.is_empty:
        message = ONLY_EXCLUDED_MESSAGE if parsed.excluded else EMPTY_MESSAGE
        return SearchPage((), 0, False, (), message)
    highlight = parsed.highlight
    if page > MAX_PAGES:
        return SearchPage((), 0, False, highlight, TOO_DEEP_MESSAGE)
    page = max(page, 1)
    # Imported here: the engines import this module's Candidate and Scope.
    from forum.search import search_postgres, search_sqlite

    engine: Engine = (
        search_postgres.ENGINE
        if session.get_bind().dialect.name == "postgresql"
        else search_sqlite.ENGINE
    )
    found = engine.candidates(
        session,
        parsed,
        scope(viewer, filters),
        limit=MAX_RESULTS + 1,
        ranked=not filters.newest_first,
    )
    newest = [c for c in found if not c.by_title]
    more = len(newest) > MAX_RESULTS
    ordered = newest[:MAX_RESULTS]
    if not filters.newest_first:
        # Title candidates older than the newest matches join them (once each) before ranking.
        seen = {c.post_id for c in ordered}
        ordered += [c for c in found if c.by_title and c.post_id not in seen]
        # Python's sort is stable: equal ranks stay newest first.
        ordered.sort(key=lambda c: -c.rank)
        more = more or len(ordered) > MAX_RESULTS
        ordered = ordered[:MAX_RESULTS]
    shown = ordered[(page - 1) * PER_PAGE : page * PER_PAGE]
    note = TRUNCATED_MESSAGE if parsed.truncated else None
    return SearchPage(_hits(session, shown), len(ordered), more, highlight, note)


def _newest_posts(
    session: Session, viewer: Viewer, filters: SearchFilters, page: int
) -> SearchPage:
    """A member's or a thread's newest posts the viewer may read (no words to look for), with
    the same visibility, filters, paging and cap as a search (one statement, and the page's)."""
    if page > MAX_PAGES:
        return SearchPage((), 0, False, (), TOO_DEEP_MESSAGE)
    page = max(page, 1)
    # Readable posts only: a purged opener is found by its title, never listed.
    where = and_(scope(viewer, filters).where, visibility.readable_posts(viewer))
    # Along the filter's own index: (thread_id, number) for a thread, (author_id, created_at)
    # for a member, so the walk stops at the cap however many posts there are.
    order = (
        [Post.number.desc()]
        if filters.thread_id is not None
        else [Post.created_at.desc(), Post.id.desc()]
    )
    ids = session.scalars(
        select(Post.id)
        .join(Thread, Thread.id == Post.thread_id)
        .where(where)
        .order_by(*order)
        .limit(MAX_RESULTS + 1)
    ).all()
    more = len(ids) > MAX_RESULTS
    ordered = [Candidate(post_id, 0.0) for post_id in ids[:MAX_RESULTS]]
    shown = ordered[(page - 1) * PER_PAGE : page * PER_PAGE]
    return SearchPage(_hits(session, shown), len(ordered), more, (), None)


def _hits(session: Session, shown: Sequence[Candidate]) -> tuple[Hit, ...]:
    if not shown:
        return ()
    rows = {
        row.id: row
        for row in session.execute(
            select(Post.id, Post.thread_id, Post.number, Post.html).where(
                Post.id.in_([c.post_id for c in shown])
            )
        )
    }
    return tuple(
        Hit(
            c.post_id,
            rows[c.post_id].thread_id,
            rows[c.post_id].number,
            c.rank,
            plain_text.open_text(rows[c.post_id].html),
        )
        for c in shown
        if c.post_id in rows
    )


def scope(viewer: Viewer, filters: SearchFilters) -> Scope:
    """Where `viewer` may find anything, narrowed by `filters` (needs Post, Thread and
    SearchDocument joined)."""
    # A purged opener keeps its thread's title in the index (search_documents.purge_text):
    # findable by that title wherever the thread is visible, though its text is gone.
    purged_opener = and_(
        Post.number == 1, Post.is_deleted, Post.html == "", visibility.visible_threads(viewer)
    )
    conditions: list[ColumnElement[bool]] = [
        or_(visibility.readable_posts(viewer), purged_opener),
        visibility.unspoiled_posts(viewer),
        visibility.unspoiled_threads(viewer),
    ]
    if viewer.hides_news:
        conditions.append(Thread.is_news == false())
    if filters.board_id is not None:
        conditions.append(Thread.board_id == filters.board_id)
    if filters.author_id is not None:
        conditions.append(Post.author_id == filters.author_id)
    if filters.thread_id is not None:
        conditions.append(Post.thread_id == filters.thread_id)
    if filters.since is not None:
        conditions.append(Post.created_at >= _midnight(filters.since))
    if filters.until is not None and filters.until < date.max:
        conditions.append(Post.created_at < _midnight(filters.until + timedelta(days=1)))
    if filters.threads_only:
        conditions.append(Post.number == 1)
    allowed = or_(
        SearchDocument.spoiler_key.is_(None),
        SearchDocument.spoiler_key <= visibility.spoiler_limit_of(viewer),
    )
    # Within one thread, its posts are walked along (thread_id, number) and each looked up in
    # the index. Not for an author: a prolific one has thousands of posts, and probing each
    # costs more than walking a word's matches (SQLite, 1M posts: 100 ms for a rare word).
    newest_by = Post.number.expression if filters.thread_id is not None else None
    return Scope(and_(*conditions), allowed, newest_by)


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)
