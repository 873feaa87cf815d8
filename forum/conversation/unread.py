"""Unread tracking: where a member's unread posts in a thread start (the stable link
/t/<id>/unread), and "mark all read" on a board or the whole site. Never commits.

A thread's unread posts are those past the member's read mark (ThreadState.last_read_number,
moved by reading pages: read_marks.py) written after their "mark all read" floor
(Viewer.read_floor). Marking read sets the floor and moves the marks the member already has
up to each thread's last post, so a board's "N new" counts only what came after: without it a
thread read up to post 3 and marked read at post 40 would show "38 new" for one new reply.
Threads the member never opened keep no row: the floor alone settles them.

Every write here is the member's own (no cached page shows it): `freshness.private`."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    case,
    func,
    literal,
    null,
    or_,
    select,
    true,
    union_all,
    update,
)
from sqlalchemy.orm import Session

from forum import db
from forum.access.viewer import Viewer
from forum.access.visibility import readable_posts
from forum.models import BoardState, Post, Thread, ThreadState, User, UTCDateTime, utcnow
from forum.platform import freshness

# The three candidates of first_unread_target, in order of preference.
_FIRST_UNREAD, _LAST_SEEN, _FIRST_SEEN = 0, 1, 2


def first_unread_target(session: Session, viewer: Viewer, thread_id: int) -> tuple[int, int] | None:
    """(post number, post id) of where `viewer` should land in the thread: the first post past
    their read mark and floor that they actually see (its text, not a stub: deleted posts,
    hidden ones unless they moderate the board, and posts of members they muted are skipped);
    when nothing is unread, the last post they see; in a thread they never opened, the first.
    None when the thread is hidden from them or has no post they see. One statement: three
    LIMIT 1 ranges on the posts' (thread_id, number) index."""
    mark = (
        select(ThreadState.last_read_number)
        .where(ThreadState.user_id == viewer.id, ThreadState.thread_id == thread_id)
        .scalar_subquery()
    )
    seen = [Post.thread_id == thread_id, readable_posts(viewer), *_not_muted(viewer)]
    floor = _read_floor(viewer)
    unread = [Post.number > func.coalesce(mark, 0)]
    if floor is not None:
        unread.append(or_(floor.is_(None), Post.created_at > floor))
    candidates = [
        _candidate(_FIRST_UNREAD, Post.number.asc(), *seen, *unread),
        # Opened before and read to the end: back where they left off.
        _candidate(_LAST_SEEN, Post.number.desc(), *seen, mark.is_not(None)),
        _candidate(_FIRST_SEEN, Post.number.asc(), *seen),
    ]
    rows = session.execute(union_all(*candidates)).all()
    if not rows:
        return None
    _rank, number, post_id = min(rows)
    return number, post_id


def _candidate(rank: int, order: Any, *conditions: ColumnElement[bool]) -> Select[Any]:
    """One post as (rank, number, id). Wrapped in a subquery: SQLite refuses a LIMIT on a
    member of a compound SELECT."""
    one = (
        select(literal(rank).label("rank"), Post.number, Post.id)
        .join(Thread, Thread.id == Post.thread_id)
        .where(*conditions)
        .order_by(order)
        .limit(1)
        .subquery()
    )
    return select(one.c.rank, one.c.number, one.c.id)


def _not_muted(viewer: Viewer) -> list[ColumnElement[bool]]:
    """Posts by members the viewer muted collapse on the page: no place to land."""
    if not viewer.muted_user_ids:
        return []
    return [or_(Post.author_id.is_(None), Post.author_id.not_in(sorted(viewer.muted_user_ids)))]


def _read_floor(viewer: Viewer) -> ColumnElement[Any] | None:
    """Viewer.read_floor on each row's board (Thread.board_id), as SQL; None: no floor
    anywhere. NULL on a board without one."""
    if viewer.user is None:
        return None
    site = viewer.user.marked_read_at
    boards = {
        board_id: literal(floor, UTCDateTime())
        for board_id in viewer.board_marks
        if (floor := viewer.read_floor(board_id)) is not None
    }
    everywhere = literal(site, UTCDateTime()) if site is not None else null()
    if not boards:
        return everywhere if site is not None else None
    return case(boards, value=Thread.board_id, else_=everywhere)


def mark_board_read(session: Session, user: User, board_id: int) -> None:
    """Every thread of the board counts as read for `user` from now on. Three statements at
    most: the board's floor (BoardState upsert), the flag that makes the viewer load it, and
    the marks they have on the board's threads moved to each thread's last post."""
    freshness.private(session)
    now = utcnow()
    insert = db.upsert(session, BoardState).values(
        user_id=user.id, board_id=board_id, marked_read_at=now
    )
    session.execute(
        insert.on_conflict_do_update(
            index_elements=[BoardState.user_id, BoardState.board_id],
            set_={"marked_read_at": now},
        )
    )
    if not user.has_conversation_settings:
        # The viewer loads board states only for members with this flag (forum/access/viewer.py).
        session.execute(
            update(User)
            .where(User.id == user.id)
            .values(has_conversation_settings=true())
            .execution_options(synchronize_session=False)
        )
    _catch_up_marks(session, user.id, Thread.board_id == board_id)


def mark_all_read(session: Session, user: User) -> None:
    """Every thread on the forum counts as read for `user` from now on: the site-wide floor
    on their row, and their marks moved to each thread's last post. Two statements."""
    freshness.private(session)
    session.execute(
        update(User)
        .where(User.id == user.id)
        .values(marked_read_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    _catch_up_marks(session, user.id, true())


def _catch_up_marks(session: Session, user_id: int, threads: ColumnElement[bool]) -> None:
    """Move the member's read marks on `threads` to each thread's last post (only the marks
    behind it). One UPDATE; a thread outside `threads` has no count, and NULL matches nothing."""
    last_number = (
        select(Thread.post_count)
        .where(Thread.id == ThreadState.thread_id, threads)
        .scalar_subquery()
    )
    session.execute(
        update(ThreadState)
        .where(ThreadState.user_id == user_id, ThreadState.last_read_number < last_number)
        .values(last_read_number=last_number)
        .execution_options(synchronize_session=False)
    )
