"""Episodes' official discussion threads (forum/discussion/episodes.py): opened once an episode
has aired, never twice (a second run, or two runs at once, opens nothing more), by the first
admin or the admin who pressed the button (logged); an admin's saved episode is logged and
site-wide. Through the domain function, `flask episodes open` and the periodic job."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import pytest
from click.testing import Result
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from forum.accounts.membership import create_user
from forum.db import db_session, make_engine
from forum.discussion import episodes
from forum.discussion.episodes import EpisodeEntry
from forum.models import Board, CacheState, Episode, ModAction, Post, Role, Thread, User
from forum.platform import jobs
from forum.staff import recount
from forum.staff.moderation import LoggedAction
from tests.conftest import Factory, migrated_database_url

TODAY = date(2026, 12, 2)
AIRED = date(2022, 8, 26)


def flask(app: Flask, *args: str) -> Result:
    return app.test_cli_runner().invoke(args=list(args))


def add_episodes(db: Session, board: Board, *entries: EpisodeEntry) -> None:
    episodes.upsert_episodes(db, board, entries)
    db.commit()


def threads_of(db: Session, board: Board) -> list[Thread]:
    return list(
        db.scalars(
            select(Thread)
            .where(Thread.board_id == board.id)
            .order_by(Thread.id)
            .execution_options(populate_existing=True)
        )
    )


def episode(db: Session, board: Board, season: int, number: int) -> Episode:
    found = db.scalar(
        select(Episode)
        .where(Episode.board_id == board.id, Episode.season == season, Episode.number == number)
        .execution_options(populate_existing=True)
    )
    assert found is not None
    return found


def site_version(db: Session) -> int:
    db.expire_all()
    return db.scalar(select(CacheState.version)) or 0


def logged(db: Session, action: LoggedAction) -> list[ModAction]:
    return list(db.scalars(select(ModAction).where(ModAction.action == action.value)))


@pytest.fixture
def work(app: Flask) -> Iterator[Session]:
    """The app's own session, as a request or job has it: watched by forum/platform/freshness.py
    (so its site-wide declarations bump the version once per transaction, as in production)."""
    with app.app_context():
        yield db_session()


@pytest.fixture
def show(make: Factory, db: Session) -> Board:
    """A board with two aired episodes, one airing later and one without a date."""
    board = make.board("partner-track", name="Partner Track")
    add_episodes(
        db,
        board,
        EpisodeEntry(1, 1, "Pilot", AIRED),
        EpisodeEntry(1, 2, "Episode 2", TODAY),
        EpisodeEntry(1, 3, "Episode 3", date(2026, 12, 9)),
        EpisodeEntry(1, 4, "Episode 4", None),
    )
    return board


# ------------------------------------------------------------------------------ opening


def test_aired_episodes_get_their_thread_by_the_first_admin(
    db: Session, work: Session, make: Factory, show: Board, admin: User
) -> None:
    make.user("later_admin", role=Role.ADMIN)
    before = site_version(db)

    result = episodes.open_aired_threads(work, TODAY)
    work.commit()

    assert result.reason == ""
    assert [t.title for t in result.opened] == [
        "S1E1 discussion: Pilot",
        "S1E2 discussion: Episode 2",
    ]
    threads = threads_of(db, show)
    assert [(t.episode_key, t.author_id, t.post_count) for t in threads] == [
        (1001, admin.id, 1),
        (1002, admin.id, 1),
    ]
    assert episode(db, show, 1, 1).thread_id == threads[0].id
    assert episode(db, show, 1, 3).thread_id is None  # airs next week
    assert episode(db, show, 1, 4).thread_id is None  # no date: not aired
    assert site_version(db) > before
    assert logged(db, LoggedAction.OPEN_EPISODE_THREADS) == []  # nobody pressed a button
    assert recount.differences(db) == []


def test_the_opening_post_says_when_it_aired_and_how_to_tag_later_episodes(
    db: Session, show: Board, admin: User
) -> None:
    [first, _] = episodes.open_aired_threads(db, TODAY).opened
    db.commit()

    post = db.scalar(select(Post).where(Post.thread_id == first.id))
    assert post is not None
    assert "26 August 2022" in post.source
    assert "`>!S1E2: what happens!<`" in post.source
    assert "<code>&gt;!S1E2: what happens!&lt;</code>" in post.html


def test_a_second_run_opens_nothing(db: Session, work: Session, show: Board, admin: User) -> None:
    episodes.open_aired_threads(work, TODAY)
    work.commit()
    before = site_version(db)

    again = episodes.open_aired_threads(work, TODAY)
    work.commit()

    assert (again.opened, again.reason) == ([], "")
    assert len(threads_of(db, show)) == 2
    assert site_version(db) == before


def test_a_later_day_opens_the_next_episode(db: Session, show: Board, admin: User) -> None:
    episodes.open_aired_threads(db, TODAY)

    later = episodes.open_aired_threads(db, date(2026, 12, 9))

    assert [t.episode_key for t in later.opened] == [1003]


def test_without_an_admin_nothing_is_opened_and_the_reason_given(db: Session, show: Board) -> None:
    result = episodes.open_aired_threads(db, TODAY)

    assert result.opened == []
    assert "no admin" in result.reason
    assert threads_of(db, show) == []


def test_an_admin_pressing_the_button_is_the_author_and_is_logged(
    db: Session, make: Factory, show: Board, admin: User
) -> None:
    other = make.board("severance")
    add_episodes(db, other, EpisodeEntry(1, 1, "Good News About Hell", AIRED))
    presser = make.user("presser", role=Role.ADMIN)

    result = episodes.open_aired_threads(db, TODAY, board=show, opener=presser)
    db.commit()

    assert [(t.board_id, t.author_id) for t in result.opened] == [(show.id, presser.id)] * 2
    assert threads_of(db, other) == []  # only the board asked for
    [row] = logged(db, LoggedAction.OPEN_EPISODE_THREADS)
    assert (row.actor_id, row.target_board_id, row.details) == (presser.id, show.id, "S1E1, S1E2")

    episodes.open_aired_threads(db, TODAY, board=show, opener=presser)
    db.commit()
    assert len(logged(db, LoggedAction.OPEN_EPISODE_THREADS)) == 1  # nothing opened: no row


def test_archived_boards_get_no_threads(db: Session, show: Board, admin: User) -> None:
    show.is_archived = True
    db.commit()

    everywhere = episodes.open_aired_threads(db, TODAY)
    asked = episodes.open_aired_threads(db, TODAY, board=show, opener=admin)

    assert (everywhere.opened, everywhere.reason) == ([], "")
    assert asked.opened == [] and "archived" in asked.reason
    assert threads_of(db, show) == []


def test_a_long_title_is_shortened_to_fit_a_thread_title(
    db: Session, make: Factory, admin: User
) -> None:
    board = make.board()
    add_episodes(db, board, EpisodeEntry(2, 10, "T" * 200, AIRED))

    [thread] = episodes.open_aired_threads(db, TODAY).opened

    assert len(thread.title) == 150
    assert thread.title.startswith("S2E10 discussion: TTT") and thread.title.endswith("\u2026")


# ------------------------------------------------------------------------------ saving


def test_save_episode_creates_then_updates_and_logs_each(
    db: Session, work: Session, make: Factory, admin: User
) -> None:
    board = make.board("the-bear", name="The Bear")
    before = site_version(db)

    saved = episodes.save_episode(work, admin, board, 1, 3, " Brigade ", None)
    work.commit()
    middle = site_version(db)
    updated = episodes.save_episode(work, admin, board, 1, 3, "Brigade", date(2022, 6, 23))
    work.commit()

    assert saved.id == updated.id
    stored = episode(db, board, 1, 3)
    assert (stored.id, stored.title, stored.aired) == (saved.id, "Brigade", date(2022, 6, 23))
    assert db.scalar(select(func.count()).select_from(Episode)) == 1
    rows = logged(db, LoggedAction.SAVE_EPISODE)
    # The public log names the episode by code: its title may spoil it.
    assert [(r.actor_id, r.target_board_id, r.details) for r in rows] == [
        (admin.id, board.id, "S1E3, no air date"),
        (admin.id, board.id, "S1E3, aired 2022-06-23"),
    ]
    assert site_version(db) > middle > before


@pytest.mark.parametrize(
    "season, number, title", [(0, 1, "A"), (1, 1000, "A"), (1, 1, "  "), (1, 1, "x" * 201)]
)
def test_save_episode_refuses_values_out_of_range(
    db: Session, make: Factory, admin: User, season: int, number: int, title: str
) -> None:
    board = make.board()

    with pytest.raises(ValueError):
        episodes.save_episode(db, admin, board, season, number, title, None)

    assert db.scalar(select(func.count()).select_from(Episode)) == 0


# ------------------------------------------------------------------------------ flask episodes


def test_the_command_prints_each_thread_then_nothing_to_open(
    app: Flask, db: Session, show: Board, admin: User
) -> None:
    first = flask(app, "episodes", "open")
    again = flask(app, "episodes", "open", "--board", "partner-track")

    assert first.exit_code == 0, first.output
    threads = threads_of(db, show)
    # Whatever today is (the command uses the real date), the 2022 episode has aired.
    assert f"Opened S1E1 on partner-track: thread {threads[0].id}" in first.output
    assert len(first.output.splitlines()) == len(threads)
    assert again.exit_code == 0
    assert again.output.startswith("Nothing to open")


def test_the_command_gives_the_reason_without_an_admin(
    app: Flask, db: Session, show: Board
) -> None:
    result = flask(app, "episodes", "open")

    assert result.exit_code == 0
    assert "Nothing opened: there is no admin account" in result.output
    assert threads_of(db, show) == []


def test_the_command_refuses_an_unknown_board(app: Flask, show: Board, admin: User) -> None:
    result = flask(app, "episodes", "open", "--board", "nope")

    assert result.exit_code == 1
    assert "No board with the slug 'nope'" in result.output


# ------------------------------------------------------------------------------ the job


def test_the_job_is_registered_every_quarter_hour(app: Flask, tmp_path: Path) -> None:
    app.config.update(JOBS_IMMEDIATE=False, JOBS_PATH=str(tmp_path / "jobs.sqlite3"))
    huey = jobs.queue(app).huey

    def due(minute: int) -> bool:
        moment = datetime(2026, 12, 2, 9, minute)
        return "open_episode_threads" in [t.name for t in huey.read_periodic(moment)]

    assert due(0) and due(15) and due(45) and not due(7)


def test_the_job_opens_aired_threads_and_commits(
    app: Flask, db: Session, show: Board, admin: User
) -> None:
    with app.app_context():
        episodes.open_episode_threads.func()

    assert [t.episode_key for t in threads_of(db, show)][:1] == [1001]
    assert episode(db, show, 1, 1).thread_id is not None


# ------------------------------------------------------------------------------ two runs at once


@pytest.fixture
def committed_engine(tmp_path: Path, password_hash: str) -> Iterator[Engine]:
    """A database of its own that really commits, with an admin and a board of aired
    episodes (both engines: PostgreSQL races, SQLite serialises its writers)."""
    engine = make_engine(migrated_database_url(tmp_path, "episode_race"))
    with Session(engine) as session:
        create_user(
            session, "race_admin", "race@example.org", role=Role.ADMIN, password_hash=password_hash
        )
        board = Board(slug="race", name="Race")
        session.add(board)
        session.flush()
        entries = [EpisodeEntry(1, n, f"Episode {n}", AIRED) for n in range(1, 6)]
        episodes.upsert_episodes(session, board, entries)
        session.commit()
    yield engine
    engine.dispose()


def test_two_runs_at_once_open_each_thread_once(committed_engine: Engine) -> None:
    start = threading.Barrier(2)
    opened: list[int] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            with Session(committed_engine) as session:
                start.wait()
                result = episodes.open_aired_threads(session, TODAY)
                # Hold the transaction open: without the row locks, the other run would now
                # read the same episodes without threads and open them again.
                time.sleep(0.3)
                session.commit()
                opened.append(len(result.opened))
        except BaseException as error:  # reported below, not lost in the thread
            errors.append(error)

    runners = [threading.Thread(target=run) for _ in range(2)]
    for runner in runners:
        runner.start()
    for runner in runners:
        runner.join(timeout=30)

    assert errors == []
    assert sorted(opened) == [0, 5]
    with Session(committed_engine) as session:
        keys = session.scalars(select(Thread.episode_key).order_by(Thread.episode_key)).all()
        assert keys == [1001, 1002, 1003, 1004, 1005]
        assert session.scalar(select(func.count()).where(Episode.thread_id.is_(None))) == 0
