"""One-click forgery through the "form expired" page.

The attack: a page on evil.example posts a form (title and body of the attacker's choosing, no
CSRF token) to Showboard in the victim's browser. The CSRF check refuses it, and the refusal
page used to be the "Nothing was lost... send again" form: on the real site, pre-filled with the
attacker's text, carrying a fresh valid token, while it replaced the victim's session cookie.
One click on Send, and the victim posted the attacker's text (the remember-me cookie logged
them in again); the same worked against a moderator renaming a thread.

Now a POST that does not come from this site (forum/platform/origin.py) gets a plain 400 that echoes
nothing and sets no cookie; a same-origin form whose token expired still gets its text back.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from forum.models import Board, Role, Thread, User
from tests.conftest import Browserish, Factory

ATTACKER_TITLE = "Free episodes at evil.example"
ATTACKER_BODY = "I endorse evil.example: go there for leaked episodes"
CROSS_SITE = [
    pytest.param({"Origin": "https://evil.example"}, id="origin"),
    pytest.param(
        {"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}, id="sec-fetch-site"
    ),
    pytest.param({"Origin": "null"}, id="origin-null"),
    pytest.param({"Referer": "https://evil.example/trap.html"}, id="referer"),
    pytest.param({"Sec-Fetch-Site": "same-site"}, id="sibling-subdomain"),
    pytest.param({}, id="no-headers"),
]
SAME_ORIGIN = [
    pytest.param({"Sec-Fetch-Site": "same-origin"}, id="sec-fetch-site"),
    pytest.param({"Origin": "http://localhost"}, id="origin"),
    pytest.param({"Referer": "http://localhost/b/finale-night/new"}, id="referer"),
]


@pytest.fixture
def board(make: Factory) -> Board:
    return make.board("finale-night")


def thread_count(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(Thread)) or 0


def assert_refused_without_echo(response: TestResponse) -> None:
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "This form came from another site; nothing was done." in page
    assert ATTACKER_TITLE not in page and ATTACKER_BODY not in page
    assert "Nothing was lost" not in page
    assert response.headers.getlist("Set-Cookie") == [], "a refused POST must set no cookie"


def forge(client: Browserish, url: str, headers: dict[str, str], **data: str) -> TestResponse:
    return client.raw_post(url, data, headers=headers)


@pytest.mark.parametrize("headers", CROSS_SITE)
def test_cross_site_post_by_a_logged_in_member_is_refused_without_echo(
    member_client: Browserish, board: Board, db: Session, headers: dict[str, str]
) -> None:
    before = thread_count(db)

    response = forge(
        member_client, f"/b/{board.slug}/new", headers, title=ATTACKER_TITLE, body=ATTACKER_BODY
    )

    assert_refused_without_echo(response)
    assert thread_count(db) == before
    # The victim is still logged in: their session cookie was left alone.
    assert "member_mel" in member_client.get("/").get_data(as_text=True)


def remembered_only(app: Flask, member: User) -> tuple[Browserish, str]:
    """A browser that holds only the remember-me cookie (the session cookie is gone, as after
    a browser restart)."""
    first = Browserish(app.test_client())
    first.login(member.username, remember=True)
    cookie = first.client.get_cookie("remember_token")
    assert cookie is not None
    browser = Browserish(app.test_client())
    browser.client.set_cookie("remember_token", cookie.value, domain="localhost")
    return browser, cookie.value


@pytest.mark.parametrize("headers", CROSS_SITE)
def test_cross_site_post_with_only_a_remember_cookie_is_refused_and_sets_no_cookie(
    app: Flask, member: User, board: Board, db: Session, headers: dict[str, str]
) -> None:
    browser, remember = remembered_only(app, member)
    before = thread_count(db)

    response = forge(
        browser, f"/b/{board.slug}/new", headers, title=ATTACKER_TITLE, body=ATTACKER_BODY
    )

    assert_refused_without_echo(response)
    assert browser.client.get_cookie("session") is None
    cookie = browser.client.get_cookie("remember_token")
    assert cookie is not None and cookie.value == remember
    assert thread_count(db) == before


def test_the_old_one_click_attack_finds_no_form_to_click(
    app: Flask, member: User, board: Board, db: Session
) -> None:
    """The whole attack, step by step: the forged POST, then the victim's one click on the
    page they were shown. There is no form on it, so there is nothing to click."""
    browser, _ = remembered_only(app, member)

    shown = forge(
        browser,
        f"/b/{board.slug}/new",
        {"Origin": "https://evil.example"},
        title=ATTACKER_TITLE,
        body=ATTACKER_BODY,
    )

    page = shown.get_data(as_text=True)
    assert f'action="/b/{board.slug}/new"' not in page
    assert 'name="body"' not in page and 'name="title"' not in page
    assert thread_count(db) == 0


@pytest.mark.parametrize("headers", CROSS_SITE[:2])
def test_cross_site_thread_rename_by_a_moderator_is_refused_without_echo(
    app: Flask, make: Factory, db: Session, headers: dict[str, str]
) -> None:
    moderator = make.user("mod_maria", role=Role.MODERATOR)
    thread = make.thread(title="Finale predictions")
    browser = Browserish(app.test_client())
    browser.login(moderator.username)

    response = forge(browser, f"/mod/threads/{thread.id}/rename", headers, title=ATTACKER_TITLE)

    assert_refused_without_echo(response)
    db.expire_all()
    assert db.get(Thread, thread.id).title == "Finale predictions"  # type: ignore[union-attr]


@pytest.mark.parametrize("headers", SAME_ORIGIN)
def test_same_origin_form_with_an_expired_token_gets_its_text_back(
    member_client: Browserish, board: Board, db: Session, headers: dict[str, str]
) -> None:
    title, body = "My finale theory", "The twin did it & the dog knew <all along>"

    response = member_client.client.post(
        f"/b/{board.slug}/new",
        headers=headers,
        data={"csrf_token": "expired-long-ago", "title": title, "body": body},
    )

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Nothing was lost" in page
    assert 'value="My finale theory"' in page
    assert "The twin did it &amp; the dog knew &lt;all along&gt;</textarea>" in page
    assert thread_count(db) == 0
    # ... and sending it again from that page works.
    resend: dict[str, Any] = {"title": title, "body": body}
    again = member_client.post(f"/b/{board.slug}/new", resend, page="/")
    assert again.status_code == 302
    assert thread_count(db) == 1


def test_rate_limited_text_comes_back_only_with_a_valid_token(
    app: Flask, member_client: Browserish, board: Board
) -> None:
    """The 429 page also hands text back in a fresh form; a request without a valid token and
    from another site must not get that far, but if it ever did it would get no echo."""
    with app.test_request_context(
        f"/b/{board.slug}/new",
        method="POST",
        headers={"Origin": "https://evil.example"},
        data={"title": ATTACKER_TITLE, "body": ATTACKER_BODY},
    ):
        from forum.views.drafts import may_hand_back

        assert not may_hand_back()
    with app.test_request_context(
        f"/b/{board.slug}/new",
        method="POST",
        headers={"Origin": "http://localhost"},
        data={"title": "mine", "body": "mine"},
    ):
        assert may_hand_back()
