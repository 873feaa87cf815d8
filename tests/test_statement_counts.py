"""The SQL budget of the read pages: a fixed number of statements whatever the page shows, so a
board with 50 threads costs what a board with one does (no N+1 from templates).

The constants are the budget. If a change moves one, that is a decision: update the constant in
the same commit and say why.
"""

from __future__ import annotations

import pytest

from forum.models import Board, Thread, User
from tests.conftest import Browserish, Factory, StatementLog

# The board list with each board's latest post, its thread and its author: one joined SELECT.
INDEX_STATEMENTS = 1
# The board, then one page of threads with their authors and last posters.
BOARD_PAGE_STATEMENTS = 2
# The thread with its board, then one page of posts with their authors.
THREAD_PAGE_STATEMENTS = 2
# A logged-in member's pages also load the member (Flask-Login's user loader).
LOGGED_IN_EXTRA = 1

SIZES = [1, 50]


def authors(make: Factory, count: int) -> list[User]:
    """Distinct authors, so that a per-row author lookup would show up as extra statements."""
    return [make.user() for _ in range(count)]


def board_index_with(make: Factory, boards: int) -> None:
    for fan in authors(make, boards):
        make.thread(board=make.board(), author=fan)


def board_with(make: Factory, threads: int) -> Board:
    board = make.board()
    for fan in authors(make, threads):
        make.thread(board=board, author=fan)
    return board


def thread_with(make: Factory, posts: int) -> Thread:
    fans = authors(make, posts)
    thread = make.thread(author=fans[0])
    for fan in fans[1:]:
        make.reply(thread, fan)
    return thread


def statements_for(client: Browserish, sql: StatementLog, url: str) -> int:
    sql.clear()
    response = client.get(url)
    assert response.status_code == 200
    return len(sql)


@pytest.mark.parametrize("boards", SIZES)
def test_index_statements(
    client: Browserish, make: Factory, sql: StatementLog, boards: int
) -> None:
    board_index_with(make, boards)

    assert statements_for(client, sql, "/") == INDEX_STATEMENTS


@pytest.mark.parametrize("threads", SIZES)
def test_board_page_statements(
    client: Browserish, make: Factory, sql: StatementLog, threads: int
) -> None:
    board = board_with(make, threads)

    assert statements_for(client, sql, f"/b/{board.slug}") == BOARD_PAGE_STATEMENTS


@pytest.mark.parametrize("posts", SIZES)
def test_thread_page_statements(
    client: Browserish, make: Factory, sql: StatementLog, posts: int
) -> None:
    thread = thread_with(make, posts)

    url = f"/t/{thread.id}/{thread.slug}"
    assert statements_for(client, sql, url) == THREAD_PAGE_STATEMENTS


@pytest.mark.parametrize("boards", SIZES)
def test_index_statements_logged_in(
    member_client: Browserish, make: Factory, sql: StatementLog, boards: int
) -> None:
    board_index_with(make, boards)

    assert statements_for(member_client, sql, "/") == INDEX_STATEMENTS + LOGGED_IN_EXTRA


@pytest.mark.parametrize("threads", SIZES)
def test_board_page_statements_logged_in(
    member_client: Browserish, make: Factory, sql: StatementLog, threads: int
) -> None:
    board = board_with(make, threads)

    expected = BOARD_PAGE_STATEMENTS + LOGGED_IN_EXTRA
    assert statements_for(member_client, sql, f"/b/{board.slug}") == expected


@pytest.mark.parametrize("posts", SIZES)
def test_thread_page_statements_logged_in(
    member_client: Browserish, make: Factory, sql: StatementLog, posts: int
) -> None:
    thread = thread_with(make, posts)

    url = f"/t/{thread.id}/{thread.slug}"
    assert statements_for(member_client, sql, url) == THREAD_PAGE_STATEMENTS + LOGGED_IN_EXTRA
