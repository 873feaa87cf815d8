"""Relevance ("best match") on the database under test, the same cases on SQLite and
PostgreSQL: a thread whose title holds the words ranks first however old it is and however
often newer posts repeat them in their bodies (title candidates and the title tier in
forum/search/search.py), and a purged opener's thread is still found by its title."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from forum.access.viewer import VISITOR, Viewer, viewer_for
from forum.discussion.episode_codes import CAUGHT_UP
from forum.models import Board, User
from forum.search import search
from forum.search.search import SearchFilters
from forum.staff import moderation
from tests.conftest import Factory
from tests.search_helpers import found, opener

EVERYTHING = Viewer(spoiler_default=CAUGHT_UP)


@pytest.fixture
def board(make: Factory) -> Board:
    return make.board("relevance-show", name="Relevance Show")


@pytest.fixture
def author(make: Factory) -> User:
    return make.user("ranker_rae")


def test_an_old_thread_titled_with_the_word_ranks_first_past_the_newest_matches(
    db: Session, make: Factory, board: Board, author: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The newest MAX_RESULTS matches are ranked; the titled thread is older than all of them
    # (as "Writing" under 20,000 newer posts about writing).
    monkeypatch.setattr(search, "MAX_RESULTS", 6)
    titled = make.thread(board, author, "Writing", "Who does the scripts?")
    chatter = make.thread(board, author, "Chatter", "nothing yet")
    newer = [make.reply(chatter, author, f"the writing was good {n}") for n in range(10)]

    hits = found(db, EVERYTHING, "writing")
    page = search.find(db, EVERYTHING, "writing", SearchFilters())

    assert hits[0] == opener(db, titled).id
    assert hits[1:] == [p.id for p in reversed(newer)][:5]
    assert page.more_than_total
    # Newest first stays the newest matches only.
    assert opener(db, titled).id not in found(db, EVERYTHING, "writing", newest_first=True)


def test_title_candidates_keep_every_rule_of_a_search(
    db: Session,
    make: Factory,
    moderated_board: Board,
    author: User,
    admin: User,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(search, "MAX_RESULTS", 3)
    hidden = make.thread(moderated_board, author, "Writing credits", "who wrote it")
    moderation.set_thread_hidden(db, admin, hidden, True, "spam")
    excluded = make.thread(moderated_board, author, "Writing staff", "the staff list")
    other_board = make.thread(board := make.board("other-writers"), author, "Writing", "room")
    chatter = make.thread(board, author, "Chatter", "nothing yet")
    for n in range(5):
        make.reply(chatter, author, f"writing again {n}")
    db.commit()

    visitor_hits = found(db, VISITOR, "writing -staff")
    admin_hits = found(db, viewer_for(db, admin), "writing -staff")

    assert visitor_hits[0] == opener(db, other_board).id
    assert opener(db, hidden).id not in visitor_hits
    assert opener(db, excluded).id not in visitor_hits + admin_hits
    assert set(admin_hits[:2]) == {opener(db, hidden).id, opener(db, other_board).id}
    # A board filter applies to title candidates too.
    on_board = found(db, VISITOR, "writing", board_id=moderated_board.id)
    assert on_board == [opener(db, excluded).id]


def test_a_title_hit_outranks_any_number_of_body_repeats(
    db: Session, make: Factory, board: Board, author: User
) -> None:
    titled = make.thread(board, author, "Renewal odds", "What do you think?")
    repeats = make.thread(board, author, "Chatter", " ".join(["renewal"] * 30))
    once = make.reply(repeats, author, "a renewal")

    hits = found(db, EVERYTHING, "renewal")
    page = search.find(db, EVERYTHING, "renewal", SearchFilters())

    assert hits == [opener(db, titled).id, opener(db, repeats).id, once.id]
    assert page.hits[0].rank >= search.TITLE_TIER > page.hits[1].rank > page.hits[2].rank
    # Within one thread the same tiers hold.
    assert found(db, EVERYTHING, "renewal", thread_id=repeats.id) == [
        opener(db, repeats).id,
        once.id,
    ]


def test_a_purged_opener_is_found_by_its_title_and_a_rename_moves_it(
    db: Session, make: Factory, board: Board, author: User, admin: User
) -> None:
    thread = make.thread(board, author, "Gazebo plans", "private gazebo body")
    make.reply(thread, author, "a reply about nothing")
    moderation.purge_post(db, admin, opener(db, thread))
    db.commit()

    assert found(db, VISITOR, "gazebo") == [opener(db, thread).id]
    assert found(db, VISITOR, "private") == []
    (hit,) = search.find(db, VISITOR, "gazebo", SearchFilters()).hits
    assert hit.text == "" and hit.post_number == 1

    moderation.rename_thread(db, admin, thread, "Pergola plans")
    db.commit()

    assert found(db, VISITOR, "gazebo") == []
    assert found(db, VISITOR, "pergola") == [opener(db, thread).id]
    # Never listed as one of the author's posts: it has no text.
    assert opener(db, thread).id not in found(db, VISITOR, "", author_id=author.id)
