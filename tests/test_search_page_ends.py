"""The search page's edges (issue 14's review): a member's or a thread's newest posts when
nothing but `@name`, the author field or the thread is given; post numbers printed as the
thread page prints them; what a page past the last says (the results' last page or the
50-page cap, with a link either way); noindex; and a 429 in search's own words.

Runs on whichever database the suite runs on (both engines).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import update
from sqlalchemy.orm import Session

from forum.discussion import posting
from forum.models import Board, Post, Thread, User, utcnow
from forum.search import search
from tests.conftest import AppBuilder, Browserish, Factory, browser_for, text_of
from tests.html_scan import read


def results_of(page: str) -> str:
    return page.split("</form>", 2)[-1]


def found_text(page: str) -> str:
    return " ".join("".join(read(results_of(page)).parts).split())


def heading_of(page: str) -> str:
    found = re.search(r'<h2 id="results-heading"[^>]*>(.*?)</h2>', page, re.S)
    assert found, "no results heading"
    return " ".join(re.sub(r"<[^>]+>", "", found.group(1)).split())


def result_count(page: str) -> int:
    return results_of(page).count('<li class="result')


@pytest.fixture
def board(make: Factory) -> Board:
    return make.board("ends-show", name="Ends Show")


# ------------------------------------------------------------------------------ no words


@pytest.fixture
def posters(make: Factory, board: Board, db: Session) -> dict[str, object]:
    """`lister` wrote three posts (one an hour old, one hidden by a moderator); `other`
    wrote one in lister's thread."""
    lister, other = make.user("lister"), make.user("other_fan")
    thread = make.thread(board=board, author=lister, title="Lister's thread", body="First!")
    old = make.reply(thread, lister, "An older thought")
    db.execute(
        update(Post).where(Post.id == old.id).values(created_at=utcnow() - timedelta(hours=1))
    )
    make.reply(thread, other, "Someone else's reply")
    newest = make.reply(thread, lister, "The newest thing lister said")
    hidden = make.reply(thread, lister, "A removed rant by lister")
    db.execute(update(Post).where(Post.id == hidden.id).values(is_hidden=True))
    db.commit()
    return {"lister": lister, "thread": thread, "newest": newest}


@pytest.mark.parametrize(
    "args",
    [{"q": "@lister"}, {"author": "lister"}, {"q": "", "author": "@LISTER"}],
    ids=["at-name", "author-field", "author-field-any-case"],
)
def test_a_member_alone_lists_their_newest_posts(
    visitor: Browserish, posters: dict[str, object], args: dict[str, str]
) -> None:
    response = visitor.get("/search", query_string=args)
    page = text_of(response)

    assert response.status_code == 200
    assert "Type a word to search" not in page
    assert heading_of(page) == "Posts by lister"
    said = found_text(page)
    assert result_count(page) == 3  # not the hidden post, not other_fan's
    assert said.index("The newest thing lister said") < said.index("First!")
    assert "Someone else's reply" not in said
    assert b"A removed rant" not in response.get_data()


def test_a_thread_alone_lists_its_latest_posts(
    visitor: Browserish, posters: dict[str, object]
) -> None:
    thread = posters["thread"]
    assert isinstance(thread, Thread)

    page = text_of(visitor.get(f"/search?thread={thread.id}&q="))

    assert heading_of(page) == "Latest in this thread"
    assert "Searching in" in page
    assert result_count(page) == 4
    said = found_text(page)
    assert said.index("The newest thing lister said") < said.index("Someone else's reply")

    both = text_of(visitor.get(f"/search?thread={thread.id}&q=@other_fan"))
    assert heading_of(both) == "Posts by other_fan in this thread"
    assert result_count(both) == 1


def test_a_member_with_nothing_to_show(visitor: Browserish, make: Factory) -> None:
    make.user("quiet_one")

    page = text_of(visitor.get("/search?q=@quiet_one"))

    assert heading_of(page) == "Posts by quiet_one"
    assert "Nothing here you can see." in found_text(page)


def test_words_and_a_member_still_search(visitor: Browserish, posters: object) -> None:
    page = text_of(visitor.get("/search?q=newest @lister"))

    assert heading_of(page).startswith("About 1 result")
    assert "<mark>newest</mark>" in page


def test_nothing_at_all_still_asks_for_a_word(visitor: Browserish, board: Board) -> None:
    page = text_of(visitor.get(f"/search?board={board.slug}"))

    assert "Type a word to search" in page
    assert 'id="results-heading"' not in page


# ------------------------------------------------------------------------------ post numbers


def test_a_result_is_numbered_as_the_thread_page_numbers_it(
    visitor: Browserish, make: Factory, board: Board
) -> None:
    author = make.user("counter")
    thread = make.thread(board=board, author=author, title="Counting", body="one")
    for n in range(2, 10):
        posting.add_post(make.session, thread, author, f"number {n}")
    tenth = make.reply(thread, author, "the tenth post says pomegranate")
    assert tenth.number == 10

    page = text_of(visitor.get("/search?q=pomegranate"))
    thread_page = text_of(visitor.get(f"/t/{thread.id}/{thread.slug}"))

    assert '<span class="post-number">#10</span>' in thread_page
    assert '<span class="result-number">#10</span>' in results_of(page)
    assert "#9" not in results_of(page) and "reply" not in found_text(page)
    opener = text_of(visitor.get("/search?q=counting"))
    assert '<span class="result-number">#1</span>' in results_of(opener)


# ------------------------------------------------------------------------------ past the end


@pytest.fixture
def zebras(make: Factory, board: Board) -> Thread:
    """46 posts saying "zebra": three pages of results."""
    author = make.user("zebra_keeper")
    thread = make.thread(board=board, author=author, title="Stripes", body="zebra 1")
    for n in range(2, 47):
        posting.add_post(make.session, thread, author, f"zebra {n}")
    make.session.commit()
    return thread


@pytest.mark.parametrize("page_number", [4, 17, 50, 51, 10**9])
def test_past_the_last_page_says_how_many_there_are(
    visitor: Browserish, zebras: Thread, page_number: int
) -> None:
    page = text_of(visitor.get(f"/search?q=zebra&page={page_number}"))
    said = found_text(page)

    assert "There are only 3 pages of results." in said
    assert search.TOO_DEEP_MESSAGE not in said
    assert '<a href="/search?q=zebra&amp;page=3">Go to page 3</a>' in page
    assert result_count(page) == 0
    assert heading_of(page).startswith("About 46 results")
    assert 'class="pagination"' not in page  # no list of pages none of which is this one


def test_the_last_page_itself_has_its_results(visitor: Browserish, zebras: Thread) -> None:
    page = text_of(visitor.get("/search?q=zebra&page=3"))

    assert result_count(page) == 6
    assert "There are only" not in page
    assert 'aria-current="page">3<' in page


def test_the_link_keeps_the_filters(visitor: Browserish, zebras: Thread, board: Board) -> None:
    page = text_of(visitor.get(f"/search?q=zebra&board={board.slug}&sort=newest&page=9"))

    assert f'href="/search?q=zebra&amp;board={board.slug}&amp;sort=newest&amp;page=3"' in page


@pytest.fixture
def small_cap(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A cap of 2 pages (40 results), so 46 matches run past it."""
    monkeypatch.setattr(search, "MAX_PAGES", 2)
    monkeypatch.setattr(search, "MAX_RESULTS", 2 * search.PER_PAGE)
    yield


def test_past_the_cap_with_more_matches_says_the_cap(
    visitor: Browserish, zebras: Thread, small_cap: None
) -> None:
    page = text_of(visitor.get("/search?q=zebra&page=3"))
    said = found_text(page)

    assert search.TOO_DEEP_MESSAGE in said
    assert "There are only" not in said
    assert '<a href="/search?q=zebra&amp;page=2">Go to page 2</a>' in page
    assert heading_of(page).startswith("About 40+ results")
    assert result_count(page) == 0
    # A listing without words runs into the same cap.
    listing = text_of(visitor.get("/search?q=@zebra_keeper&page=3"))
    assert search.TOO_DEEP_MESSAGE in found_text(listing)


# ------------------------------------------------------------------------------ crawlers, limits


def test_search_pages_ask_not_to_be_indexed(visitor: Browserish, zebras: Thread) -> None:
    for url in ("/search", "/search?q=zebra", "/search?q=zebra&page=9", "/search?since=x"):
        assert b'<meta name="robots" content="noindex">' in visitor.get(url).get_data(), url
    assert b'name="robots"' not in visitor.get("/").get_data()


@pytest.fixture
def limited(build_app: AppBuilder) -> Flask:
    return build_app(RATE_LIMITS="on", LIMIT_SEARCH="2 per minute")


def test_too_many_searches_say_so_in_searchs_words(limited: Flask, db: Session) -> None:
    browser = browser_for(limited)
    for _ in range(2):
        assert browser.get("/search?q=zebra").status_code == 200

    page = browser.get("/search?q=zebra+stripes")
    suggest = browser.get("/search/suggest?q=zebra")

    assert page.status_code == 429
    text = text_of(page)
    assert "a lot of searching in a short time" in text
    assert read(text).values["q"] == "zebra stripes"  # the header box keeps the search
    assert suggest.status_code == 429
    assert suggest.get_json()["suggestions"] == []


def test_a_member_is_limited_in_the_same_words(limited: Flask, member: User, db: Session) -> None:
    browser = browser_for(limited, member)
    for _ in range(2):
        browser.get("/search/suggest?q=ab")

    response = browser.get("/search?q=more")

    assert response.status_code == 429
    assert "a lot of searching" in text_of(response)
