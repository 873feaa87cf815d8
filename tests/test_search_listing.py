"""A search with no words but a member or a thread (`@name` alone on the page) lists their
newest posts the viewer may read: newest first, with every visibility and spoiler rule of a
search, its paging and its cap; a truly empty search still asks for a word. Both engines."""

from __future__ import annotations

from dataclasses import replace
from types import MappingProxyType

import pytest
from sqlalchemy.orm import Session

from forum.access.viewer import VISITOR, Viewer, viewer_for
from forum.discussion import posting
from forum.discussion.episode_codes import CAUGHT_UP, key_of
from forum.models import Board, User
from forum.search import search
from forum.search.search import SearchFilters
from forum.staff import moderation
from tests.conftest import Factory, StatementLog
from tests.search_helpers import found, opener


def test_a_members_newest_readable_posts_are_listed(
    db: Session, make: Factory, moderated_board: Board, member: User, admin: User
) -> None:
    other = make.user("other_olga")
    first = make.thread(moderated_board, member, "First", "an opener")
    theirs = make.thread(moderated_board, other, "Theirs", "not mine")
    reply = make.reply(theirs, member, "my reply")
    hidden = make.reply(theirs, member, "my rude reply")
    deleted = make.reply(first, member, "my deleted reply")
    later = posting.add_post(db, first, member, "about S1E8", episode_key=key_of(1, 8))
    moderation.set_post_hidden(db, admin, hidden, True, "rude")
    posting.delete_post(deleted)
    db.commit()
    viewer = replace(
        viewer_for(db, other),
        spoiler_limits=MappingProxyType({moderated_board.id: key_of(1, 6)}),
    )

    page = search.find(db, viewer, "", SearchFilters(author_id=member.id))

    assert [h.post_id for h in page.hits] == [reply.id, opener(db, first).id]
    assert (page.total, page.more_than_total, page.highlight, page.message) == (2, False, (), None)
    caught_up = replace(viewer, spoiler_limits=MappingProxyType({}), spoiler_default=CAUGHT_UP)
    assert found(db, caught_up, "", author_id=member.id) == [
        later.id,
        reply.id,
        opener(db, first).id,
    ]
    moderator = replace(viewer_for(db, admin), spoiler_default=CAUGHT_UP)
    assert found(db, moderator, " ", author_id=member.id, newest_first=True) == [
        later.id,
        hidden.id,
        reply.id,
        opener(db, first).id,
    ]
    # The other filters narrow the list as they narrow a search.
    assert found(db, caught_up, "", author_id=member.id, threads_only=True) == [
        opener(db, first).id
    ]


def test_a_threads_newest_posts_are_listed(
    db: Session, make: Factory, board: Board, member: User
) -> None:
    thread = make.thread(board, member, "Listed", "opening")
    replies = [make.reply(thread, member, f"reply {n}") for n in range(3)]
    make.thread(board, member, "Elsewhere", "other thread")

    assert found(db, VISITOR, "", thread_id=thread.id) == [
        *[r.id for r in reversed(replies)],
        opener(db, thread).id,
    ]


def test_the_listing_pages_and_stops_at_the_cap(
    db: Session,
    make: Factory,
    board: Board,
    member: User,
    monkeypatch: pytest.MonkeyPatch,
    sql: StatementLog,
) -> None:
    monkeypatch.setattr(search, "PER_PAGE", 2)
    monkeypatch.setattr(search, "MAX_RESULTS", 4)
    thread = make.thread(board, member, "Many", "opening")
    replies = [make.reply(thread, member, f"reply {n}") for n in range(5)]
    filters = SearchFilters(author_id=member.id)
    sql.clear()

    second = search.find(db, VISITOR, "", filters, page=2)

    assert [h.post_id for h in second.hits] == [replies[2].id, replies[1].id]
    assert (second.total, second.more_than_total) == (4, True)
    assert len(sql) == 2
    too_deep = search.find(db, VISITOR, "", filters, page=51)
    assert too_deep.hits == () and too_deep.message == search.TOO_DEEP_MESSAGE


@pytest.mark.parametrize("query", ["", "  ", "*", "OR"])
def test_without_a_member_or_a_thread_an_empty_search_still_asks_for_a_word(
    db: Session, make: Factory, board: Board, member: User, query: str
) -> None:
    make.thread(board, member, "Anything", "words")

    for filters in (SearchFilters(), SearchFilters(board_id=board.id, newest_first=True)):
        page = search.find(db, VISITOR, query, filters)
        assert page.hits == () and page.message == search.EMPTY_MESSAGE


def test_words_left_out_alone_still_need_a_word_to_look_for(
    db: Session, make: Factory, board: Board, member: User
) -> None:
    make.thread(board, member, "Anything", "words")

    page = search.find(db, VISITOR, "-words", SearchFilters(author_id=member.id))

    assert page.hits == () and page.message == search.ONLY_EXCLUDED_MESSAGE


@pytest.fixture
def board(make: Factory) -> Board:
    return make.board("listing-show", name="Listing Show")


EVERYTHING = Viewer(spoiler_default=CAUGHT_UP)
