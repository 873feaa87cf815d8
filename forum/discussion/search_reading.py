"""The search page's loader: the form's board, author and thread looked up, the engine asked
(forum/discussion/search.py), and what each result prints worked out before the template runs.

The engine finds only what the viewer may see (visibility and spoilers are applied in its SQL,
before ranking and paging), so this module masks nothing on its own account; it still prints
titles through `spoilers.thread_title` and drops the snippet of a result whose thread or post
is beyond the viewer (defence in depth: a snippet is the one place post text shows here).

Statements, whatever the number of results (tests/test_search_statement_counts.py): the
boards (one small table, for the board select, the board filter, result rows and the boards
that match); the author named, when one is; the thread searched within, when one is; the
engine's own; the results' posts with their threads and authors (one statement, only when
there are results); the members whose name matches (page 1 only).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from markupsafe import Markup, escape
from sqlalchemy import and_, false, func, or_, select
from sqlalchemy.orm import Session, joinedload

from forum.access import permissions, spoilers
from forum.access.viewer import Viewer
from forum.access.visibility import unspoiled_threads, visible_threads
from forum.discussion import search
from forum.discussion.presenting import Author, Moment, author_of
from forum.discussion.reading import all_boards, thread_with_board
from forum.discussion.search_forms import SearchForm
from forum.discussion.search_snippets import mark, snippet
from forum.models import Board, Post, Thread, User
from forum.platform.links import link
from forum.platform.pagination import Page
from forum.platform.text import identity_key

# The side groups: boards and members whose names match, a few each.
GROUP_CAP = 5
# The suggestions under the header's box, threads and boards together.
SUGGESTION_CAP = 8
SUGGESTED_BOARDS = 3
# Suggestions start at this many characters: fewer match too much to help.
SUGGEST_MIN = 2
# Suggested threads come from this many of the newest (by id), so a suggestion costs the same
# at 5,000 threads as at 100,000.
SUGGEST_WINDOW = 5_000
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


@dataclass(frozen=True)
class SearchResults:
    form: SearchForm
    boards: tuple[BoardOption, ...]  # every board, for the select
    searched: bool  # the engine was asked (the form was valid and had words)
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
    # A page past the engine's cap was asked for (its message says so; nothing is counted).
    too_deep: bool = False


def find(session: Session, viewer: Viewer, form: SearchForm, posts_per_page: int) -> SearchResults:
    """The search page for `form` as `viewer` sees it. Never raises on what was typed."""
    boards = all_boards(session)
    errors: dict[str, str] = {}
    board_id = _board_named(boards, form.board)
    if form.board and board_id is None:
        errors["board"] = f"There is no board called “{form.board}”."
    author_id = None
    if form.author_name and "author" not in form.errors:
        author_id = session.scalar(
            select(User.id).where(User.username_key == identity_key(form.author_name))
        )
        if author_id is None:
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
    if form.errors or not form.words:
        return SearchResults(
            form,
            options,
            searched=False,
            message=None if form.errors else "Type a word to search.",
            thread_title=thread_title,
            thread_url=thread_url,
        )

    filters = search.SearchFilters(
        board_id=board_id,
        author_id=author_id,
        thread_id=form.thread_id,
        since=form.since,
        until=form.until,
        threads_only=form.threads_only,
        newest_first=form.newest_first,
    )
    found = search.find(session, viewer, form.words, filters, form.page)
    shown_total = min(found.total, search.MAX_RESULTS)
    pages = max(1, -(-shown_total // search.PER_PAGE))
    page = Page(min(form.page, pages), search.PER_PAGE, shown_total)
    message = found.message
    if message is None and not found.hits and found.total and form.page > pages:
        message = f"The results end on page {pages}."
    rows = _rows(session, viewer, found, {b.id: b for b in boards}, posts_per_page)
    words = _name_words(found.highlight)
    first_page = form.page == 1
    return SearchResults(
        form,
        options,
        searched=True,
        rows=rows,
        total=found.total,
        more_than_total=found.more_than_total,
        message=message,
        page=page,
        board_matches=_board_matches(boards, words) if first_page else (),
        member_matches=_member_matches(session, words) if first_page else (),
        thread_title=thread_title,
        thread_url=thread_url,
        too_deep=form.page > search.MAX_PAGES,
    )


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
                hidden=post.is_hidden or thread.is_hidden,
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


def _like(word: str) -> str:
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _member_matches(session: Session, words: Sequence[str]) -> tuple[MemberMatch, ...]:
    """Members whose username contains one of `words`, the most active first. A deleted
    account has no row left, so it is never listed. A scan of the users table's keys (LIKE
    '%word%' has no index), which stays small next to the posts."""
    if not words:
        return ()
    users = session.scalars(
        select(User)
        .where(or_(*(User.username_key.like(_like(word), escape="\\") for word in words)))
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


# ------------------------------------------------------------------------------ suggestions


@dataclass(frozen=True, slots=True)
class Suggestion:
    kind: str  # "thread" or "board"
    label: str
    url: str
    detail: str  # the thread's board; "" for a board


def suggestions(session: Session, viewer: Viewer, query: str) -> list[Suggestion]:
    """Threads whose titles hold every word typed (the last one as a prefix: the fan is
    still typing it) and boards whose names do, for the header's search box. Only threads
    the viewer may see and whose titles don't spoil them. Three statements at most: the
    boards, the newest thread's id, and one page of titles."""
    words = [search.normalise(word) for word in re.findall(r"\w+", query)][:5]
    if len("".join(words)) < SUGGEST_MIN:
        return []
    boards = all_boards(session)
    by_id = {board.id: board for board in boards}
    board_hits = [board for board in boards if _name_has_all(board.name, words)]
    board_hits = board_hits[:SUGGESTED_BOARDS]
    threads = _titles(session, viewer, words, SUGGESTION_CAP - len(board_hits))
    found = [
        Suggestion("board", board.name, link("boards.board", slug=board.slug), "Board")
        for board in board_hits
    ]
    for thread in threads:
        title = spoilers.thread_title(viewer, thread)
        if title.masked:  # the SQL left these out; a title is never sent masked or not
            continue
        found.append(
            Suggestion(
                "thread",
                title.text,
                link("threads.thread", thread_id=thread.id, slug=thread.slug),
                by_id[thread.board_id].name,
            )
        )
    return found


def _name_has_all(name: str, words: Sequence[str]) -> bool:
    """Whether each of `words` (normalised) begins some word of `name`."""
    parts = re.findall(r"\w+", search.normalise(name))
    return all(any(part.startswith(word) for part in parts) for word in words)


def _titles(session: Session, viewer: Viewer, words: Sequence[str], limit: int) -> list[Thread]:
    """The latest active threads among the SUGGEST_WINDOW newest whose titles contain each
    word, visible and unspoiled. Titles have no index (LIKE '%word%' can't use one): an id
    range bounds the scan at any size, a few milliseconds; older threads are the search
    page's to find. The range's start is read first, so the planner sees a number: behind a
    subquery PostgreSQL guesses a third of the table and scans it all."""
    newest = session.scalar(select(func.max(Thread.id))) or 0
    conditions = [
        Thread.id > newest - SUGGEST_WINDOW,
        visible_threads(viewer),
        unspoiled_threads(viewer),
    ]
    if viewer.hides_news:
        conditions.append(Thread.is_news == false())
    for word in words:
        conditions.append(Thread.title.ilike(_like(word), escape="\\"))
    rows = session.scalars(
        select(Thread).where(and_(*conditions)).order_by(Thread.last_post_at.desc()).limit(limit)
    ).all()
    # ILIKE compares accents as typed; the words were normalised, so check them the same way.
    return [
        thread for thread in rows if all(word in search.normalise(thread.title) for word in words)
    ]
