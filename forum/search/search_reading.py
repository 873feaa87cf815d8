"""The search page's loader: the form's board, author and thread looked up, the engine asked
(forum/search/search.py), and what each result prints worked out before the template runs.

The engine finds only what the viewer may see (visibility and spoilers are applied in its SQL,
before ranking and paging), so this module masks nothing on its own account; it still prints
titles through `spoilers.thread_title` and drops the snippet of a result whose thread or post
is beyond the viewer (defence in depth: a snippet is the one place post text shows here).

No words but a member (`@demo`, the author field) or a thread (its page's search box) lists
their newest posts the viewer may see: the engine's `find` answers those without words.
A page past the last says why it is empty: past the results' last page, how many pages
there are; past the engine's cap (MAX_PAGES) with more matches beyond, the cap. Either way
with a link to the last page there is.

Statements, whatever the number of results (tests/test_search_statement_counts.py): the
boards (one small table, for the board select, the board filter, result rows and the boards
that match); the author named, when one is; the thread searched within, when one is; the
engine's own; the results' posts with their threads and authors (one statement, only when
there are results); the members whose name matches (page 1 only, with words).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from flask import url_for
from markupsafe import Markup, escape
from sqlalchemy import or_, select
from sqlalchemy.orm import Session, joinedload

from forum.access import permissions, spoilers
from forum.access.viewer import Viewer
from forum.discussion.presenting import Author, Moment, author_of
from forum.discussion.reading import all_boards, thread_with_board
from forum.models import Board, Post, User
from forum.platform.links import link
from forum.platform.pagination import Page
from forum.platform.text import identity_key
from forum.search import search
from forum.search.search_folding import contains_folded
from forum.search.search_forms import SearchForm
from forum.search.search_snippets import mark, snippet

# The side groups: boards and members whose names match, a few each.
GROUP_CAP = 5
# A word shorter than this finds no member or board by itself ("a", "tv").
NAME_WORD_MIN = 3
# Words that would match half the boards' names; the engine ranks them, the groups skip them.
_COMMON = frozenset({"the", "and", "for", "with", "from", "show", "season", "episode"})


@dataclass(frozen=True, slots=True)
class ResultRow:
    """One post found, as the viewer may see it. Its loop in templates/search.html prints
    these fields and calls nothing."""

    title: Markup  # the thread's title, escaped, searched words marked (or its mask)
    masked: bool
    thread_url: str
    url: str  # the post itself: its page of the thread, at its anchor
    board_name: str
    board_url: str
    author: Author | None  # None: the account was deleted
    posted: Moment
    post_number: int
    snippet: Markup  # escaped plain text with <mark>s; empty when withheld
    withheld: bool  # the text is beyond the viewer: no snippet (never happens by the engine)
    hidden: bool  # hidden by a moderator (only its board's moderators find it)


@dataclass(frozen=True, slots=True)
class BoardOption:
    """A board in the form's select."""

    slug: str
    name: str
    selected: bool


@dataclass(frozen=True, slots=True)
class BoardMatch:
    name: Markup
    url: str
    archived: bool


@dataclass(frozen=True, slots=True)
class MemberMatch:
    author: Author
    name: Markup


@dataclass(frozen=True, slots=True)
class PastEnd:
    """A page past the last was asked for: why there is nothing, and a link back."""

    message: str
    url: str
    label: str


@dataclass(frozen=True)
class SearchResults:
    form: SearchForm
    boards: tuple[BoardOption, ...]  # every board, for the select
    searched: bool  # the engine was asked (the form was valid and had words or a browse)
    rows: tuple[ResultRow, ...] = ()
    total: int = 0
    more_than_total: bool = False
    message: str | None = None
    page: Page = field(default_factory=lambda: Page(1, search.PER_PAGE, 0))
    board_matches: tuple[BoardMatch, ...] = ()
    member_matches: tuple[MemberMatch, ...] = ()
    # Searching within one thread: its title as the viewer may see it.
    thread_title: str | None = None
    thread_url: str | None = None
    # No words, but a member or a thread: their newest posts, under this heading.
    browsing: str | None = None
    # A page past the last (of the results, or of the engine's cap) was asked for.
    past_end: PastEnd | None = None


def find(session: Session, viewer: Viewer, form: SearchForm, posts_per_page: int) -> SearchResults:
    """The search page for `form` as `viewer` sees it. Never raises on what was typed."""
    boards = all_boards(session)
    errors: dict[str, str] = {}
    board_id = _board_named(boards, form.board)
    if form.board and board_id is None:
        errors["board"] = f"There is no board called “{form.board}”."
    author = None
    if form.author_name and "author" not in form.errors:
        author = session.execute(
            select(User.id, User.username).where(
                User.username_key == identity_key(form.author_name)
            )
        ).first()
        if author is None:
            errors["author"] = f"No member is called “{form.author_name}”."
    thread_title = thread_url = None
    if form.thread_id is not None:
        thread = thread_with_board(session, form.thread_id)
        if thread is None or not permissions.can_see_thread(viewer, thread):
            errors["thread"] = "That thread doesn't exist, or was removed."
        else:
            thread_title = spoilers.thread_title(viewer, thread).text
            thread_url = link("threads.thread", thread_id=thread.id, slug=thread.slug)
    form = form.with_errors(errors) if errors else form
    options = tuple(BoardOption(b.slug, b.name, b.id == board_id) for b in boards)
    # No words but a member or a thread: the engine lists their newest posts.
    lists = author is not None or thread_title is not None
    if form.errors or not (form.words or lists):
        return SearchResults(
            form,
            options,
            searched=False,
            message=None if form.errors else search.EMPTY_MESSAGE,
            thread_title=thread_title,
            thread_url=thread_url,
        )

    filters = search.SearchFilters(
        board_id=board_id,
        author_id=author.id if author else None,
        thread_id=form.thread_id,
        since=form.since,
        until=form.until,
        threads_only=form.threads_only,
        newest_first=form.newest_first,
    )
    # Past the cap the engine counts nothing; asked for its last page, it counts the matches,
    # so the page can say whether the results or the cap end first.
    too_deep = form.page > search.MAX_PAGES
    found = search.find(
        session, viewer, form.words, filters, search.MAX_PAGES if too_deep else form.page
    )
    browsing = None
    if lists and not found.highlight and found.message is None:  # a listing, not a search
        browsing = _browse_heading(author.username if author else None, thread_title)
    shown_total = min(found.total, search.MAX_RESULTS)
    pages = max(1, -(-shown_total // search.PER_PAGE))
    past_end = (
        _past_end(form, pages, found.more_than_total) if found.total and form.page > pages else None
    )
    by_id = {b.id: b for b in boards}
    rows = () if past_end else _rows(session, viewer, found, by_id, posts_per_page)
    words = _name_words(found.highlight)
    first_page = form.page == 1
    return SearchResults(
        form,
        options,
        searched=True,
        rows=rows,
        total=found.total,
        more_than_total=found.more_than_total,
        message=found.message,
        page=Page(min(form.page, pages), search.PER_PAGE, shown_total),
        board_matches=_board_matches(boards, words) if first_page else (),
        member_matches=_member_matches(session, words) if first_page else (),
        thread_title=thread_title,
        thread_url=thread_url,
        browsing=browsing,
        past_end=past_end,
    )


def _browse_heading(username: str | None, thread_title: str | None) -> str:
    if username and thread_title is not None:
        return f"Posts by {username} in this thread"
    return f"Posts by {username}" if username else "Latest in this thread"


def _past_end(form: SearchForm, pages: int, capped: bool) -> PastEnd:
    """What a page past the last says: the cap's message when the matches go on past it,
    else how many pages there are, with a link to the last."""
    args: dict[str, Any] = {**form.as_args(), "page": pages if pages > 1 else None}
    url = url_for("search.search", **args)
    if capped:
        return PastEnd(search.TOO_DEEP_MESSAGE, url, f"Go to page {pages}")
    if pages == 1:
        return PastEnd("All the results fit on one page.", url, "Go to the results")
    return PastEnd(f"There are only {pages} pages of results.", url, f"Go to page {pages}")


def _board_named(boards: Sequence[Board], named: str) -> int | None:
    """The board the select (its slug) or a link (its id) names."""
    for board in boards:
        if named in (board.slug, str(board.id)):
            return board.id
    return None


def _rows(
    session: Session,
    viewer: Viewer,
    found: search.SearchPage,
    boards: dict[int, Board],
    posts_per_page: int,
) -> tuple[ResultRow, ...]:
    """The hits as rows, in the engine's order: their posts, threads and authors in one
    statement (the boards are already loaded)."""
    if not found.hits:
        return ()
    posts = {
        post.id: post
        for post in session.scalars(
            select(Post)
            .where(Post.id.in_([hit.post_id for hit in found.hits]))
            .options(joinedload(Post.thread), joinedload(Post.author))
        )
    }
    now = datetime.now(UTC)
    authors: dict[int, Author] = {}
    rows = []
    for hit in found.hits:
        post = posts.get(hit.post_id)
        if post is None:  # gone between the engine's statement and this one
            continue
        thread = post.thread
        board = boards[thread.board_id]
        title = spoilers.thread_title(viewer, thread)
        withheld = title.masked or spoilers.spoils(viewer, thread.board_id, post.episode_key)
        thread_url = link("threads.thread", thread_id=thread.id, slug=thread.slug)
        page = (post.number - 1) // posts_per_page + 1
        rows.append(
            ResultRow(
                title=escape(title.text)
                if title.masked
                else mark(title.text, found.highlight, search.normalise),
                masked=title.masked,
                thread_url=thread_url,
                url=f"{thread_url}{f'?page={page}' if page > 1 else ''}#post-{post.id}",
                board_name=board.name,
                board_url=link("boards.board", slug=board.slug),
                author=author_of(post.author, authors),
                posted=Moment.of(post.created_at, now),
                post_number=post.number,
                snippet=Markup()
                if withheld
                else snippet(hit.text, found.highlight, search.normalise),
                withheld=withheld,
                # A purged opener (found by its title) is deleted: the thread page says so,
                # whatever a moderator did to it before.
                hidden=(post.is_hidden and not post.is_deleted) or thread.is_hidden,
            )
        )
    return tuple(rows)


def _name_words(highlight: Sequence[str]) -> tuple[str, ...]:
    """The words searched for (the engine's positive words, normalised) that may name a board
    or a member: long enough, and not so common that every board has them."""
    return tuple(w for w in highlight if len(w) >= NAME_WORD_MIN and w not in _COMMON)[:4]


def _board_matches(boards: Sequence[Board], words: Sequence[str]) -> tuple[BoardMatch, ...]:
    """Boards whose name has a word starting with one of `words` (accents aside)."""
    terms = tuple(words)
    if not terms:
        return ()
    found = []
    for board in boards:
        name_words = re.findall(r"\w+", search.normalise(board.name))
        if any(word.startswith(terms) for word in name_words):
            found.append(
                BoardMatch(
                    mark(board.name, terms, search.normalise),
                    link("boards.board", slug=board.slug),
                    board.is_archived,
                )
            )
            if len(found) == GROUP_CAP:
                break
    return tuple(found)


def _member_matches(session: Session, words: Sequence[str]) -> tuple[MemberMatch, ...]:
    """Members whose username contains one of `words`, accents aside ("jose" lists
    "josé_fan"), the most active first. A deleted account has no row left, so it is never
    listed. A scan of the users table's keys (LIKE '%word%' has no index), which stays small
    next to the posts; only names with accents are folded (search_folding.py), and at most
    GROUP_CAP rows come back."""
    if not words:
        return ()
    users = session.scalars(
        select(User)
        .where(or_(*(contains_folded(session, User.username_key, word) for word in words)))
        .order_by(User.post_count.desc(), User.username_key)
        .limit(GROUP_CAP)
    ).all()
    authors: dict[int, Author] = {}
    matches = []
    for user in users:
        author = author_of(user, authors)
        assert author is not None
        matches.append(MemberMatch(author, mark(user.username, words, search.normalise)))
    return tuple(matches)
