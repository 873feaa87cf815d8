"""Defect 9: the hide confirmation says "Moderators still see it", so a hidden thread stays in its
board's list for the board's moderators, global moderators and admins, marked "Hidden", and the
pager counts it for them; visitors, members and other boards' moderators never get it (checked
on the raw bytes of every page)."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from forum.models import Board, Role, User
from forum.staff import moderation
from tests.conftest import AppBuilder, Browserish, Factory, browser_for, moderator_of

PER_PAGE = 2
VISIBLE = ["Visible alpha", "Visible beta", "Visible gamma"]
HIDDEN = ["Hidden zeta", "Hidden theta"]
HIDDEN_BADGE = b'<span class="badge badge-hidden">Hidden</span>'
SEES_HIDDEN = ("board_moderator", "global_moderator", "admin")
VIEWERS = ("visitor", "member", "other_board_moderator", *SEES_HIDDEN)


def listing_pages(browser: Browserish, board: Board) -> list[bytes]:
    """Every page of the board's thread list, following its pager."""
    first = browser.get(f"/b/{board.slug}")
    assert first.status_code == 200
    body = first.get_data()
    numbers = {int(n) for n in re.findall(rb'href="/b/[\w-]+\?page=(\d+)"', body)}
    pages = [body]
    for number in sorted(numbers):
        response = browser.get(f"/b/{board.slug}?page={number}")
        assert response.status_code == 200
        pages.append(response.get_data())
    return pages


@pytest.fixture
def paged_app(build_app: AppBuilder) -> Flask:
    return build_app(THREADS_PER_PAGE=PER_PAGE)


@pytest.mark.parametrize("who", VIEWERS)
def test_hidden_threads_are_listed_for_the_boards_moderators_only(
    paged_app: Flask, db: Session, make: Factory, who: str
) -> None:
    board, elsewhere = make.board(), make.board()
    admin = make.user("admin_ada", role=Role.ADMIN)
    people: dict[str, User | None] = {
        "visitor": None,
        "member": make.user("member_max"),
        "board_moderator": moderator_of(make, db, board, name="mod_here"),
        "other_board_moderator": moderator_of(make, db, elsewhere, name="mod_there"),
        "global_moderator": moderator_of(make, db, name="mod_all"),
        "admin": admin,
    }
    for title in VISIBLE + HIDDEN:
        thread = make.thread(board, title=title)
        if title in HIDDEN:
            moderation.set_thread_hidden(db, admin, thread, True, "Off-topic")
    db.commit()

    pages = listing_pages(browser_for(paged_app, people[who]), board)
    everything = b"".join(pages)

    for title in VISIBLE:
        assert everything.count(title.encode()) == 1, title
    if who in SEES_HIDDEN:
        for title in HIDDEN:
            assert everything.count(title.encode()) == 1, title
        assert everything.count(HIDDEN_BADGE) == len(HIDDEN)
        assert len(pages) == 3  # 5 threads, 2 a page: the pager counts the hidden ones
    else:
        for title in HIDDEN:
            assert title.encode() not in everything, title
        assert HIDDEN_BADGE not in everything
        assert len(pages) == 2


def test_a_board_of_only_hidden_threads_pages_for_its_moderator(
    app: Flask, db: Session, make: Factory
) -> None:
    board = make.board()
    admin = make.user("admin_ada", role=Role.ADMIN)
    thread = make.thread(board, title="Only hidden")
    moderation.set_thread_hidden(db, admin, thread, True, "Spam")
    db.commit()

    moderator_page = browser_for(app, moderator_of(make, db, board)).get(f"/b/{board.slug}")
    visitor_page = browser_for(app).get(f"/b/{board.slug}")

    assert b"Only hidden" in moderator_page.get_data()
    assert b"Only hidden" not in visitor_page.get_data()
    assert b"No threads yet" in visitor_page.get_data()
