"""The benchmark's dataset as bench/dataset.py builds it through the CLI: every board gets
episodes from the bench's show file, `flask demo --threads/--posts` ties threads and posts to
them and writes spoilers into bodies, and the pages the bench picks make a reader at S1E6 pay
for every spoiler rule. Real databases that commit (the CLI commits), SQLite or PostgreSQL."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import Result
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bench.dataset import (
    BENCH_EPISODES,
    DATASET_VERSION,
    POSTS_PER_PAGE,
    WATCHED,
    cached_version,
    discover_pages,
    episode_boards,
    episodes_show_file,
)
from forum.db import make_engine
from forum.discussion.episode_codes import code_of, parse_code
from forum.discussion.spoiler_html import spoiler_keys
from forum.models import Board, Episode, Post, Thread
from forum.platform import demo
from tests.conftest import (
    EXAMPLE_FILE,
    flask_command,
    migrated_database_url,
)

WATCHED_KEY = parse_code(WATCHED) or 0


def flask(url: str, *args: str) -> Result:
    result = flask_command(url, *args)
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture(scope="module")
def bench_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A database built the way bench/dataset.py builds one, at a test-sized scale."""
    tmp = tmp_path_factory.mktemp("bench_dataset")
    url = migrated_database_url(tmp, "bench_dataset")
    flask(url, "boards", "import", str(EXAMPLE_FILE))
    flask(url, "boards", "import", str(episodes_show_file(tmp / "episodes.toml")))
    flask(url, "demo")
    flask(url, "demo", "--threads", "60", "--posts", "1500")
    return url


@pytest.fixture
def session(bench_url: str) -> Iterator[Session]:
    engine = make_engine(bench_url)
    with Session(engine) as opened:
        yield opened
    engine.dispose()


def test_the_show_file_gives_episodes_only_to_boards_that_list_none(tmp_path: Path) -> None:
    written = tomllib.loads(episodes_show_file(tmp_path / "episodes.toml").read_text())
    example = tomllib.loads(EXAMPLE_FILE.read_text())["boards"]
    without = [board["slug"] for board in example if not board.get("episodes")]

    assert [board["slug"] for board in written["boards"]] == without
    for board in written["boards"]:
        assert [(e["season"], e["number"]) for e in board["episodes"]] == [
            (1, n) for n in range(1, BENCH_EPISODES + 1)
        ]


def test_every_board_has_episodes(bench_url: str, session: Session) -> None:
    boards = set(session.scalars(select(Board.slug).where(Board.is_archived.is_(False))))

    assert set(episode_boards(bench_url)) == boards
    for board_id in session.scalars(select(Board.id)):
        count = session.scalar(select(func.count()).where(Episode.board_id == board_id))
        assert count is not None and count >= BENCH_EPISODES


def test_bulk_threads_tied_to_episodes_are_a_fraction_with_the_episode_as_slug(
    session: Session,
) -> None:
    bulk = list(session.scalars(select(Thread).where(Thread.title.like("Discussion #%"))))
    tied = [(thread, thread.episode_key) for thread in bulk if thread.episode_key is not None]

    assert len(tied) == len(bulk) // demo.THREAD_EPISODE_EVERY
    assert any(key > WATCHED_KEY for _thread, key in tied)
    assert all(thread.slug == code_of(key).lower() for thread, key in tied)
    # Posts in a tied thread discuss its episode, as posting's default has it.
    for thread, key in tied:
        keys = set(session.scalars(select(Post.episode_key).where(Post.thread_id == thread.id)))
        assert keys == {key}


def test_bulk_posts_in_other_threads_are_sometimes_marked_and_carry_spoilers(
    session: Session,
) -> None:
    untied = select(Thread.id).where(
        Thread.title.like("Discussion #%"), Thread.episode_key.is_(None)
    )
    posts = list(session.scalars(select(Post).where(Post.thread_id.in_(untied))))
    marked = [post for post in posts if post.episode_key is not None]
    spoiled = set().union(*(spoiler_keys(post.html) for post in posts))

    assert 0 < len(marked) < len(posts) // 2
    assert any((post.episode_key or 0) > WATCHED_KEY for post in marked)
    assert parse_code("S1E8") in spoiled and parse_code("S1E3") in spoiled
    assert any('<label class="spoiler">' in post.html for post in posts)  # a generic spoiler


def test_the_measured_thread_has_posts_beyond_the_watcher_on_its_first_page(
    bench_url: str, session: Session
) -> None:
    pages = {page.name: page for page in discover_pages(bench_url)}
    board = session.scalars(
        select(Board).where(Board.slug == pages["board"].path.removeprefix("/b/"))
    ).one()
    thread_id = int(pages["thread"].path.split("/")[2])
    thread = session.get_one(Thread, thread_id)
    first_page = list(
        session.scalars(
            select(Post).where(Post.thread_id == thread_id, Post.number <= POSTS_PER_PAGE)
        )
    )

    assert board.thread_count == max(session.scalars(select(Board.thread_count)))
    assert thread.board_id == board.id
    assert thread.episode_key is None or thread.episode_key <= WATCHED_KEY
    assert any((post.episode_key or 0) > WATCHED_KEY for post in first_page)
    assert any(spoiler_keys(post.html) for post in first_page)


def test_a_cached_dataset_of_another_version_counts_as_missing(tmp_path: Path) -> None:
    unversioned, current = tmp_path / "old.json", tmp_path / "new.json"
    unversioned.write_text(json.dumps({"posts": 1, "threads": 1}))
    current.write_text(json.dumps({"posts": 1, "version": DATASET_VERSION}))

    assert cached_version(unversioned) != DATASET_VERSION
    assert cached_version(current) == DATASET_VERSION
