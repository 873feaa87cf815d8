"""Length limits and text cleaning, through the real thread, reply and edit forms.

A refused form must hand back what the fan typed, with a message in an element of class `error`;
an accepted one stores the text without control or invisible format characters.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from forum.models import Board, Post, Thread, User
from tests.conftest import Browserish, Factory
from tests.html_scan import form_page

VALID_TITLE = "Will Partner Track get a season 2?"
VALID_BODY = "Hear me out: the finale was set-up for more."


def text_of(length: int) -> str:
    """Printable text of exactly `length` characters with no spaces at either end."""
    return ("Season2-" * (length // 8 + 1))[:length]


def invisible_or_control(text: str) -> list[str]:
    return [
        f"U+{ord(ch):04X}"
        for ch in text
        if ch not in "\n\t" and unicodedata.category(ch) in {"Cc", "Cf"}
    ]


def count(db: Session, model: type) -> int:
    return db.scalar(select(func.count()).select_from(model)) or 0


@pytest.fixture
def board(make: Factory) -> Board:
    return make.board("partner-track", name="Partner Track")


def start_thread(
    client: Browserish, board: Board, title: str = VALID_TITLE, body: str = VALID_BODY
) -> TestResponse:
    new = f"/b/{board.slug}/new"
    return client.post(new, {"title": title, "body": body}, page=new)


def newest_thread(db: Session) -> Thread | None:
    return db.scalar(
        select(Thread).order_by(Thread.id.desc()).limit(1).execution_options(populate_existing=True)
    )


def opening_post(db: Session, thread: Thread) -> Post | None:
    return db.scalar(
        select(Post)
        .where(Post.thread_id == thread.id, Post.number == 1)
        .execution_options(populate_existing=True)
    )


# ------------------------------------------------------------------------------ titles


@pytest.mark.parametrize(
    "typed, stored",
    [
        pytest.param(text_of(3), text_of(3), id="3-chars"),
        pytest.param(text_of(150), text_of(150), id="150-chars"),
        pytest.param("🎬" * 150, "🎬" * 150, id="150-four-byte-chars"),
        pytest.param(f"  {text_of(150)}  ", text_of(150), id="150-chars-padded-with-spaces"),
    ],
)
def test_title_within_limits_is_saved(
    member_client: Browserish, board: Board, db: Session, typed: str, stored: str
) -> None:
    response = start_thread(member_client, board, title=typed)

    assert response.status_code == 302
    thread = newest_thread(db)
    assert thread is not None and thread.title == stored


@pytest.mark.parametrize(
    "title",
    [
        pytest.param(text_of(2), id="2-chars"),
        pytest.param(text_of(151), id="151-chars"),
        pytest.param("", id="empty"),
        pytest.param("   ", id="spaces-only"),
        pytest.param("  ab  ", id="2-chars-padded-with-spaces"),
        pytest.param("ab\u200b", id="2-chars-plus-zero-width-space"),
    ],
)
def test_title_outside_limits_is_refused(
    member_client: Browserish, board: Board, db: Session, title: str
) -> None:
    response = start_thread(member_client, board, title=title)

    assert response.status_code == 200
    assert form_page(response).errors
    assert count(db, Thread) == 0


@pytest.mark.parametrize("length", [2, 151])
def test_refused_title_keeps_what_was_typed(
    member_client: Browserish, board: Board, length: int
) -> None:
    title = text_of(length)

    page = form_page(start_thread(member_client, board, title=title, body="My typed body"))

    assert page.values["title"] == title
    assert page.values["body"] == "My typed body"


# ------------------------------------------------------------------------------ bodies


@dataclass
class Composer:
    """One of the three forms that take a post body, and where its body ends up."""

    submit: Callable[[str], TestResponse]
    saved_bodies: Callable[[], list[str]]


@pytest.fixture(params=["new-thread", "reply", "edit"])
def composer(
    request: pytest.FixtureRequest,
    member_client: Browserish,
    member: User,
    board: Board,
    make: Factory,
    db: Session,
) -> Composer:
    def all_sources() -> list[str]:
        return list(
            db.scalars(
                select(Post.source).order_by(Post.id).execution_options(populate_existing=True)
            )
        )

    if request.param == "new-thread":
        return Composer(lambda body: start_thread(member_client, board, body=body), all_sources)
    thread = make.thread(board=board, author=member, body="The opening post")
    url = f"/t/{thread.id}/{thread.slug}"
    if request.param == "reply":
        return Composer(
            lambda body: member_client.post(f"/t/{thread.id}/reply", {"body": body}, page=url),
            lambda: all_sources()[1:],
        )
    post_id = db.scalar(select(Post.id).where(Post.thread_id == thread.id))
    edit = f"/p/{post_id}/edit"
    return Composer(
        lambda body: member_client.post(edit, {"body": body}, page=edit),
        lambda: [source for source in all_sources() if source != "The opening post"],
    )


@pytest.mark.parametrize(
    "body",
    [
        pytest.param("x" * 50_000, id="50000-chars"),
        pytest.param("é" * 50_000, id="50000-two-byte-chars"),
        pytest.param("🎬" * 50_000, id="50000-four-byte-chars"),
        pytest.param("a", id="1-char"),
    ],
)
def test_body_within_limits_is_saved(composer: Composer, body: str) -> None:
    response = composer.submit(body)

    assert response.status_code == 302
    assert composer.saved_bodies() == [body]


@pytest.mark.parametrize(
    "body",
    [
        pytest.param("", id="empty"),
        pytest.param("   ", id="spaces"),
        pytest.param("\n \t\r\n  \n", id="whitespace-lines"),
        pytest.param("\u200b\u200b\u2060", id="invisible-only"),
        pytest.param("\x00\x07", id="control-only"),
        pytest.param("x" * 50_001, id="50001-chars"),
    ],
)
def test_body_outside_limits_is_refused(composer: Composer, body: str) -> None:
    response = composer.submit(body)

    assert response.status_code < 500
    assert form_page(response).errors
    assert composer.saved_bodies() == []


def test_too_long_body_is_handed_back(composer: Composer) -> None:
    body = "x" * 50_001

    page = form_page(composer.submit(body))

    assert page.errors
    assert page.values["body"] == body


# ------------------------------------------------------------------------------ cleaning

CONTROL_CHARACTERS = [
    pytest.param("\x00", id="NUL"),
    pytest.param("\x07", id="BEL"),
    pytest.param("\x1b", id="ESC"),
    pytest.param("\x7f", id="DEL"),
    pytest.param("\x85", id="NEL-C1"),
    pytest.param("\u200b", id="zero-width-space"),
    pytest.param("\u202e", id="right-to-left-override"),
    pytest.param("\u2066", id="left-to-right-isolate"),
    pytest.param("\ufeff", id="byte-order-mark"),
]


@pytest.mark.parametrize("char", CONTROL_CHARACTERS)
def test_control_character_in_title_is_stripped_before_saving(
    member_client: Browserish, board: Board, db: Session, char: str
) -> None:
    start_thread(member_client, board, title=f"Season{char} 2 finale")

    thread = newest_thread(db)
    assert thread is not None
    assert thread.title == "Season 2 finale"


@pytest.mark.parametrize("char", CONTROL_CHARACTERS)
def test_control_character_in_body_is_stripped_before_saving(
    member_client: Browserish, board: Board, db: Session, char: str
) -> None:
    start_thread(member_client, board, body=f"The finale{char} was{char * 3} set-up")

    thread = newest_thread(db)
    assert thread is not None
    post = opening_post(db, thread)
    assert post is not None and post.source == "The finale was set-up"


def test_body_full_of_control_characters_stores_none_of_them(composer: Composer) -> None:
    noise = "".join(chr(n) for n in [*range(0, 9), *range(11, 32), *range(127, 160)])
    noise += "\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2060\u2066\ufeff"

    composer.submit(f"Start {noise} end")

    [saved] = composer.saved_bodies()
    assert invisible_or_control(saved) == []
    assert saved.startswith("Start") and saved.endswith("end")


def test_body_keeps_newlines_and_tabs(composer: Composer) -> None:
    composer.submit("1. Ingrid\n2. Jeff\n\n\tcode block")

    assert composer.saved_bodies() == ["1. Ingrid\n2. Jeff\n\n\tcode block"]


def test_body_windows_and_old_mac_newlines_are_stored_as_newlines(composer: Composer) -> None:
    composer.submit("one\r\ntwo\rthree")

    assert composer.saved_bodies() == ["one\ntwo\nthree"]
