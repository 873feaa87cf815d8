"""Spoiler protection costs no statement: a member's index, board, thread and profile pages run
the same number of statements with watch progress set on the board, unset, and with "show me
everything" (issue 12: progress joins the viewer, the episodes ride with the site settings).
The counts are also held to the budget of tests/test_statement_counts.py."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session

from forum.discussion import posting
from forum.discussion.episode_codes import key_of
from forum.discussion.episodes import EpisodeEntry, upsert_episodes
from forum.models import User
from tests.conftest import Browserish, Factory, StatementLog
from tests.test_statement_counts import (
    BOARD_PAGE_QUERIES,
    INDEX_QUERIES,
    LOAD_MEMBER,
    THREAD_PAGE_QUERIES,
    statements_for,
)

AIRED = date(2022, 8, 26)
# The profile: the member, then their recent posts with threads (see tests/test_reading_pages.py
# for the page itself); whatever it is, spoilers must not change it.
PAGES = ["index", "board", "thread", "profile"]
STATES = ["progress unset", "progress at S1E6", "sees everything"]


def set_state(db: Session, user: User, board_id: int, state: str) -> None:
    db.refresh(user)
    user.watch_progress = {str(board_id): key_of(1, 6)} if state == "progress at S1E6" else {}
    user.sees_all_spoilers = state == "sees everything"
    db.commit()


@pytest.fixture
def urls(make: Factory, db: Session) -> dict[str, str]:
    """A show with ten episodes, an episode thread past S1E6 and an early thread whose posts
    carry later spoilers and a post tagged to a later episode: everything the masking touches."""
    board = make.board("counted-show")
    upsert_episodes(db, board, [EpisodeEntry(1, n, f"Episode {n}", AIRED) for n in range(1, 11)])
    db.commit()
    fans = [make.user() for _ in range(6)]
    early = posting.create_thread(
        db, board, fans[0], "Early chat", "Hi >!S1E8: later!<", episode_key=key_of(1, 3)
    )
    for number, fan in enumerate(fans[1:], start=4):
        posting.add_post(db, early, fan, f"Up to >!S1E{number + 3}: x!<", episode_key=None)
        posting.add_post(db, early, fan, "About a later one", episode_key=key_of(1, number + 3))
    late = posting.create_thread(db, board, fans[1], "The finale", "Wow", episode_key=key_of(1, 10))
    posting.create_thread(db, board, fans[2], "News", "Renewed", is_news=True)
    db.commit()
    return {
        "index": "/",
        "board": f"/b/{board.slug}",
        "thread": f"/t/{early.id}/{early.slug}",
        # Tied to S1E10: the warning page at S1E6, the thread itself otherwise (the boundary of
        # members without progress is the visitors', and every episode aired long ago).
        "masked thread": f"/t/{late.id}/{late.slug}",
        "profile": f"/u/{fans[1].username}",
        "board_id": str(board.id),
    }


def counts_by_state(
    member_client: Browserish, member: User, db: Session, sql: StatementLog, url: str, board: int
) -> dict[str, int]:
    counts = {}
    for state in STATES:
        set_state(db, member, board, state)
        statements_for(member_client, sql, url)  # warm: settings and catalogue cached
        counts[state] = statements_for(member_client, sql, url)
    return counts


@pytest.mark.parametrize("page", [*PAGES, "masked thread"])
def test_statements_are_the_same_whatever_the_progress(
    member_client: Browserish,
    member: User,
    db: Session,
    sql: StatementLog,
    urls: dict[str, str],
    page: str,
) -> None:
    counts = counts_by_state(member_client, member, db, sql, urls[page], int(urls["board_id"]))

    print(page, counts)  # for the record: pytest -s shows the figures
    assert len(set(counts.values())) == 1, counts
    budget = {
        "index": LOAD_MEMBER + INDEX_QUERIES,
        "board": LOAD_MEMBER + BOARD_PAGE_QUERIES,
        "thread": LOAD_MEMBER + THREAD_PAGE_QUERIES,
    }
    if page in budget:
        assert counts["progress at S1E6"] == budget[page]
