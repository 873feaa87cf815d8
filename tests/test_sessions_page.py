"""Your sessions (/settings/sessions): every signed-in device with its browser, address and
last visit, this one marked, and signing out one or all the others (forum/views/signin.py,
forum/accounts/useragent.py)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from forum.accounts.useragent import summarise
from forum.models import AuthSession, User
from tests.conftest import Browserish, Factory

FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1"
)
EDGE = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0"
)
CHROME_ANDROID = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like "
    "Gecko) Chrome/131.0.0.0 Mobile Safari/537.36"
)
SESSION_FORM = re.compile(r'name="session" value="([0-9a-f]{16})"')


@pytest.mark.parametrize(
    ("agent", "summary"),
    [
        (FIREFOX, "Firefox 133 on Windows"),
        (IPHONE, "Safari 18 on iPhone"),
        (EDGE, "Edge 131 on Windows"),
        (CHROME_ANDROID, "Chrome 131 on Android"),
        ("curl/8.5.0", "Unknown browser"),
        ("", "Unknown device"),
    ],
)
def test_user_agents_are_summarised(agent: str, summary: str) -> None:
    assert summarise(agent) == summary


def device(app: Flask, user: User, agent: str, address: str) -> Browserish:
    client = Browserish(app.test_client())
    client.client.environ_base.update(HTTP_USER_AGENT=agent, REMOTE_ADDR=address)
    client.login(user.username)
    return client


def count(db: Session, user: User) -> int:
    return (
        db.scalar(
            select(func.count()).select_from(AuthSession).where(AuthSession.user_id == user.id)
        )
        or 0
    )


def test_every_device_is_listed_and_this_one_marked(app: Flask, member: User) -> None:
    device(app, member, IPHONE, "203.0.113.9")
    here = device(app, member, FIREFOX, "198.51.100.4")
    page = here.get("/settings/sessions").get_data(as_text=True)
    assert "Safari 18 on iPhone" in page and "203.0.113.9" in page
    assert "Firefox 133 on Windows" in page and "198.51.100.4" in page
    assert page.count("This device") == 1
    # This device is marked, and listed first.
    assert page.index("Firefox 133") < page.index("This device") < page.index("Safari 18")
    assert len(SESSION_FORM.findall(page)) == 2


def test_signing_out_another_device(app: Flask, member: User, db: Session) -> None:
    phone = device(app, member, IPHONE, "203.0.113.9")
    here = device(app, member, FIREFOX, "198.51.100.4")
    rows = here.get("/settings/sessions").get_data(as_text=True).split("<tr")
    phone_id = next(SESSION_FORM.findall(row)[0] for row in rows if "Safari 18" in row)
    response = here.post("/settings/sessions/end", {"session": phone_id}, page="/settings/sessions")
    assert response.status_code == 302
    assert phone.get("/settings").status_code == 302  # the phone is signed out
    assert here.get("/settings").status_code == 200
    assert count(db, member) == 1


def test_someone_elses_session_is_left_alone(
    app: Flask, member: User, make: Factory, db: Session
) -> None:
    stranger = make.user()
    theirs = device(app, stranger, IPHONE, "203.0.113.9")
    their_id = SESSION_FORM.findall(theirs.get("/settings/sessions").get_data(as_text=True))[0]
    mine = device(app, member, FIREFOX, "198.51.100.4")
    refused = mine.post("/settings/sessions/end", {"session": their_id}, page="/settings/sessions")
    assert refused.headers["Location"] == "/settings/sessions"
    assert "already ended" in mine.get("/settings/sessions").get_data(as_text=True)
    assert theirs.get("/settings").status_code == 200


def test_signing_out_this_device_logs_out(app: Flask, member: User, db: Session) -> None:
    here = device(app, member, FIREFOX, "198.51.100.4")
    this_id = SESSION_FORM.findall(here.get("/settings/sessions").get_data(as_text=True))[0]
    response = here.post("/settings/sessions/end", {"session": this_id}, page="/settings/sessions")
    assert response.headers["Location"] == "/"
    assert here.get("/settings").status_code == 302
    assert count(db, member) == 0


def test_signing_out_all_other_sessions(app: Flask, member: User, db: Session) -> None:
    others = [device(app, member, IPHONE, f"203.0.113.{n}") for n in range(3)]
    here = device(app, member, FIREFOX, "198.51.100.4")
    page = here.get("/settings/sessions").get_data(as_text=True)
    assert "Sign out all other sessions" in page
    here.post("/settings/sessions/end-others", {}, page="/settings/sessions")
    assert all(o.get("/settings").status_code == 302 for o in others)
    assert here.get("/settings").status_code == 200 and count(db, member) == 1


def test_the_page_runs_the_same_statements_for_one_session_or_many(
    app: Flask, member: User, sql: Any
) -> None:
    here = device(app, member, FIREFOX, "198.51.100.4")
    sql.clear()
    here.client.get("/settings/sessions")
    one = len(sql)
    for n in range(5):
        device(app, member, IPHONE, f"203.0.113.{n}")
    sql.clear()
    here.client.get("/settings/sessions")
    assert len(sql) == one


def test_the_pages_need_a_login(client: Browserish) -> None:
    for url in ("/settings/sessions", "/settings/security"):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"]
