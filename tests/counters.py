"""The denormalised counters (threads, boards, users) checked against a recount of the rows they
summarise, for any test that changes posts."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from forum.models import Board, Post, Thread, User


def recount_mismatches(session: Session, *, board_latest_by: str = "id") -> list[str]:
    """Every denormalised counter that disagrees with a COUNT/MAX over the rows it summarises,
    as readable lines; an empty list means the counters are exact. A board's counters cover its
    visible threads only: hiding a thread takes it out of them (forum/staff/moderation.py).

    A board's latest post is its highest id, as posting keeps it (forum/discussion/posting.py);
    `board_latest_by="time"` takes the most recently written one instead, as `flask demo`
    sets it from backdated posts whose times don't follow their ids (forum/platform/demo.py)."""
    problems: list[str] = []

    thread_rows = session.execute(
        select(Thread.id, Thread.post_count, Thread.last_post_id, Thread.last_poster_id,
               func.count(Post.id), func.max(Post.id))
        .outerjoin(Post, Post.thread_id == Thread.id)
        .group_by(Thread.id)
    ).all()
    for thread_id, post_count, last_post_id, last_poster_id, counted, newest in thread_rows:
        if post_count != counted:
            problems.append(f"thread {thread_id}: post_count {post_count}, counted {counted}")
        if last_post_id != newest:
            problems.append(f"thread {thread_id}: last_post_id {last_post_id}, newest {newest}")
        newest_author = session.scalar(select(Post.author_id).where(Post.id == newest))
        if last_poster_id != newest_author:
            problems.append(
                f"thread {thread_id}: last_poster_id {last_poster_id}, newest by {newest_author}"
            )

    visible = Thread.is_hidden.is_(False)
    threads_per_board = (
        select(Thread.board_id, func.count(Thread.id).label("n"))
        .where(visible)
        .group_by(Thread.board_id)
    ).subquery()
    posts_per_board = (
        select(Thread.board_id, func.count(Post.id).label("n"), func.max(Post.id).label("newest"))
        .join(Post, Post.thread_id == Thread.id)
        .where(visible)
        .group_by(Thread.board_id)
    ).subquery()
    board_rows = session.execute(
        select(Board.id, Board.thread_count, Board.post_count, Board.last_post_id,
               func.coalesce(threads_per_board.c.n, 0), func.coalesce(posts_per_board.c.n, 0),
               posts_per_board.c.newest)
        .outerjoin(threads_per_board, threads_per_board.c.board_id == Board.id)
        .outerjoin(posts_per_board, posts_per_board.c.board_id == Board.id)
    ).all()
    for board_id, thread_count, post_count, last_post_id, threads, posts, newest in board_rows:
        if board_latest_by == "time":
            newest = session.scalar(
                select(Post.id).join(Thread, Thread.id == Post.thread_id)
                .where(Thread.board_id == board_id, visible)
                .order_by(Post.created_at.desc(), Post.id.desc()).limit(1))
        if thread_count != threads:
            problems.append(f"board {board_id}: thread_count {thread_count}, counted {threads}")
        if post_count != posts:
            problems.append(f"board {board_id}: post_count {post_count}, counted {posts}")
        if last_post_id != newest:
            problems.append(f"board {board_id}: last_post_id {last_post_id}, newest {newest}")

    user_rows = session.execute(
        select(User.id, User.post_count, func.count(Post.id))
        .outerjoin(Post, Post.author_id == User.id)
        .group_by(User.id)
    ).all()
    for user_id, post_count, counted in user_rows:
        if post_count != counted:
            problems.append(f"user {user_id}: post_count {post_count}, counted {counted}")
    return problems


def recount_mismatches_after_demo(session: Session) -> list[str]:
    """recount_mismatches for data `flask demo` made (a board's latest post by time)."""
    return recount_mismatches(session, board_latest_by="time")
