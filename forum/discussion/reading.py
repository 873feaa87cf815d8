"""Loaders for the read pages. Each returns fully loaded data in a fixed number of statements;
relationships not loaded here raise on access (lazy="raise"), so templates can't N+1."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import false, select
from sqlalchemy.orm import Session, contains_eager, joinedload

from forum.access.viewer import Viewer
from forum.models import Board, Post, Thread, User
from forum.platform.pagination import Page, page_of
from forum.platform.text import identity_key


@dataclass(frozen=True)
class BoardListing:
    board: Board
    threads: Sequence[Thread]
    page: Page


@dataclass(frozen=True)
class ThreadListing:
    thread: Thread
    posts: Sequence[Post]
    page: Page


@dataclass(frozen=True)
class Profile:
    user: User
    recent_posts: Sequence[Post]


def board_index(session: Session, viewer: Viewer) -> Sequence[Board]:
    latest = joinedload(Board.last_post)
    stmt = (
        select(Board)
        .where(Board.is_archived.is_(False))
        .options(
            latest.joinedload(Post.author),
            latest.joinedload(Post.thread),
        )
        .order_by(Board.position, Board.name)
    )
    return session.scalars(stmt).unique().all()


def board_by_slug(session: Session, slug: str) -> Board | None:
    return session.scalar(select(Board).where(Board.slug == slug))


def board_listing(
    session: Session, viewer: Viewer, slug: str, page_number: int, per_page: int
) -> BoardListing | None:
    board = board_by_slug(session, slug)
    if board is None:
        return None
    page = page_of(board.thread_count, per_page, page_number)
    listing_order = (Thread.is_pinned.desc(), Thread.last_post_at.desc(), Thread.id.desc())
    # The page's ids come from ix_threads_board_listing alone (`= false`, not `IS false`, so
    # PostgreSQL can use it), so page 200 skips 6,000 index entries rather than 6,000 rows;
    # only the page's own threads are then read.
    page_ids = (
        select(Thread.id)
        .where(Thread.board_id == board.id, Thread.is_hidden == false())
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
    return BoardListing(board, session.scalars(stmt).all(), page)


def thread_with_board(session: Session, thread_id: int) -> Thread | None:
    stmt = select(Thread).where(Thread.id == thread_id).options(joinedload(Thread.board))
    return session.scalar(stmt)


def thread_listing(
    session: Session, viewer: Viewer, thread_id: int, page_number: int, per_page: int
) -> ThreadListing | None:
    thread = thread_with_board(session, thread_id)
    if thread is None:
        return None
    page = page_of(thread.post_count, per_page, page_number)
    # Posts are numbered 1..n in their thread, so a page is a range on the unique index.
    first = page.offset + 1
    stmt = (
        select(Post)
        .where(Post.thread_id == thread.id, Post.number.between(first, first + per_page - 1))
        .options(joinedload(Post.author))
        .order_by(Post.number)
    )
    return ThreadListing(thread, session.scalars(stmt).all(), page)


def post_in_thread(session: Session, post_id: int) -> Post | None:
    stmt = (
        select(Post)
        .where(Post.id == post_id)
        .options(joinedload(Post.thread).joinedload(Thread.board))
    )
    return session.scalar(stmt)


def profile(session: Session, viewer: Viewer, username: str, limit: int = 10) -> Profile | None:
    user = session.scalar(select(User).where(User.username_key == identity_key(username)))
    if user is None:
        return None
    stmt = (
        select(Post)
        .join(Post.thread)
        .where(
            Post.author_id == user.id,
            Post.is_deleted.is_(False),
            Post.is_hidden.is_(False),
            Thread.is_hidden.is_(False),
        )
        .options(contains_eager(Post.thread))
        .order_by(Post.created_at.desc(), Post.id.desc())
        .limit(limit)
    )
    return Profile(user, session.scalars(stmt).all())
