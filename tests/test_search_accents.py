"""Accents aside, on both engines: the header's suggestions find "Café Society" whether the fan
types "cafe", "café" or "CAFÉ", and the search page's Members group lists "josé_fan" for
"jose" and "josé" (forum/search/search_folding.py). Typed words are normalised
(casefolded, accents dropped) while titles and usernames are stored as typed, so a plain
ILIKE missed every accented name.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from forum.models import Board, Thread, User
from forum.search import search, search_folding
from tests.conftest import Browserish, Factory, text_of

CAFE = "Café Society rewatch"
CREME = "Crème brûlée episode"


@pytest.fixture
def accented(make: Factory) -> dict[str, Thread]:
    board = make.board("accent-show", name="Accent Show")
    return {
        "cafe": make.thread(board=board, title=CAFE, body="Who else is rewatching?"),
        "creme": make.thread(board=board, title=CREME, body="That dessert scene."),
        "plain": make.thread(board=board, title="Cafeteria scenes ranked", body="All of them"),
        "eclair": make.thread(board=board, title="ÉCLAIR ÉPISODE notes", body="Notes"),
        "greek": make.thread(board=board, title="Ωραία σκηνή", body="Greek fans"),
    }


def labels(browser: Browserish, query: str) -> list[str]:
    response = browser.get("/search/suggest", query_string={"q": query})
    assert response.status_code == 200
    return [s["label"] for s in json.loads(response.get_data())["suggestions"]]


@pytest.mark.parametrize("query", ["cafe", "café", "CAFÉ", "Café Soc", "cafe society"])
def test_suggestions_find_an_accented_title_typed_with_or_without_accents(
    visitor: Browserish, accented: dict[str, Thread], query: str
) -> None:
    assert CAFE in labels(visitor, query)


@pytest.mark.parametrize("query", ["creme", "crème", "CRÈME", "creme brulee", "brûlée"])
def test_suggestions_find_creme_brulee(
    visitor: Browserish, accented: dict[str, Thread], query: str
) -> None:
    assert labels(visitor, query) == [CREME]


def test_accents_fold_both_ways_and_case_too(
    visitor: Browserish, accented: dict[str, Thread]
) -> None:
    # An accent in the title where the fan typed none, in capitals.
    assert labels(visitor, "eclair episode") == ["ÉCLAIR ÉPISODE notes"]
    # The plain title is found by either spelling, and never by a word it doesn't hold.
    assert "Cafeteria scenes ranked" in labels(visitor, "café")
    assert "Cafeteria scenes ranked" not in labels(visitor, "cafe society")
    # Greek accents fold too.
    assert labels(visitor, "σκηνή") == ["Ωραία σκηνή"]


def test_an_accented_title_is_not_found_by_another_word(
    visitor: Browserish, accented: dict[str, Thread]
) -> None:
    assert labels(visitor, "cafes") == []
    assert labels(visitor, "crema") == []


# ------------------------------------------------------------------------------ members


@pytest.fixture
def jose(make: Factory) -> User:
    return make.user("josé_fan")


def members_found(browser: Browserish, query: str) -> str:
    page = text_of(browser.get("/search", query_string={"q": query}))
    if 'id="members-found"' not in page:
        return ""
    return page.split('id="members-found"', 1)[1].split("</section>", 1)[0]


@pytest.mark.parametrize("query", ["jose", "josé", "JOSÉ", "Jose"])
def test_members_with_accents_are_listed_accents_aside(
    visitor: Browserish, jose: User, query: str
) -> None:
    members = members_found(visitor, query)

    assert 'href="/u/jos%C3%A9_fan"' in members
    assert "josé_fan" in members


def test_an_accent_free_name_is_still_found_by_an_accented_word(
    visitor: Browserish, make: Factory
) -> None:
    make.user("jose_plain")

    assert "jose_plain" in members_found(visitor, "josé")
    assert members_found(visitor, "josefina") == ""


# ------------------------------------------------------------------------------ the fold itself


def test_the_fold_table_holds_each_letters_accented_forms() -> None:
    folds = search_folding.FOLDS

    assert {"é", "É", "ễ"} <= set(folds["e"])  # French, Vietnamese
    assert {"ñ"} <= set(folds["n"]) and {"ř", "Ř"} <= set(folds["r"])
    assert "ή" in folds["η"] and "й" in folds["и"]  # Greek, Cyrillic
    assert not any("ł" in letters for letters in folds.values())  # normalise keeps it too
    assert "ß" in search_folding.folded_regex("strasse")
    assert search_folding.folded_regex("a.b").count("\\.") == 1


def test_the_fold_matches_in_sql_on_this_engine(db: Session, make: Factory) -> None:
    board: Board = make.board("fold-show")
    make.thread(board=board, title="Straße der Sehnsucht")
    make.thread(board=board, title="Łódź, Żółć and Ærø")

    def titles(word: str) -> list[str]:
        condition = search_folding.contains_folded(db, Thread.title, word)
        return list(db.scalars(select(Thread.title).where(condition)))

    assert titles("strasse") == ["Straße der Sehnsucht"]
    assert titles("odz") == ["Łódź, Żółć and Ærø"]
    # "ł" has no decomposition: normalise keeps it, and so does the fold.
    assert titles(search.normalise("ŻÓŁĆ")) == ["Łódź, Żółć and Ærø"]
    assert titles("100%") == []  # LIKE's own characters are escaped
