"""Statement budgets with watching and muting: a member with mutes and board levels pays two
viewer queries (their mutes, their board states: forum/access/viewer.py) and nothing per post,
thread, board or mute on the read pages; /watching costs the same for one followed thread as
for a page of them. Budgets from tests/test_statement_counts.py."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from forum.models import Board, BoardState, MemberMute, Thread, ThreadState, User
from tests.conftest import Browserish, Factory, StatementLog
from tests.test_statement_counts import (
    BOARD_PAGE_QUERIES,
    INDEX_QUERIES,
    LOAD_MEMBER,
    THREAD_PAGE_QUERIES,
    statements_for,
)

# The member's mutes, then their board states: loaded once per request, only for members who
# have any (users.has_conversation_settings).
VIEWER_CONVERSATION_QUERIES = 2
# /watching: the followed threads' count, their page (with boards), the boards followed and
# the members muted (each of the last two by the ids the viewer already holds).
WATCHING_PAGE_QUERIES = 4
# A profile: the member with their post count, then their recent posts.
PROFILE_QUERIES = 2

SIZES = [1, 20]  # 20: a full page of posts (POSTS_PER_PAGE), each by a muted author


def follow_everything(db: Session, member: User, make: Factory, size: int) -> Thread:
    """`size` threads in one board, with a distinct author each: the member watches or muted
    them all, mutes every author, watches the board, mutes another. Returns the first thread,
    whose replies come from every muted author."""
    watched_board = make.board()
    muted_board = make.board()
    authors = [make.user() for _ in range(size)]
    threads = [make.thread(board=watched_board, author=author) for author in authors]
    for author in authors[1:]:
        make.reply(threads[0], author)
    make.thread(board=muted_board)
    for number, thread in enumerate(threads):
        db.add(
            ThreadState(
                user_id=member.id,
                thread_id=thread.id,
                level="watching" if number % 2 == 0 else "muted",
                level_chosen=True,
            )
        )
    db.add_all(MemberMute(user_id=member.id, muted_id=author.id) for author in authors)
    db.add(BoardState(user_id=member.id, board_id=watched_board.id, level="watching"))
    db.add(BoardState(user_id=member.id, board_id=muted_board.id, level="muted"))
    db.refresh(member)
    member.has_conversation_settings = True
    db.commit()
    return threads[0]


@pytest.mark.parametrize("size", SIZES)
def test_watching_page_statements(
    member_client: Browserish,
    member: User,
    make: Factory,
    db: Session,
    sql: StatementLog,
    size: int,
) -> None:
    follow_everything(db, member, make, size)

    count = statements_for(member_client, sql, "/watching")

    assert count == LOAD_MEMBER + VIEWER_CONVERSATION_QUERIES + WATCHING_PAGE_QUERIES


def test_watching_page_statements_for_a_member_following_nothing(
    member_client: Browserish, sql: StatementLog
) -> None:
    """No settings: no viewer queries, no boards or members to look up."""
    assert statements_for(member_client, sql, "/watching") == LOAD_MEMBER + 2


@pytest.mark.parametrize("size", SIZES)
def test_thread_page_statements_with_mutes_and_board_levels(
    member_client: Browserish,
    member: User,
    make: Factory,
    db: Session,
    sql: StatementLog,
    size: int,
) -> None:
    thread = follow_everything(db, member, make, size)
    url = f"/t/{thread.id}/{thread.slug}"
    statements_for(member_client, sql, url)  # the first view writes the read mark

    count = statements_for(member_client, sql, url)

    assert count == LOAD_MEMBER + VIEWER_CONVERSATION_QUERIES + THREAD_PAGE_QUERIES
    page = member_client.get(url).get_data(as_text=True)
    assert page.count('<details class="muted-post">') == size  # the mutes are applied


@pytest.mark.parametrize("size", SIZES)
def test_board_page_statements_with_mutes_and_board_levels(
    member_client: Browserish,
    member: User,
    make: Factory,
    db: Session,
    sql: StatementLog,
    size: int,
) -> None:
    thread = follow_everything(db, member, make, size)
    board = db.get_one(Board, thread.board_id)

    count = statements_for(member_client, sql, f"/b/{board.slug}")

    assert count == LOAD_MEMBER + VIEWER_CONVERSATION_QUERIES + BOARD_PAGE_QUERIES
    page = member_client.get(f"/b/{board.slug}").get_data(as_text=True)
    assert 'value="watching" aria-pressed="true"' in page


@pytest.mark.parametrize("size", SIZES)
def test_index_and_profile_statements_with_mutes_and_board_levels(
    member_client: Browserish,
    member: User,
    make: Factory,
    db: Session,
    sql: StatementLog,
    size: int,
) -> None:
    thread = follow_everything(db, member, make, size)
    author = db.get_one(User, thread.author_id)

    index = statements_for(member_client, sql, "/")
    profile = statements_for(member_client, sql, f"/u/{author.username}")

    assert index == LOAD_MEMBER + VIEWER_CONVERSATION_QUERIES + INDEX_QUERIES
    assert profile == LOAD_MEMBER + VIEWER_CONVERSATION_QUERIES + PROFILE_QUERIES
    assert "badge-muted" in member_client.get("/").get_data(as_text=True)
