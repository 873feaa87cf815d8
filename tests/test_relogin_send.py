"""Logged out while writing, logged in again: one Send posts (issue 11, defect 4).

A fan has the new-thread (or reply) form open when their session ends elsewhere (another device
signs every other one out). Their Send answers the login page carrying the draft
(forum/views/drafts.py `ask_to_log_in`); logging in shows the draft in a form to send again. The
login starts a fresh session (a new CSRF token), and that form used to carry the token of the
session the login had just thrown away: the first Send answered 400 "Your form expired", only
the second one posted. Every form on that page must carry a token the new session accepts.

Each step posts what the page's form would submit, as a browser does, from this site.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

import pyotp
import pytest
from flask import Flask
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from forum.models import AuthSession, Board, Post, Thread, TotpSecret, User, utcnow
from tests.conftest import PASSWORD, Browserish, Factory, browser_for, who
from tests.html_scan import page_text, textarea_value

SAME_ORIGIN = {"Origin": "http://localhost"}
TITLE = "Who sent the finale tape?"
BODY = "It was the producer & the intern <together>, trust me."
LOGGED_OUT_NOTICE = "You were logged out. Log in and your post will be waiting for you."


@dataclass
class Form:
    action: str
    fields: dict[str, str] = field(default_factory=dict)
    buttons: dict[str, str] = field(default_factory=dict)


class Forms(HTMLParser):
    """The POST forms of a page, by action, with the values a browser would submit."""

    def __init__(self, page: str) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self._textarea: str | None = None
        self.feed(page)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "form" and values.get("method", "get").lower() == "post":
            self.forms.append(Form(values.get("action", "")))
        elif not self.forms or "name" not in values:
            return
        elif tag == "input":
            self.forms[-1].fields[values["name"]] = values.get("value", "")
        elif tag == "button":
            self.forms[-1].buttons[values["name"]] = values.get("value", "")
        elif tag == "textarea":
            self._textarea = values["name"]
            self.forms[-1].fields[self._textarea] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea" and self._textarea is not None:
            form = self.forms[-1]
            form.fields[self._textarea] = textarea_value(form.fields[self._textarea])
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self.forms[-1].fields[self._textarea] += data

    def to(self, action: str) -> Form:
        found = [form for form in self.forms if form.action == action]
        assert len(found) == 1, f"expected one form posting to {action}, found {len(found)}"
        return found[0]


def forms_of(response: TestResponse) -> Forms:
    return Forms(response.get_data(as_text=True))


def send(browser: Browserish, form: Form, **typed: str) -> TestResponse:
    """Submit `form` with `typed` filled in, pressing its first named button if it has one."""
    data = {**form.fields, **typed, **dict(list(form.buttons.items())[:1])}
    return browser.client.post(form.action, data=data, headers=SAME_ORIGIN)


@pytest.fixture
def board(make: Factory) -> Board:
    return make.board("finale-night")


def count(db: Session, model: type[Thread] | type[Post]) -> int:
    db.expire_all()
    return db.scalar(select(func.count()).select_from(model)) or 0


def logged_out_elsewhere(app: Flask, member: User) -> None:
    """The member's other device signs every other session out."""
    laptop = browser_for(app, member)
    ended = laptop.post("/settings/sessions/end-others", page="/settings/sessions")
    assert ended.status_code == 302


def send_while_logged_out(
    app: Flask, member: User, form_page: str, **typed: str
) -> tuple[Browserish, TestResponse]:
    """Open `form_page` logged in, get logged out elsewhere, then press Send: returns the phone
    and the login page it was shown."""
    phone = browser_for(app, member)
    compose = forms_of(phone.get(form_page))
    action = next(form.action for form in compose.forms if "body" in form.fields)
    logged_out_elsewhere(app, member)

    login_page = send(phone, compose.to(action), **typed)

    assert login_page.status_code == 401
    assert LOGGED_OUT_NOTICE in page_text(login_page)
    return phone, login_page


def log_in_from(phone: Browserish, login_page: TestResponse, member: User) -> TestResponse:
    restored = send(
        phone, forms_of(login_page).to("/login"), username=member.username, password=PASSWORD
    )
    assert restored.status_code == 200
    assert "You're logged in. Your post is below" in page_text(restored)
    assert who(phone) == member.username
    return restored


def test_one_send_starts_the_thread_after_logging_in_again(
    app: Flask, member: User, board: Board, db: Session
) -> None:
    new_thread = f"/b/{board.slug}/new"
    phone, login_page = send_while_logged_out(app, member, new_thread, title=TITLE, body=BODY)

    restored = log_in_from(phone, login_page, member)
    form = forms_of(restored).to(new_thread)
    assert form.fields["title"] == TITLE and form.fields["body"] == BODY

    sent = send(phone, form)

    assert sent.status_code == 302, sent.get_data(as_text=True)
    assert "/t/" in sent.headers["Location"]
    assert count(db, Thread) == 1
    thread = db.scalars(select(Thread)).one()
    assert thread.title == TITLE


def test_one_send_posts_the_reply_after_logging_in_again(
    app: Flask, make: Factory, member: User, db: Session
) -> None:
    thread = make.thread(title="Finale night")
    reply = f"/t/{thread.id}/reply"
    phone, login_page = send_while_logged_out(
        app, member, f"/t/{thread.id}/{thread.slug}", body=BODY
    )
    posts_before = count(db, Post)

    form = forms_of(log_in_from(phone, login_page, member)).to(reply)
    assert form.fields["body"] == BODY
    sent = send(phone, form)

    assert sent.status_code == 302, sent.get_data(as_text=True)
    assert count(db, Post) == posts_before + 1


def test_the_header_log_out_on_the_restored_page_works_too(
    app: Flask, member: User, board: Board
) -> None:
    """Every form on that page was rendered in the login's request: the header's log-out
    button carries the new session's token as well."""
    phone, login_page = send_while_logged_out(
        app, member, f"/b/{board.slug}/new", title=TITLE, body=BODY
    )
    restored = log_in_from(phone, login_page, member)

    out = send(phone, forms_of(restored).to("/logout"))

    assert out.status_code == 302
    assert who(phone) is None


def test_one_send_posts_after_a_login_with_an_authenticator_code(
    app: Flask, member: User, board: Board, db: Session
) -> None:
    """The second-factor step finishes the login in a request of its own (forum/views/
    signin.py) and hands the draft back the same way."""
    new_thread = f"/b/{board.slug}/new"
    phone = browser_for(app, member)
    compose = forms_of(phone.get(new_thread)).to(new_thread)
    # Meanwhile the member turns on an authenticator app and every session of theirs ends.
    secret = pyotp.random_base32()
    db.add(TotpSecret(user_id=member.id, secret=secret, last_step=0, enabled_at=utcnow()))
    db.execute(delete(AuthSession).where(AuthSession.user_id == member.id))
    db.commit()

    login_page = send(phone, compose, title=TITLE, body=BODY)
    assert login_page.status_code == 401
    asked = send(
        phone, forms_of(login_page).to("/login"), username=member.username, password=PASSWORD
    )
    assert asked.status_code == 302 and asked.headers["Location"] == "/login/second-factor"
    code_step = forms_of(phone.get("/login/second-factor")).to("/login/second-factor")
    restored = send(phone, code_step, code=pyotp.TOTP(secret).now())
    assert restored.status_code == 200
    form = forms_of(restored).to(new_thread)
    assert form.fields["title"] == TITLE and form.fields["body"] == BODY

    sent = send(phone, form)

    assert sent.status_code == 302, sent.get_data(as_text=True)
    assert count(db, Thread) == 1
