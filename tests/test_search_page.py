"""The search page over HTTP (/search, /search/suggest): the demo's own threads found as the
issue's "Done when" asks, what a result shows (title, board, author, date, a marked and
escaped snippet), the filters, the count and paging, the form's messages, the thread page's
search box, and no 5xx for any query. Raw response bytes are checked where escaping matters.

Runs on whichever database the suite runs on (both engines: SQLite FTS5, PostgreSQL tsvector).
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from forum.discussion import posting
from forum.models import Board, Post, Thread, User, utcnow
from forum.platform import demo
from forum.search import search
from forum.staff import showfile
from tests.conftest import Browserish, DeletedAccount, Factory, LoginAs, text_of
from tests.html_scan import read

EXAMPLE_FILE = Path(__file__).resolve().parent.parent / "shows.example.toml"
SEASON_TWO = "Will Partner Track get a season 2?"


@pytest.fixture
def demo_forum(db: Session) -> Thread:
    """The example boards and the demo community, as `flask demo` makes them; returns the
    season-2 thread."""
    showfile.upsert(db, showfile.parse(EXAMPLE_FILE.read_text(encoding="utf-8")))
    assert demo.seed_demo(db)
    db.commit()
    thread = db.scalar(select(Thread).where(Thread.title == SEASON_TWO))
    assert thread is not None
    return thread


def results_of(response_text: str) -> str:
    """The part of the page after the form: the groups and the results."""
    return response_text.split("</form>", 2)[-1]


def found_text(page: str) -> str:
    """What a fan reads of the results part of the page."""
    return " ".join("".join(read(results_of(page)).parts).split())


# ------------------------------------------------------------------------------ done when


DONE_WHEN_QUERIES = ["season 2", "renewal", "renewed", "Arden Cho", '"limited series"']


@pytest.mark.parametrize("query", DONE_WHEN_QUERIES)
@pytest.mark.parametrize("who", ["visitor", "member", "demo member at S1E6"])
def test_the_demo_season_two_thread_is_found(
    demo_forum: Thread, login_as: LoginAs, member: User, query: str, who: str
) -> None:
    browser = {"visitor": lambda: login_as(None), "member": lambda: login_as(member)}.get(
        who, lambda: _demo_member(login_as)
    )()

    response = browser.get("/search", query_string={"q": query})

    assert response.status_code == 200
    page = text_of(response)
    assert f'href="/t/{demo_forum.id}/{demo_forum.slug}' in page, f"{query!r} as {who}"
    assert SEASON_TWO in found_text(page)
    assert "About " in page


def _demo_member(login_as: LoginAs) -> Browserish:
    browser = login_as(None)
    browser.login("demo", demo.DEMO_PASSWORD)
    return browser


# ------------------------------------------------------------------------------ a result


def test_a_result_shows_title_board_author_date_and_a_marked_snippet(
    demo_forum: Thread, visitor: Browserish, db: Session
) -> None:
    page = text_of(visitor.get("/search?q=renewal"))
    results = results_of(page)

    assert "<mark>renewal</mark>" in results
    assert "Partner Track" in results  # the board
    assert ">lawfirm_lurker</a>" in results  # the author of the reply that says it
    assert "<time datetime=" in results
    assert "Variety confirmed the cancellation" in results
    # The link goes to the post itself, at its anchor on its page of the thread.
    post_id = db.scalar(
        select(Post.id).where(
            Post.thread_id == demo_forum.id, Post.source.contains("a renewal would take")
        )
    )
    assert f"/t/{demo_forum.id}/{demo_forum.slug}#post-{post_id}" in results


@pytest.fixture
def board(make: Factory) -> Board:
    return make.board("search-show", name="Search Show")


def test_post_markup_never_reaches_a_snippet_and_text_is_escaped(
    make: Factory, board: Board, visitor: Browserish
) -> None:
    make.thread(
        board=board,
        title="Zebrafish thread",
        body=(
            "Typed `<script>alert(1)</script>` in zebrafish chat, **bold zebrafish**, "
            "[a link](https://evil.example/zebrafish) and ![pic](https://img.example/z.png).\n\n"
            ">!generic hidden zebrafish words!< and >!S1E1: tagged hidden zebrafish words!<"
        ),
    )

    response = visitor.get("/search?q=zebrafish")
    raw = response.get_data()
    results = results_of(text_of(response))

    assert response.status_code == 200
    assert b"<script>alert" not in raw
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in results
    assert "<strong>" not in results and "<img" not in results
    assert b"evil.example" not in raw and b"img.example" not in raw
    assert b"hidden zebrafish words" not in raw  # spoiler text of either kind
    assert "<mark>zebrafish</mark>" in results


# ------------------------------------------------------------------------------ filters


@pytest.fixture
def spread(make: Factory, board: Board, db: Session) -> dict[str, object]:
    """Posts with the word "quokka" on two boards, by two authors, on two dates."""
    other_board = make.board("other-search-show", name="Other Show")
    ana, bo = make.user("ana_author"), make.user("bo_author")
    first = make.thread(board=board, author=ana, title="Quokka sightings", body="A quokka!")
    make.reply(first, bo, "Another quokka here")
    second = make.thread(board=other_board, author=bo, title="Elsewhere", body="quokka too")
    old = make.reply(second, ana, "An old quokka post")
    db.execute(
        update(Post).where(Post.id == old.id).values(created_at=utcnow() - timedelta(days=400))
    )
    db.commit()
    return {"first": first, "second": second, "other_board": other_board, "old": old}


def count_results(browser: Browserish, **args: str) -> int:
    page = text_of(browser.get("/search", query_string={"q": "quokka", **args}))
    return results_of(page).count('<li class="result')


def test_filters(visitor: Browserish, spread: dict[str, object], board: Board) -> None:
    first = spread["first"]
    assert isinstance(first, Thread)
    assert count_results(visitor) == 4
    assert count_results(visitor, board=board.slug) == 2
    assert count_results(visitor, board=str(board.id)) == 2
    assert count_results(visitor, author="ana_author") == 2
    assert count_results(visitor, author="@bo_author") == 2
    assert count_results(visitor, q="quokka @bo_author") == 2
    assert count_results(visitor, thread=str(first.id)) == 2
    assert count_results(visitor, threads_only="1") == 2
    since = (utcnow() - timedelta(days=30)).date().isoformat()
    assert count_results(visitor, since=since) == 3
    assert count_results(visitor, until=since) == 1
    tomorrow = (utcnow() + timedelta(days=1)).date().isoformat()
    assert count_results(visitor, since=tomorrow) == 0


def test_newest_first(visitor: Browserish, spread: dict[str, object]) -> None:
    page = found_text(text_of(visitor.get("/search?q=quokka&sort=newest")))

    assert page.index("Another quokka here") < page.index("A quokka!")


def test_the_filters_keep_what_was_typed_through_the_pages(
    visitor: Browserish, make: Factory, board: Board
) -> None:
    author = make.user("wombat_writer")
    thread = make.thread(board=board, author=author, title="Wombats", body="wombat 0")
    for n in range(1, 25):
        posting.add_post(make.session, thread, author, f"wombat {n}")
    make.session.commit()

    page = text_of(visitor.get(f"/search?q=wombat&board={board.slug}&sort=newest"))

    assert "About 25 results" in page
    assert results_of(page).count('<li class="result') == 20
    assert f"/search?page=2&amp;q=wombat&amp;board={board.slug}&amp;sort=newest" in page
    second = text_of(visitor.get(f"/search?q=wombat&board={board.slug}&sort=newest&page=2"))
    assert results_of(second).count('<li class="result') == 5


# ------------------------------------------------------------------------------ counts and pages


def test_about_n_and_a_page_past_the_cap(visitor: Browserish, spread: object) -> None:
    page = text_of(visitor.get("/search?q=quokka"))

    assert "About 4 results" in page

    # Four results: past the cap, the page says the results end first (tests/
    # test_search_page_ends.py has the cap's own message, with more matches than it).
    deep = visitor.get(f"/search?q=quokka&page={search.MAX_PAGES + 1}")
    assert deep.status_code == 200
    assert search.TOO_DEEP_MESSAGE not in text_of(deep)
    assert "All the results fit on one page." in found_text(text_of(deep))
    assert 'href="/search?q=quokka">Go to the results' in text_of(deep)

    huge = visitor.get("/search?q=quokka&page=" + "9" * 40)
    assert huge.status_code == 200 and "All the results fit on one page" in text_of(huge)


def test_a_page_past_the_last_says_where_results_end(visitor: Browserish, spread: object) -> None:
    page = text_of(visitor.get("/search?q=quokka&page=3"))

    assert "All the results fit on one page." in page
    assert '<li class="result' not in page


# ------------------------------------------------------------------------------ the form


@pytest.mark.parametrize("query", ["", "   ", "\x00"])
def test_an_empty_query_asks_for_a_word(visitor: Browserish, query: str) -> None:
    response = visitor.get("/search", query_string={"q": query})

    assert response.status_code == 200
    assert "Type a word to search" in text_of(response)
    assert 'class="result' not in text_of(response)


@pytest.mark.parametrize("query", ["*", '"', "-quokka", "( ) ^ :", "OR"])
def test_only_operators_find_nothing_and_say_why(
    visitor: Browserish, spread: object, query: str
) -> None:
    response = visitor.get("/search", query_string={"q": query})

    assert response.status_code == 200
    assert '<li class="result' not in text_of(response)
    said = found_text(text_of(response))
    assert search.EMPTY_MESSAGE in said or search.ONLY_EXCLUDED_MESSAGE in said


@pytest.mark.parametrize("query", ["NEAR(quokka", "body:quokka", "quokka*", '"quokka'])
def test_engine_syntax_is_read_as_words(visitor: Browserish, spread: object, query: str) -> None:
    response = visitor.get("/search", query_string={"q": query})

    assert response.status_code == 200
    assert "<mark>quokka</mark>" in text_of(response) or "No results" in text_of(response)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("since", "31/12/2022", "Use a date like 2024-05-31"),
        ("until", "2022-02-30", "Use a date like 2024-05-31"),
        ("board", "no-such-board", "There is no board called"),
        ("author", "nobody_by_that_name", "No member is called"),
        ("thread", "abc", "That isn't a thread number"),
        ("thread", "987654321", "That thread doesn't exist"),
        ("sort", "sideways", "Sort by relevance or by newest"),
    ],
)
def test_bad_values_get_a_message_and_keep_the_typed_text(
    visitor: Browserish, spread: object, field: str, value: str, message: str
) -> None:
    response = visitor.get("/search", query_string={"q": "quokka", field: value})
    page = read(text_of(response))

    assert response.status_code == 200
    assert any(message in error for error in page.errors), page.errors
    assert page.values["q"] == "quokka"
    if field not in ("board", "sort"):  # a select shows its choices, not the typed value
        assert page.values[field] == value
    assert '<li class="result' not in text_of(response)  # nothing searched until it's fixed


def test_an_end_date_before_the_start(visitor: Browserish) -> None:
    page = read(text_of(visitor.get("/search?q=x&since=2023-05-02&until=2023-05-01")))

    assert "The end date is before the start date." in page.errors


# ------------------------------------------------------------------------------ this thread


def test_the_thread_page_searches_its_own_thread(
    visitor: Browserish, spread: dict[str, object]
) -> None:
    first = spread["first"]
    assert isinstance(first, Thread)
    thread_page = read(text_of(visitor.get(f"/t/{first.id}/{first.slug}")))
    assert thread_page.values["thread"] == str(first.id)

    response = visitor.get(f"/search?thread={first.id}&q=quokka")
    page = text_of(response)

    assert "Searching in" in page and "Quokka sightings" in page
    assert results_of(page).count('<li class="result') == 2
    assert "An old quokka post" not in page  # the other thread's


def test_a_hidden_thread_cant_be_searched_by_its_number(
    visitor: Browserish, make: Factory, board: Board, db: Session
) -> None:
    thread = make.thread(board=board, title="Secret platypus plans", body="platypus")
    db.execute(update(Thread).where(Thread.id == thread.id).values(is_hidden=True))
    db.commit()

    response = visitor.get(f"/search?thread={thread.id}&q=platypus")

    assert "That thread doesn't exist, or was removed." in read(text_of(response)).errors
    assert b"Secret platypus plans" not in response.get_data()


# ------------------------------------------------------------------------------ groups


def test_boards_and_members_whose_names_match(demo_forum: Thread, visitor: Browserish) -> None:
    page = text_of(visitor.get("/search?q=ingrid partner"))

    assert 'href="/b/partner-track"' in page
    assert 'id="members-found"' in page and 'href="/u/ingrid_stan"' in page


def test_a_deleted_account_is_never_listed(
    visitor: Browserish, deleted_account: DeletedAccount, make: Factory
) -> None:
    make.user("gwen_still_here")

    page = text_of(visitor.get("/search?q=outlives OR gwen"))

    assert 'href="/u/gwen_still_here"' in page
    assert f"/u/{deleted_account.username}" not in page
    assert "A thread that outlives its author" in found_text(page)  # its thread is still found


# ------------------------------------------------------------------------------ suggestions


def suggestions(browser: Browserish, query: str) -> list[dict[str, str]]:
    response = browser.get("/search/suggest", query_string={"q": query})
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    found: list[dict[str, str]] = json.loads(response.get_data())["suggestions"]
    return found


def test_suggestions_offer_threads_and_boards(demo_forum: Thread, visitor: Browserish) -> None:
    found = suggestions(visitor, "partner")

    assert {"kind": "board", "label": "Partner Track", "url": "/b/partner-track"}.items() <= {
        **found[0]
    }.items()
    labels = [s["label"] for s in found]
    assert SEASON_TWO in labels
    assert len(found) <= 8
    season = suggestions(visitor, "season 2")
    assert season[0]["url"] == f"/t/{demo_forum.id}/{demo_forum.slug}"


@pytest.mark.parametrize("query", ["", "s", "\x00\x00", "x" * 10_000, '"(*NEAR'])
def test_suggestions_for_nothing_much(visitor: Browserish, query: str) -> None:
    response = visitor.get("/search/suggest", query_string={"q": query})

    assert response.status_code == 200
    assert isinstance(json.loads(response.get_data())["suggestions"], list)


def test_the_header_box_keeps_the_query(visitor: Browserish) -> None:
    page = read(text_of(visitor.get("/search?q=renewal+%3Cb%3E")))

    assert page.values["q"] == "renewal <b>"
