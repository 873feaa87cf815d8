"""Concurrent replies: many writers at once must not lose a count, share a post number or leave a
thread's or board's "latest post" pointing at the wrong row.

These tests need a database that really commits, so they build their own ("concurrency") instead
of using the rolled-back `connection` fixture. The races only exist on PostgreSQL; SQLite
serialises writers, where the point is that waiting writers don't fail with "database is locked".
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from forum import create_app
from forum.accounts.membership import create_user
from forum.db import make_engine
from forum.discussion import posting
from forum.models import Board, Post, Thread, User
from forum.staff import recount
from tests.conftest import FAST_HASHING, Browserish, is_postgres, migrated_database_url

NEEDS_POSTGRES = "needs PostgreSQL (set FORUM_TEST_DATABASE_URL): SQLite has no concurrent writers"
skip_unless_postgres = pytest.mark.skipif(not is_postgres(), reason=NEEDS_POSTGRES)
postgres_only = [pytest.mark.postgres_only, skip_unless_postgres]


@pytest.fixture(scope="module")
def committed_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = migrated_database_url(tmp_path_factory.getbasetemp(), "concurrency")
    return url


@pytest.fixture
def committed_engine(committed_url: str) -> Iterator[Engine]:
    engine = make_engine(committed_url)
    yield engine
    engine.dispose()


@dataclass(frozen=True)
class Arena:
    """A board with two threads and one author per writer, all committed."""

    board_id: int
    thread_ids: tuple[int, int]
    usernames: list[str]
    user_ids: list[int]


def build_arena(engine: Engine, name: str, writers: int, password_hash: str) -> Arena:
    with Session(engine) as session:
        board = Board(slug=name, name=name.title())
        session.add(board)
        session.flush()
        usernames = [f"{name}_{n}" for n in range(writers)]
        users = [
            create_user(
                session,
                username,
                f"{username}@example.org",
                password_hash=password_hash,
                trusted=True,
            )
            for username in usernames
        ]
        threads = [
            posting.create_thread(session, board, users[0], f"{name} thread {n}", "Opening")
            for n in (1, 2)
        ]
        session.commit()
        return Arena(
            board.id, (threads[0].id, threads[1].id), usernames, [user.id for user in users]
        )


def run_together(writers: int, work: Callable[[int], None]) -> None:
    """Run work(0) .. work(writers - 1) on their own OS threads, released at the same moment;
    re-raise the first exception any of them hit."""
    start = threading.Barrier(writers)

    def released(n: int) -> None:
        start.wait()
        work(n)

    with ThreadPoolExecutor(max_workers=writers) as pool:
        for future in [pool.submit(released, n) for n in range(writers)]:
            future.result()


def reply_concurrently(engine: Engine, arena: Arena, writers: int, replies: int) -> None:
    """Each writer has its own session and commits every reply, alternating threads."""
    sessions = sessionmaker(bind=engine)

    def write(n: int) -> None:
        for k in range(replies):
            with sessions() as session:
                thread = session.get_one(Thread, arena.thread_ids[k % 2])
                author = session.get_one(User, arena.user_ids[n])
                posting.add_post(session, thread, author, f"Writer {n}, reply {k}")
                session.commit()

    run_together(writers, write)


def assert_all_replies_counted(engine: Engine, arena: Arena, writers: int, replies: int) -> None:
    with Session(engine) as session:
        # Writers alternate threads starting with the first: it gets the extra odd reply.
        posts_per_thread = {
            tid: 1 + writers * len(range(i, replies, 2)) for i, tid in enumerate(arena.thread_ids)
        }
        for thread_id, expected in posts_per_thread.items():
            numbers = session.scalars(
                select(Post.number).where(Post.thread_id == thread_id).order_by(Post.number)
            ).all()
            assert list(numbers) == list(range(1, expected + 1)), f"thread {thread_id}"
            thread = session.get_one(Thread, thread_id)
            newest = session.scalar(select(func.max(Post.id)).where(Post.thread_id == thread_id))
            assert thread.post_count == expected
            assert thread.last_post_id == newest

        board = session.get_one(Board, arena.board_id)
        # The board's latest is its newest post by (created_at, id), as posting, moderation
        # and recount define it: ids alone can disagree with times by microseconds when both
        # threads get replies at once.
        newest_in_board = session.scalar(
            select(Post.id)
            .join(Thread, Post.thread_id == Thread.id)
            .where(Thread.board_id == arena.board_id)
            .order_by(Post.created_at.desc(), Post.id.desc())
            .limit(1)
        )
        assert board.thread_count == 2
        assert board.post_count == sum(posts_per_thread.values())
        assert board.last_post_id == newest_in_board

        for n, user_id in enumerate(arena.user_ids):
            openers = 2 if n == 0 else 0
            assert session.get_one(User, user_id).post_count == replies + openers, f"writer {n}"

        assert recount.differences(session) == []


# ------------------------------------------------------------------------------ domain level


@pytest.mark.parametrize(
    ("writers", "replies"),
    [
        pytest.param(8, 25, marks=postgres_only, id="postgres-8x25"),
        pytest.param(4, 10, id="any-database-4x10"),
    ],
)
def test_concurrent_replies_keep_numbers_and_counters_exact(
    committed_engine: Engine,
    password_hash: str,
    writers: int,
    replies: int,
    request: pytest.FixtureRequest,
) -> None:
    arena = build_arena(
        committed_engine, f"domain-{request.node.callspec.id}", writers, password_hash
    )

    reply_concurrently(committed_engine, arena, writers, replies)

    assert_all_replies_counted(committed_engine, arena, writers, replies)


@pytest.mark.postgres_only
@skip_unless_postgres
def test_a_writer_that_read_before_another_commit_can_still_reply(
    committed_engine: Engine, password_hash: str
) -> None:
    """The race above in a fixed order: the first writer has read the thread (its copy now
    says 1 post), a second writer replies and commits, then the first replies and must get #3.
    (On SQLite the first writer holds the write lock from its first statement, so this order
    can't happen there.)"""
    arena = build_arena(committed_engine, "stale-read", 2, password_hash)
    sessions = sessionmaker(bind=committed_engine)
    thread_id = arena.thread_ids[0]

    with sessions() as first, sessions() as second:
        thread = first.get_one(Thread, thread_id)
        author = first.get_one(User, arena.user_ids[0])
        posting.add_post(
            second,
            second.get_one(Thread, thread_id),
            second.get_one(User, arena.user_ids[1]),
            "In between",
        )
        second.commit()
        posting.add_post(first, thread, author, "After reading")
        first.commit()

    with Session(committed_engine) as session:
        numbers = session.scalars(
            select(Post.number).where(Post.thread_id == thread_id).order_by(Post.number)
        ).all()
        assert list(numbers) == [1, 2, 3]
        assert recount.differences(session) == []


# ------------------------------------------------------------------------------ HTTP


@pytest.mark.postgres_only
@skip_unless_postgres
def test_concurrent_http_replies_keep_numbers_and_counters_exact(
    committed_url: str, committed_engine: Engine, password_hash: str
) -> None:
    writers, replies = 8, 10
    arena = build_arena(committed_engine, "http", writers, password_hash)
    app = create_app(
        {"DATABASE_URL": committed_url, "SECRET_KEY": "t", "RATE_LIMITS": "off", **FAST_HASHING}
    )
    thread_urls = []
    with Session(committed_engine) as session:
        for thread_id in arena.thread_ids:
            thread = session.get_one(Thread, thread_id)
            thread_urls.append(f"/t/{thread.id}/{thread.slug}")

    def write(n: int) -> None:
        browser = Browserish(app.test_client())
        browser.login(arena.usernames[n])
        token = browser.token(thread_urls[0])
        for k in range(replies):
            thread_id = arena.thread_ids[k % 2]
            response = browser.client.post(
                f"/t/{thread_id}/reply",
                data={"csrf_token": token, "body": f"Writer {n} says reply {k}"},
            )
            assert response.status_code == 302, f"writer {n} reply {k}: {response.status}"

    try:
        run_together(writers, write)
    finally:
        app.extensions["forum.engine"].dispose()

    assert_all_replies_counted(committed_engine, arena, writers, replies)
