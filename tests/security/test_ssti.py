"""Server-side template injection: template syntax for Jinja and its cousins, typed into every
text field, comes back as the same literal text. The page never shows 49 (7*7 evaluated) or
anything from the app's config."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from forum.models import Post, User
from tests.conftest import PASSWORD, Browserish, Factory
from tests.html_scan import TextAndFields, read

PAYLOADS = ["{{7*7}}", "{{ config }}", "{% print 7*7 %}", "${7*7}", "#{7*7}"]
CANARY = "canary-5f1e9b-config-value"
CONFIG_MARKERS = ["<Config", "SECRET_KEY", "DATABASE_URL", "RATELIMIT", CANARY]


@pytest.fixture(autouse=True)
def canary(app: Flask) -> None:
    """A config value that `{{ config }}` would print if it were ever evaluated."""
    app.config["SSTI_CANARY"] = CANARY


def leaks(response: TestResponse) -> list[str]:
    body = response.get_data(as_text=True)
    found = [marker for marker in CONFIG_MARKERS if marker in body]
    if "49" in read(body).text:
        found.append("49")
    if response.status_code >= 500:
        found.append(f"HTTP {response.status_code}")
    return found


def page(response: TestResponse) -> TextAndFields:
    return read(response.get_data(as_text=True))


@pytest.mark.parametrize("payload", PAYLOADS)
def test_title_and_body_render_literally(
    member_client: Browserish, make: Factory, payload: str
) -> None:
    board = make.board("ssti-board")
    new = f"/b/{board.slug}/new"

    created = member_client.post(new, {"title": payload, "body": payload}, page=new)
    shown = member_client.get(created.headers["Location"])

    assert created.status_code == 302
    assert leaks(shown) == []
    assert page(shown).h1 == payload
    assert page(shown).title.startswith(payload)
    assert f"<p>{payload}</p>" in shown.get_data(as_text=True)  # stored Markdown, verbatim
    listing = member_client.get(f"/b/{board.slug}")
    assert leaks(listing) == [] and payload in page(listing).text


@pytest.mark.parametrize("payload", PAYLOADS)
def test_reply_and_preview_render_literally(
    member_client: Browserish, make: Factory, db: Session, payload: str
) -> None:
    thread = make.thread(title="Template thread")
    url = f"/t/{thread.id}/{thread.slug}"

    replied = member_client.post(f"/t/{thread.id}/reply", {"body": payload}, page=url)
    preview = member_client.post("/preview", {"body": payload}, page=url)

    assert replied.status_code == 302
    assert (
        db.scalar(select(Post.source).where(Post.thread_id == thread.id, Post.number == 2))
        == payload
    )
    shown = member_client.get(replied.headers["Location"])
    assert leaks(shown) == [] and leaks(preview) == []
    assert payload in page(shown).text
    assert page(preview).text.strip() == payload


@pytest.mark.parametrize("payload", PAYLOADS)
def test_username_is_refused_and_echoed_literally(
    client: Browserish, db: Session, payload: str
) -> None:
    response = client.post(
        "/register",
        {
            "username": payload,
            "email": "tpl@example.org",
            "password": PASSWORD,
            "confirm": PASSWORD,
        },
        page="/register",
    )

    assert response.status_code == 200
    assert leaks(response) == []
    assert page(response).values["username"] == payload
    assert db.scalar(select(User).where(User.email == "tpl@example.org")) is None


@pytest.mark.parametrize("payload", PAYLOADS)
def test_login_name_is_echoed_literally(client: Browserish, payload: str) -> None:
    response = client.post("/login", {"username": payload, "password": "whatever"})

    assert response.status_code == 200
    assert leaks(response) == []
    assert page(response).values["username"] == payload


@pytest.mark.parametrize("payload", PAYLOADS)
def test_email_is_stored_or_echoed_literally(client: Browserish, db: Session, payload: str) -> None:
    address = f"{payload}@example.org"

    response = client.post(
        "/register",
        {"username": "template_fan", "email": address, "password": PASSWORD, "confirm": PASSWORD},
        page="/register",
    )

    assert leaks(response) == []
    if response.status_code == 200:  # not a valid address (it has spaces): shown back as typed
        assert page(response).values["email"] == address
        return
    assert response.status_code == 302
    user = db.scalar(select(User).where(User.username == "template_fan"))
    assert user is not None and user.email == address
    settings = client.get("/settings")
    assert leaks(settings) == []
    assert page(settings).values["em-email"] == address


@pytest.mark.parametrize("payload", PAYLOADS)
def test_search_query_renders_literally(client: Browserish, payload: str) -> None:
    response = client.get("/search", query_string={"q": payload})

    assert response.status_code == 200
    assert leaks(response) == []
    assert page(response).values["q"] == payload
    assert f"“{payload}”" in page(response).text


@pytest.mark.parametrize("payload", PAYLOADS)
def test_board_name_description_and_network_render_literally(
    client: Browserish, make: Factory, payload: str
) -> None:
    """Board fields come from the admin and the boards file, not from members, but are text
    all the same."""
    board = make.board("injected", name=payload, description=payload, network=payload)

    for url in ("/", f"/b/{board.slug}"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert leaks(response) == [], url
        assert page(response).text.count(payload) >= 2, url  # the name and the description


def test_valid_template_looking_emails_exist() -> None:
    """Guards the email test: some payloads must make valid addresses, or it checks less."""
    from email_validator import EmailNotValidError, validate_email

    valid = []
    for payload in PAYLOADS:
        try:
            validate_email(f"{payload}@example.org", check_deliverability=False)
        except EmailNotValidError:
            continue
        valid.append(payload)
    assert len(valid) >= 2
