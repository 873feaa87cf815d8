"""forum/staff/recount.py and `flask recount`: counters recounted from the rows, with the
definitions posting and moderation keep live, so a healthy forum has no differences and a
damaged one is reported and repaired."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import Result
from flask import Flask
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from forum.discussion import posting
from forum.models import Board, CacheState, Post, Role, Thread, User
from forum.platform import demo
from forum.staff import moderation, recount, showfile
from forum.staff.recount import Difference
from tests.conftest import Factory, StatementLog

EXAMPLE_FILE = Path(__file__).resolve().parent.parent / "shows.example.toml"
LONG_AGO = datetime(2020, 1, 1, tzinfo=UTC)


def flask(app: Flask, *args: str) -> Result:
    return app.test_cli_runner().invoke(args=list(args))


def named(db: Session, username: str) -> User:
    user = db.scalar(select(User).where(User.username == username))
    assert user is not None
    return user


def titled(db: Session, title: str) -> Thread:
    thread = db.scalar(select(Thread).where(Thread.title == title))
    assert thread is not None
    return thread


def board_of(db: Session, slug: str) -> Board:
    board = db.scalar(select(Board).where(Board.slug == slug))
    assert board is not None
    return board


def posts_of(db: Session, thread: Thread) -> list[Post]:
    return list(db.scalars(select(Post).where(Post.thread_id == thread.id).order_by(Post.number)))


def versions(db: Session, *rows: Board | Thread | User) -> list[int]:
    db.expire_all()
    return [db.get_one(type(row), row.id).cache_version for row in rows]


def site_version(db: Session) -> int:
    return db.scalar(select(CacheState.version)) or 0


def counts(db: Session) -> tuple[int, int, int]:
    return tuple(
        db.scalar(select(func.count()).select_from(model)) or 0  # type: ignore[return-value]
        for model in (Board, Thread, User)
    )


@pytest.fixture
def demo_forum(db: Session) -> None:
    """The example boards and the demo community, made the way `flask demo` makes them."""
    showfile.upsert(db, showfile.parse(EXAMPLE_FILE.read_text(encoding="utf-8")))
    assert demo.seed_demo(db)
    db.commit()


# ------------------------------------------------------------------------------ healthy


@pytest.mark.usefixtures("demo_forum")
def test_a_demo_forum_after_everyday_activity_has_no_differences(db: Session) -> None:
    member, maria, admin = named(db, "demo"), named(db, "mod_maria"), named(db, "admin")
    season_two = titled(db, "Will Partner Track get a season 2?")
    book = titled(db, "Book vs. show: what Georgia Lee changed")
    severance, the_bear = board_of(db, "severance"), board_of(db, "the-bear")
    found: list[tuple[str, list[Difference]]] = [("seeded", recount.differences(db))]

    def step(name: str) -> None:
        db.commit()
        found.append((name, recount.differences(db)))

    posting.add_post(db, season_two, member, "Still hoping.")
    step("reply")
    started = posting.create_thread(db, severance, member, "Goats again", "Why goats?")
    posting.add_post(db, started, maria, "Nobody knows.")
    step("new thread")
    moderation.set_thread_hidden(db, maria, season_two, True, "Spoilers")
    step("hide a thread")
    posting.add_post(db, season_two, maria, "Said while hidden")
    step("reply in a hidden thread")
    moderation.move_thread(db, maria, season_two, the_bear, "Wrong board")
    step("move a hidden thread")
    moderation.move_thread(db, maria, started, the_bear, "Wrong board")
    step("move a visible thread")
    moderation.set_thread_hidden(db, maria, season_two, False, "Aired now")
    step("restore a thread")
    posting.delete_post(posts_of(db, book)[-1])
    step("delete the last post of a thread")
    moderation.set_post_hidden(db, maria, posts_of(db, started)[0], True, "Rude")
    step("hide a post")
    posting.edit_post(db, posts_of(db, book)[0], "Edited opener", editor=admin)
    moderation.purge_post(db, admin, posts_of(db, book)[0], "Doxxing")
    step("edit and purge a post")
    moderation.delete_account(db, admin, named(db, "nyc_paralegal"), "Asked to leave")
    step("delete an account whose post is a thread's last")
    demo.bulk_generate(db, threads=12, posts=150)
    step("bulk data on top")

    assert found == [(name, []) for name, _ in found]


def test_a_forum_with_nothing_in_it_has_no_differences(db: Session, make: Factory) -> None:
    make.board()
    make.user()

    assert recount.differences(db) == []


# ------------------------------------------------------------------------------ damaged


def test_every_damaged_counter_is_reported_and_repaired(db: Session, make: Factory) -> None:
    board, quiet_board = make.board(), make.board()
    author, replier, bystander = make.user(), make.user(), make.user()
    thread = make.thread(board, author, replies=2)
    latest = make.reply(thread, replier, "The latest word")
    quiet = make.thread(quiet_board, bystander)
    first = posts_of(db, thread)[0]
    db.execute(
        update(Thread)
        .where(Thread.id == thread.id)
        .values(
            post_count=99, last_post_id=first.id, last_post_at=LONG_AGO, last_poster_id=author.id
        )
    )
    db.execute(
        update(Board)
        .where(Board.id == board.id)
        .values(thread_count=7, post_count=0, last_post_id=None, last_post_at=None)
    )
    db.execute(update(User).where(User.id == replier.id).values(post_count=5))
    db.commit()
    untouched = [quiet_board, quiet, author, bystander]
    before = versions(db, board, thread, replier, *untouched)

    expected = [
        Difference("boards", board.id, "thread_count", 7, 1),
        Difference("boards", board.id, "post_count", 0, 4),
        Difference("boards", board.id, "last_post_id", None, latest.id),
        Difference("boards", board.id, "last_post_at", None, latest.created_at),
        Difference("threads", thread.id, "post_count", 99, 4),
        Difference("threads", thread.id, "last_post_id", first.id, latest.id),
        Difference("threads", thread.id, "last_post_at", LONG_AGO, latest.created_at),
        Difference("threads", thread.id, "last_poster_id", author.id, replier.id),
        Difference("users", replier.id, "post_count", 5, 1),
    ]
    assert recount.differences(db) == expected
    assert recount.differences(db) == expected  # looking changed nothing

    assert recount.repair(db) == expected
    db.commit()

    assert recount.differences(db) == []
    fixed = db.get_one(Thread, thread.id)
    assert (fixed.post_count, fixed.last_post_id, fixed.last_poster_id) == (
        4,
        latest.id,
        replier.id,
    )
    after = versions(db, board, thread, replier, *untouched)
    assert after[:3] == [version + 1 for version in before[:3]]
    assert after[3:] == before[3:]


def test_a_hidden_threads_posts_are_not_its_boards(db: Session, make: Factory) -> None:
    board = make.board()
    shown = make.thread(board, replies=1)
    hidden = make.thread(board, replies=4)
    moderation.set_thread_hidden(db, make.user(role=Role.MODERATOR), hidden, True, "Leak")
    db.commit()
    # What a recount that forgot hiding would store: every thread and post of the board.
    db.execute(
        update(Board)
        .where(Board.id == board.id)
        .values(
            thread_count=2,
            post_count=7,
            last_post_id=hidden.last_post_id,
            last_post_at=hidden.last_post_at,
        )
    )
    db.commit()

    assert recount.differences(db) == [
        Difference("boards", board.id, "thread_count", 2, 1),
        Difference("boards", board.id, "post_count", 7, 2),
        Difference("boards", board.id, "last_post_id", hidden.last_post_id, shown.last_post_id),
        Difference("boards", board.id, "last_post_at", hidden.last_post_at, shown.last_post_at),
    ]


def test_deleted_and_hidden_posts_still_count(db: Session, make: Factory) -> None:
    author = make.user()
    thread = make.thread(author=author, replies=2)
    second, third = posts_of(db, thread)[1:]
    posting.delete_post(second)
    moderation.set_post_hidden(db, make.user(role=Role.MODERATOR), third, True, "Rude")
    db.commit()
    # What a recount that skipped them would store.
    db.execute(update(Thread).where(Thread.id == thread.id).values(post_count=1))
    db.execute(update(User).where(User.id == author.id).values(post_count=1))
    db.commit()

    assert recount.differences(db) == [
        Difference("threads", thread.id, "post_count", 1, 3),
        Difference("users", author.id, "post_count", 1, 3),
    ]


def test_a_healthy_repair_writes_nothing(db: Session, make: Factory) -> None:
    thread = make.thread(replies=1)
    before = versions(db, thread)

    assert recount.repair(db) == []
    db.commit()

    assert versions(db, thread) == before


def test_the_recount_runs_the_same_statements_for_few_rows_and_many(
    db: Session, make: Factory, sql: StatementLog
) -> None:
    def statements_run(board: Board) -> tuple[int, int]:
        db.execute(update(Thread).where(Thread.board_id == board.id).values(post_count=0))
        db.execute(update(User).values(post_count=0))
        db.commit()
        sql.clear()
        recount.differences(db)
        looking = len(sql)
        sql.clear()
        recount.repair(db)
        repairing = len(sql)
        db.commit()
        return looking, repairing

    small = make.board()
    make.thread(small)
    few = statements_run(small)
    big = make.board()
    for _ in range(25):
        make.thread(big, replies=2)
    many = statements_run(big)

    assert few == many
    assert recount.differences(db) == []


# ------------------------------------------------------------------------------ flask recount


@pytest.mark.usefixtures("demo_forum")
def test_recount_on_a_healthy_forum_says_so_and_changes_nothing(app: Flask, db: Session) -> None:
    boards, threads, users = counts(db)
    version = site_version(db)

    result = flask(app, "recount")

    assert result.exit_code == 0, result.output
    assert result.output == (
        f"Counters checked: {boards} boards, {threads} threads, {users} users; 0 differences.\n"
    )
    assert site_version(db) == version  # no cached page is thrown away for nothing


def test_recount_reports_and_fixes_damage(app: Flask, db: Session, make: Factory) -> None:
    thread = make.thread(replies=3)
    db.execute(update(Thread).where(Thread.id == thread.id).values(post_count=99))
    db.commit()
    version = site_version(db)

    result = flask(app, "recount")

    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        f"threads {thread.id}: post_count is 99, should be 4",
        "Counters checked: 1 boards, 1 threads, 1 users; 1 difference, fixed.",
    ]
    db.expire_all()
    assert db.get_one(Thread, thread.id).post_count == 4
    assert site_version(db) == version + 1
    again = flask(app, "recount")
    assert again.output.endswith("; 0 differences.\n")


def test_recount_dry_run_reports_and_leaves_the_damage(
    app: Flask, db: Session, make: Factory
) -> None:
    thread = make.thread()
    db.execute(update(Board).where(Board.id == thread.board_id).values(last_post_id=None))
    db.commit()

    result = flask(app, "recount", "--dry-run")

    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        f"boards {thread.board_id}: last_post_id is none, should be {thread.last_post_id}",
        "Counters checked: 1 boards, 1 threads, 1 users; 1 difference (not fixed: --dry-run).",
    ]
    db.expire_all()
    assert db.get_one(Board, thread.board_id).last_post_id is None
    assert flask(app, "recount", "--dry-run").output == result.output
