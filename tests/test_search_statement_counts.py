"""The search page's SQL budget: a fixed number of statements for one result and for a page
full of them (each by another author, in another thread, on one of several boards), for a
visitor and a member, on whichever engine the suite runs on. See
tests/test_statement_counts.py for the rules: a change that moves a constant says why.
"""

from __future__ import annotations

import pytest

from forum.models import Board
from tests.conftest import Browserish, Factory, StatementLog

# Search pages are per query, never page-cached: no version read for visitors.
LOAD_MEMBER = 1
# Every board (the select, the board filter, the result rows' board names, the boards that
# match): one small table.
BOARDS = 1
# forum/search/search.py: the candidates (visibility, ranking and the count in one
# statement), then the shown page's posts with their text.
ENGINE = 2
# The results' posts with their threads and authors.
RESULT_ROWS = 1
# Members whose names match (page 1).
MEMBERS = 1
# The author named in the form, and the thread searched within.
AUTHOR_LOOKUP = 1
THREAD_LOOKUP = 1
# Suggestions: the boards, the newest thread's id (the scan's window), one page of titles.
SUGGESTIONS = 3

SIZES = [1, 25]


def with_hits(make: Factory, hits: int) -> list[Board]:
    """`hits` posts saying "kangaroo", each by its own author in its own thread, over up to
    five boards."""
    boards = [make.board() for _ in range(min(hits, 5))]
    for n in range(hits):
        make.thread(board=boards[n % len(boards)], author=make.user(), body=f"kangaroo {n}")
    return boards


def statements_for(client: Browserish, sql: StatementLog, url: str) -> int:
    # Warm the per-process settings (read every few seconds) so the count is the page's own.
    client.get("/search")
    sql.clear()
    response = client.get(url)
    assert response.status_code == 200
    return len(sql)


@pytest.mark.parametrize("hits", SIZES)
def test_search_statements_visitor(
    client: Browserish, make: Factory, sql: StatementLog, hits: int
) -> None:
    with_hits(make, hits)

    expected = BOARDS + ENGINE + RESULT_ROWS + MEMBERS
    assert statements_for(client, sql, "/search?q=kangaroo") == expected


@pytest.mark.parametrize("hits", SIZES)
def test_search_statements_member(
    member_client: Browserish, make: Factory, sql: StatementLog, hits: int
) -> None:
    with_hits(make, hits)

    expected = LOAD_MEMBER + BOARDS + ENGINE + RESULT_ROWS + MEMBERS
    assert statements_for(member_client, sql, "/search?q=kangaroo") == expected


@pytest.mark.parametrize("hits", SIZES)
def test_search_statements_with_every_filter(
    member_client: Browserish, make: Factory, sql: StatementLog, hits: int
) -> None:
    author = make.user("filter_fan")
    board = with_hits(make, hits)[0]
    thread = make.thread(board=board, author=author, body="kangaroo by the filter fan")
    url = (
        f"/search?q=kangaroo&board={board.slug}&author=filter_fan&thread={thread.id}"
        "&since=2020-01-01&until=2099-12-31&sort=newest&threads_only=1"
    )

    expected = LOAD_MEMBER + BOARDS + AUTHOR_LOOKUP + THREAD_LOOKUP + ENGINE + RESULT_ROWS + MEMBERS
    assert statements_for(member_client, sql, url) == expected


def test_later_pages_skip_the_name_groups(
    client: Browserish, make: Factory, sql: StatementLog
) -> None:
    with_hits(make, 25)

    expected = BOARDS + ENGINE + RESULT_ROWS
    assert statements_for(client, sql, "/search?q=kangaroo&page=2") == expected


def test_nothing_found_and_nothing_asked(
    client: Browserish, make: Factory, sql: StatementLog
) -> None:
    with_hits(make, 1)

    # The engine's page statement and the rows' are skipped when there is nothing to show.
    assert statements_for(client, sql, "/search?q=wallaby") == BOARDS + 1 + MEMBERS
    assert statements_for(client, sql, "/search") == BOARDS
    assert statements_for(client, sql, "/search?q=*") == BOARDS


@pytest.mark.parametrize("hits", SIZES)
def test_suggestion_statements(
    member_client: Browserish, make: Factory, sql: StatementLog, hits: int
) -> None:
    for n in range(hits):
        make.thread(author=make.user(), title=f"Kangaroo court {n}")

    expected = LOAD_MEMBER + SUGGESTIONS
    assert statements_for(member_client, sql, "/search/suggest?q=kangaroo") == expected
    assert statements_for(member_client, sql, "/search/suggest?q=k") == LOAD_MEMBER


def test_a_member_or_a_thread_without_words(
    client: Browserish, make: Factory, sql: StatementLog
) -> None:
    """Their newest posts: the engine's listing (its ids, then the page's posts), no name
    groups (no words to match names with)."""
    author = make.user("lister_fan")
    thread = make.thread(author=author, body="first", replies=25)

    assert statements_for(client, sql, "/search?q=@lister_fan") == (
        BOARDS + AUTHOR_LOOKUP + ENGINE + RESULT_ROWS
    )
    assert statements_for(client, sql, f"/search?thread={thread.id}") == (
        BOARDS + THREAD_LOOKUP + ENGINE + RESULT_ROWS
    )


def test_past_the_last_page(client: Browserish, make: Factory, sql: StatementLog) -> None:
    """Past the last page the engine still counts (its candidates; no page of posts, so no
    rows either); past the cap it is asked for its last page, to know which ends first."""
    with_hits(make, 25)

    assert statements_for(client, sql, "/search?q=kangaroo&page=7") == BOARDS + 1
    assert statements_for(client, sql, "/search?q=kangaroo&page=51") == BOARDS + 1


def test_accented_suggestions_cost_the_same(
    member_client: Browserish, make: Factory, sql: StatementLog
) -> None:
    make.thread(author=make.user(), title="Café Society rewatch")

    assert statements_for(member_client, sql, "/search/suggest?q=café") == (
        LOAD_MEMBER + SUGGESTIONS
    )
