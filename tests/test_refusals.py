"""Refusals say why: the preview refuses members who may not post, as replies do, and editing
or deleting someone else's post answers with the reason instead of Werkzeug's generic 403."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from forum.models import Post, User, utcnow
from tests.conftest import Browserish, Factory

GENERIC_403 = "You don't have the permission"


def preview(client: Browserish, body: str = "**bold** move") -> tuple[int, str]:
    response = client.post("/preview", {"body": body}, page="/settings")
    return response.status_code, response.get_data(as_text=True)


def test_an_active_member_previews(member_client: Browserish) -> None:
    status, page = preview(member_client)

    assert status == 200
    assert "<strong>bold</strong>" in page


@pytest.mark.parametrize("how", ["suspended", "banned"])
def test_suspended_and_banned_members_may_not_preview(
    member_client: Browserish, member: User, db: Session, how: str
) -> None:
    if how == "banned":
        member.is_banned = True
    else:
        member.suspended_until = utcnow() + timedelta(days=2)
    db.commit()

    status, page = preview(member_client)

    assert status == 403
    assert "<strong>" not in page
    assert ("banned" if how == "banned" else "suspended until") in page


def test_unverified_members_may_not_preview(
    app: Flask, member_client: Browserish, member: User, db: Session
) -> None:
    app.config["REQUIRE_EMAIL_VERIFICATION"] = True
    member.email_verified_at = None
    db.commit()

    status, page = preview(member_client)

    assert status == 403
    assert "Confirm your email address first" in page
    assert "<strong>" not in page


@pytest.fixture
def someone_elses_post(make: Factory) -> Post:
    author = make.user("victor_v")
    thread = make.thread(author=author, title="Victor's theory")
    return make.reply(thread, author, "Victor's own words")


@pytest.mark.parametrize(
    "method, path", [("GET", "/p/{id}/edit"), ("POST", "/p/{id}/edit"), ("POST", "/p/{id}/delete")]
)
def test_changing_someone_elses_post_answers_with_the_reason(
    member_client: Browserish, someone_elses_post: Post, method: str, path: str
) -> None:
    url = path.format(id=someone_elses_post.id)
    if method == "GET":
        response = member_client.get(url)
    else:
        response = member_client.post(url, {"body": "Mallory's words"}, page="/settings")

    page = response.get_data(as_text=True)
    assert response.status_code == 403
    assert "someone else&#39;s post" in page or "someone else's post" in page
    assert GENERIC_403 not in page


def test_editing_own_post_in_a_locked_thread_says_it_is_locked(
    member_client: Browserish, member: User, make: Factory, db: Session
) -> None:
    thread = make.thread(author=member, title="My locked thread")
    post = make.reply(thread, member, "Mine")
    thread.is_locked = True
    db.commit()

    response = member_client.get(f"/p/{post.id}/edit")

    assert response.status_code == 403
    assert "This thread is locked" in response.get_data(as_text=True)
