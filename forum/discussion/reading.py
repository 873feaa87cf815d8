"""Loaders for the read pages. Each returns fully loaded data in a fixed number of statements;
relationships not loaded here raise on access (lazy="raise"), so templates can't N+1.

Every list is filtered for its viewer in SQL by forum/access/visibility.py, so what a viewer may
not see is never loaded, counted or paged over."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from sqlalchemy import Select, and_, bindparam, func, select, true
from sqlalchemy.orm import Session, contains_eager, joinedload

from forum.access import permissions
from forum.access.viewer import Viewer
from forum.access.visibility import (
    moderated_boards,
    readable_posts,
    threads_visible_with,
    unspoiled_posts,
    visible_threads,
)
from forum.models import Board, Post, Thread, ThreadState, User
from forum.platform.pagination import Page, page_of
from forum.platform.text import identity_key


@dataclass(frozen=True)
class IndexBoard:
    """A board on the index, with its latest post (thread and author loaded) when the viewer
    may see it; None when the board has none, or none they may see."""

    board: Board
    latest: Post | None


@dataclass(frozen=True)
class BoardListing:
    board: Board
    threads: Sequence[Thread]
    page: Page
    # The member's own row for each listed thread they have one for (read marks, watch
    # level), by thread id; empty for visitors. Joined into the threads' statement.
    states: Mapping[int, ThreadState] = field(default_factory=dict)


@dataclass(frozen=True)
class ThreadListing:
    thread: Thread
    posts: Sequence[Post]
    page: Page
    # The member's row for this thread (how far they read, how they follow it); None for
    # visitors and for members who never opened it. Joined into the thread's statement.
    state: ThreadState | None = None


@dataclass(frozen=True)
class Profile:
    user: User
    recent_posts: Sequence[Post]
    # The posts of theirs the viewer may read: User.post_count counts deleted and hidden ones too.
    post_count: int


def board_index(session: Session, viewer: Viewer) -> Sequence[IndexBoard]:
    """The boards in index order, each with its denormalised latest post (Board.last_post) when
    `viewer` may see its thread (a latest post in a thread hidden from them is left out, so its
    title never reaches the page). One statement with two plain LEFT JOINs, each an indexed
    lookup by primary key: a join of posts and threads nested in parentheses makes SQLite
    materialise every post first (330 ms on 50,000 posts)."""
    stmt = (
        select(Board, Post)
        .outerjoin(Post, Post.id == Board.last_post_id)
        .outerjoin(Thread, Thread.id == Post.thread_id)
        .where(Board.is_archived.is_(False))
        .options(contains_eager(Post.thread), joinedload(Post.author))
        .order_by(Board.position, Board.name)
    )
    return [
        IndexBoard(
            board,
            latest
            if latest is not None and permissions.can_see_thread(viewer, latest.thread)
            else None,
        )
        for board, latest in session.execute(stmt)
    ]


def board_by_slug(session: Session, slug: str) -> Board | None:
    return session.scalar(select(Board).where(Board.slug == slug))


def _board_and_hidden_count(
    session: Session, viewer: Viewer, slug: str
) -> tuple[Board, int] | None:
    """The board and, for a viewer who moderates it, how many of its threads are hidden (the
    board's thread_count leaves them out). Moderators' count rides in the board's statement:
    a range on ix_threads_board_listing, only over the hidden threads."""
    if not permissions.is_moderator(viewer):
        board = board_by_slug(session, slug)
        return None if board is None else (board, 0)
    hidden = (
        select(func.count(Thread.id))
        .where(Thread.board_id == Board.id, Thread.is_hidden == true())
        .correlate(Board)
        .scalar_subquery()
    )
    row = session.execute(select(Board, hidden).where(Board.slug == slug)).first()
    if row is None:
        return None
    board, hidden_count = row
    return board, hidden_count if permissions.moderates(viewer, board.id) else 0


def board_listing(
    session: Session, viewer: Viewer, slug: str, page_number: int, per_page: int
) -> BoardListing | None:
    """One page of a board's threads as `viewer` sees them: its moderators (and global
    moderators, admins) get the hidden threads too, marked (defect 9)."""
    found = _board_and_hidden_count(session, viewer, slug)
    if found is None:
        return None
    board, hidden_count = found
    page = page_of(board.thread_count + hidden_count, per_page, page_number)
    listing_order = (Thread.is_pinned.desc(), Thread.last_post_at.desc(), Thread.id.desc())
    # The page's ids come from ix_threads_board_listing alone (visible_threads gives `= false`,
    # not `IS false`, so PostgreSQL can use it), so page 200 skips 6,000 index entries rather
    # than 6,000 rows; only the page's own threads are then read. A moderator's listing has no
    # is_hidden condition, so the index gives their rows unordered: a sort of the board's
    # entries, for moderators only.
    page_ids = (
        select(Thread.id)
        .where(Thread.board_id == board.id, visible_threads(viewer, board.id))
        .order_by(*listing_order)
        .offset(page.offset)
        .limit(per_page)
    )
    stmt = (
        select(Thread)
        .where(Thread.id.in_(page_ids.scalar_subquery()))
        .options(joinedload(Thread.author), joinedload(Thread.last_poster))
        .order_by(*listing_order)
    )
    if viewer.id is None:
        return BoardListing(board, session.scalars(stmt).all(), page)
    rows = session.execute(
        stmt.add_columns(ThreadState).outerjoin(
            ThreadState,
            and_(ThreadState.thread_id == Thread.id, ThreadState.user_id == viewer.id),
        )
    ).all()
    return BoardListing(
        board,
        [thread for thread, _ in rows],
        page,
        {thread.id: state for thread, state in rows if state is not None},
    )


# The thread page's statements are built once and run with bound values: building a select()
# (coercing each comparison, copying the statement per .where and .options) took longer than
# running it, 0.5 ms a statement on the benchmark machine (docs/performance.md).
_THREAD_WITH_BOARD = (
    select(Thread).where(Thread.id == bindparam("thread_id")).options(joinedload(Thread.board))
)
# Posts are numbered 1..n in their thread, so a page is a range on the unique index.
_PAGE_OF_POSTS = (
    select(Post)
    .where(
        Post.thread_id == bindparam("thread_id"),
        Post.number.between(bindparam("first"), bindparam("last")),
    )
    .options(joinedload(Post.author))
    .order_by(Post.number)
)


# The visible thread with its board, built once per set of moderated boards: visitors,
# members and global moderators share one statement each.
@lru_cache(maxsize=256)
def _visible_thread_with_board(boards: frozenset[int] | None) -> Select[Thread]:
    return (
        select(Thread)
        .where(Thread.id == bindparam("thread_id"), threads_visible_with(boards))
        .options(joinedload(Thread.board))
    )


# The same, with the member's own ThreadState row (read mark, watch level) joined in.
@lru_cache(maxsize=256)
def _visible_thread_with_state(boards: frozenset[int] | None) -> Select[Thread, ThreadState]:
    return (
        select(Thread, ThreadState)
        .outerjoin(
            ThreadState,
            and_(
                ThreadState.thread_id == Thread.id,
                ThreadState.user_id == bindparam("user_id"),
            ),
        )
        .where(Thread.id == bindparam("thread_id"), threads_visible_with(boards))
        .options(joinedload(Thread.board))
    )


def thread_with_board(session: Session, thread_id: int) -> Thread | None:
    return session.scalar(_THREAD_WITH_BOARD, {"thread_id": thread_id})


def thread_listing(
    session: Session, viewer: Viewer, thread_id: int, page_number: int, per_page: int
) -> ThreadListing | None:
    """A page of a thread `viewer` may see (None when it doesn't exist or is hidden from them).
    Every post of a visible thread has its slot (visibility.visible_posts): those whose text
    the viewer may not read are printed as stubs (presenting.post_cards)."""
    state: ThreadState | None = None
    if viewer.id is None:
        thread = session.scalar(
            _visible_thread_with_board(moderated_boards(viewer)), {"thread_id": thread_id}
        )
    else:
        row = session.execute(
            _visible_thread_with_state(moderated_boards(viewer)),
            {"thread_id": thread_id, "user_id": viewer.id},
        ).first()
        thread = row[0] if row is not None else None
        state = row[1] if row is not None else None
    if thread is None:
        return None
    page = page_of(thread.post_count, per_page, page_number)
    first = page.offset + 1
    posts = session.scalars(
        _PAGE_OF_POSTS, {"thread_id": thread.id, "first": first, "last": first + per_page - 1}
    ).all()
    return ThreadListing(thread, posts, page, state)


def post_in_thread(session: Session, post_id: int) -> Post | None:
    stmt = (
        select(Post)
        .where(Post.id == post_id)
        .options(joinedload(Post.thread).joinedload(Thread.board))
    )
    return session.scalar(stmt)


def profile(session: Session, viewer: Viewer, username: str, limit: int = 10) -> Profile | None:
    """A member's page: their latest posts that `viewer` may read, and how many there are
    (counted in the user's statement: ix_posts_author_created gives their posts)."""
    # Posts about episodes the viewer hasn't reached aren't listed at all (their text and their
    # threads' titles would be all the item is); spans inside the rest are withheld later.
    readable = and_(readable_posts(viewer), unspoiled_posts(viewer))
    post_count = (
        select(func.count(Post.id))
        .join(Post.thread)
        .where(Post.author_id == User.id, readable)
        .correlate(User)
        .scalar_subquery()
    )
    row = session.execute(
        select(User, post_count).where(User.username_key == identity_key(username))
    ).first()
    if row is None:
        return None
    user, count = row
    stmt = (
        select(Post)
        .join(Post.thread)
        .where(Post.author_id == user.id, readable)
        .options(contains_eager(Post.thread))
        .order_by(Post.created_at.desc(), Post.id.desc())
        .limit(limit)
    )
    return Profile(user, session.scalars(stmt).all(), count)


# ------------------------------------------------------------------------------ boards


def all_boards(session: Session) -> Sequence[Board]:
    """Every board, archived ones too, in index order."""
    return session.scalars(select(Board).order_by(Board.position, Board.name)).all()


def boards_for_move(session: Session, viewer: Viewer) -> Sequence[Board]:
    """The boards `viewer` may move threads between (the thread page's move form). Members get
    [] without a query, so the thread page costs them nothing extra."""
    if not permissions.is_moderator(viewer):
        return []
    return [board for board in all_boards(session) if permissions.moderates(viewer, board.id)]
