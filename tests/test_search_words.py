"""Which words a query looks for, the same on SQLite and PostgreSQL: phrases holding stop
words match exactly (PostgreSQL's english configuration drops them), a possessive is its bare
word (web-search behaviour), and terms made only of stop words look in the open text on both
engines. The differences that remain are in forum/search/search_query.py's docstring."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from forum.access.viewer import Viewer
from forum.discussion.episode_codes import CAUGHT_UP
from forum.models import Board, User
from forum.search import search
from forum.search.search import SearchFilters
from forum.search.search_query import parse, words
from tests.conftest import Factory
from tests.search_helpers import found, opener

EVERYTHING = Viewer(spoiler_default=CAUGHT_UP)


@pytest.fixture
def board(make: Factory) -> Board:
    return make.board("words-show", name="Words Show")


@pytest.fixture
def author(make: Factory) -> User:
    return make.user("wordy_wes")


def test_a_phrase_with_stop_words_matches_exactly(
    db: Session, make: Factory, board: Board, author: User
) -> None:
    thread = make.thread(board, author, "Offices", "I loved the office party")
    office_hours = make.reply(thread, author, "Office hours are long")
    before = make.reply(thread, author, "the season before the finale")
    season_one = make.reply(thread, author, "season one was best, before it aired")

    assert found(db, EVERYTHING, '"the office"') == [opener(db, thread).id]
    assert found(db, EVERYTHING, '"season before the"') == [before.id]
    assert found(db, EVERYTHING, '"office party"') == [opener(db, thread).id]
    assert set(found(db, EVERYTHING, "office")) == {opener(db, thread).id, office_hours.id}
    # Excluded phrases are exact too.
    assert set(found(db, EVERYTHING, 'season -"season before the"')) == {season_one.id}
    assert found(db, EVERYTHING, 'office -"the office"') == [office_hours.id]


def test_a_possessive_is_its_bare_word(
    db: Session, make: Factory, board: Board, author: User
) -> None:
    thread = make.thread(board, author, "Ingrid", "Ingrid's scene was great")
    curly = make.reply(thread, author, "Ingrid\u2019s coat, again")
    bare = make.reply(thread, author, "ingrid arrived late")
    make.reply(thread, author, "the s key is broken")
    everyone = {opener(db, thread).id, curly.id, bare.id}

    for query in ("Ingrid's", "Ingrid\u2019s", "ingrid", "INGRID'S"):
        assert set(found(db, EVERYTHING, query)) == everyone, query
        assert search.find(db, EVERYTHING, query, SearchFilters()).highlight == ("ingrid",)
    assert found(db, EVERYTHING, '"Ingrid\'s coat"') == [curly.id]
    assert found(db, EVERYTHING, '"ingrid coat"') == [curly.id]
    # Other apostrophes still join the pieces of one word into a phrase.
    assert parse("don't").groups[0][0].words == ("don", "t")
    assert words("S1E8's twist, the Joneses' house") == ["s1e8", "twist", "the", "joneses", "house"]


def test_stop_words_alone_look_in_the_open_text_on_both_engines(
    db: Session, make: Factory, board: Board, author: User
) -> None:
    thread = make.thread(board, author, "Bands", "Guess the band >!the who!<")
    open_who = make.reply(thread, author, "The Who, live")

    assert found(db, EVERYTHING, '"the who"') == [open_who.id]
    assert found(db, EVERYTHING, "who") == [open_who.id]
    # Other words in a spoiler the viewer may see are found as before.
    assert found(db, EVERYTHING, "band") == [opener(db, thread).id]
