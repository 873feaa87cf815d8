"""The SQL budget of the read pages: a fixed number of statements whatever the page shows, so a
board with 50 threads costs what a board with one does (no N+1 from templates).

The constants are the budget. If a change moves one, that is a decision: update the constant in
the same commit and say why.
"""

from __future__ import annotations

import pytest

from forum.models import Board, Thread, User
from tests.conftest import Browserish, Factory, StatementLog

# Anonymous visitors' pages first read the page cache's content version
# (forum/platform/pagecache.py);
# a cached page costs only that read.
VERSION_READ = 1
# Members' pages are never cached, so they skip that read, but Flask-Login loads the member.
LOAD_MEMBER = 1
# The board list with each board's latest post, its thread and its author: one joined SELECT.
INDEX_QUERIES = 1
# The board, then one page of threads with their authors and last posters.
BOARD_PAGE_QUERIES = 2
# The thread with its board (and a member's read mark and watch level, joined in), then one
# page of posts with their authors.
THREAD_PAGE_QUERIES = 2
# A member's first view of posts past their read mark records it (forum/conversation/
# read_marks.py): one upsert; the transaction's BEGIN and COMMIT aren't counted as statements.
READ_MARK_WRITE = 1

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
    # Site settings are read once per process every few seconds (forum/platform/settings.py); warm
    # them on an uncached page so the count is the page's own.
    client.get("/search")
    sql.clear()
    response = client.get(url)
    assert response.status_code == 200
    return len(sql)


@pytest.mark.parametrize("boards", SIZES)
def test_index_statements(
    client: Browserish, make: Factory, sql: StatementLog, boards: int
) -> None:
    board_index_with(make, boards)

    assert statements_for(client, sql, "/") == VERSION_READ + INDEX_QUERIES


@pytest.mark.parametrize("threads", SIZES)
def test_board_page_statements(
    client: Browserish, make: Factory, sql: StatementLog, threads: int
) -> None:
    board = board_with(make, threads)

    assert statements_for(client, sql, f"/b/{board.slug}") == VERSION_READ + BOARD_PAGE_QUERIES


@pytest.mark.parametrize("posts", SIZES)
def test_thread_page_statements(
    client: Browserish, make: Factory, sql: StatementLog, posts: int
) -> None:
    thread = thread_with(make, posts)

    url = f"/t/{thread.id}/{thread.slug}"
    assert statements_for(client, sql, url) == VERSION_READ + THREAD_PAGE_QUERIES


@pytest.mark.parametrize("boards", SIZES)
def test_index_statements_logged_in(
    member_client: Browserish, make: Factory, sql: StatementLog, boards: int
) -> None:
    board_index_with(make, boards)

    assert statements_for(member_client, sql, "/") == LOAD_MEMBER + INDEX_QUERIES


@pytest.mark.parametrize("threads", SIZES)
def test_board_page_statements_logged_in(
    member_client: Browserish, make: Factory, sql: StatementLog, threads: int
) -> None:
    board = board_with(make, threads)

    expected = LOAD_MEMBER + BOARD_PAGE_QUERIES
    assert statements_for(member_client, sql, f"/b/{board.slug}") == expected


@pytest.mark.parametrize("posts", SIZES)
def test_thread_page_statements_logged_in(
    member_client: Browserish, make: Factory, sql: StatementLog, posts: int
) -> None:
    thread = thread_with(make, posts)

    url = f"/t/{thread.id}/{thread.slug}"
    first = statements_for(member_client, sql, url)
    again = statements_for(member_client, sql, url)

    assert first == LOAD_MEMBER + THREAD_PAGE_QUERIES + READ_MARK_WRITE
    assert again == LOAD_MEMBER + THREAD_PAGE_QUERIES  # the mark doesn't move: no write


@pytest.mark.parametrize("page", ["index", "board", "thread"])
def test_a_cached_page_costs_only_the_version_read(
    client: Browserish, make: Factory, sql: StatementLog, page: str
) -> None:
    thread = thread_with(make, 50)
    board = make.session.get_one(Board, thread.board_id)
    url = {"index": "/", "board": f"/b/{board.slug}", "thread": f"/t/{thread.id}/{thread.slug}"}
    first = client.get(url[page])

    sql.clear()
    again = client.get(url[page])

    assert len(sql) == VERSION_READ
    assert again.get_data() == first.get_data()
