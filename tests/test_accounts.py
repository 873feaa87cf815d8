"""Accounts through the pages a fan uses: sign up, log in and out, `next` redirects, settings."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import unquote

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from forum.models import User
from tests.conftest import PASSWORD, Browserish, Factory
from tests.html_scan import form_page

NEW_PASSWORD = "a brand new passphrase"


def signed_in_as(client: Browserish) -> str | None:
    """The username shown in the page header, or None when the visitor is logged out."""
    page = client.get("/").get_data(as_text=True)
    match = re.search(r'class="user-chip" href="/u/([^"]+)"', page)
    return unquote(match.group(1)) if match else None


def fullwidth(text: str) -> str:
    """ASCII letters as their fullwidth look-alikes: "Mel" -> "\uff2d\uff45\uff4c"."""
    return "".join(chr(ord(ch) + 0xFEE0) for ch in text)


def visible(text: str) -> str:
    """The text without control and invisible format characters."""
    return "".join(ch for ch in text if unicodedata.category(ch) not in {"Cc", "Cf"})


def register(
    client: Browserish,
    username: str,
    email: str | None = None,
    password: str = PASSWORD,
    confirm: str | None = None,
) -> TestResponse:
    data = {
        "username": username,
        "email": email or "newfan@example.org",
        "password": password,
        "confirm": password if confirm is None else confirm,
    }
    return client.post("/register", data, page="/register")


def user_count(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(User)) or 0


def new_client(app: Flask) -> Browserish:
    return Browserish(app.test_client())


def set_cookies(response: TestResponse, name: str) -> list[str]:
    return [h for h in response.headers.getlist("Set-Cookie") if h.startswith(f"{name}=")]


# ------------------------------------------------------------------------------ registration


def test_register_creates_account_and_logs_in(client: Browserish, db: Session) -> None:
    response = register(client, "ingrid_stan", "ingrid@example.org")

    assert response.status_code == 302
    assert signed_in_as(client) == "ingrid_stan"
    user = db.scalar(select(User).where(User.username == "ingrid_stan"))
    assert user is not None and user.email == "ingrid@example.org"


@pytest.mark.parametrize("username", ["abc", "a" * 30, "Mel_fan-2", "Zoë"])
def test_register_accepts_usernames_within_the_rules(client: Browserish, username: str) -> None:
    response = register(client, username)

    assert response.status_code == 302
    assert signed_in_as(client) == username


@pytest.mark.parametrize(
    "taken, typed",
    [
        ("membermel", "MEMBERMEL"),
        ("membermel", "MemberMel"),
        ("membermel", fullwidth("MemberMel")),  # NFKC turns it back into "MemberMel"
        ("MemberMel", "membermel"),
    ],
)
def test_register_refuses_username_taken_in_another_case_or_width(
    client: Browserish, make: Factory, db: Session, taken: str, typed: str
) -> None:
    make.user(taken)
    before = user_count(db)

    page = form_page(register(client, typed, "someone.else@example.org"))

    assert any("taken" in error for error in page.errors)
    assert user_count(db) == before
    assert signed_in_as(client) is None


@pytest.mark.parametrize("typed", ["other@example.org", "OTHER@Example.ORG"])
def test_register_with_a_taken_email_answers_like_a_new_one_and_makes_nothing(
    app: Flask, make: Factory, db: Session, typed: str
) -> None:
    make.user("other")  # the factory gives other@example.org
    before = user_count(db)
    answers = []
    for username, email in (("newcomer", typed), ("newcomer2", "fresh.address@example.org")):
        client = new_client(app)
        response = register(client, username, email)
        landing = client.get(response.headers["Location"]).get_data(as_text=True)
        flashed = re.findall(r'class="flash[^"]*"[^>]*>(.*?)<', landing, re.S)
        answers.append(
            (
                response.status_code,
                response.headers["Location"],
                [m.replace(username, "<name>") for m in flashed],
            )
        )

    taken, fresh = answers
    assert taken == fresh, "a taken address is told apart from a new one"
    assert "already exists" not in str(taken)
    assert user_count(db) == before + 1  # only the new address made an account
    assert db.scalar(select(User).where(User.username == "newcomer")) is None


def test_register_refuses_mismatched_confirmation(client: Browserish, db: Session) -> None:
    before = user_count(db)

    page = form_page(register(client, "newcomer", confirm="something else entirely"))

    assert any("don't match" in error for error in page.errors)
    assert user_count(db) == before


@pytest.mark.parametrize(
    "username",
    [
        pytest.param("ab", id="too-short"),
        pytest.param("a" * 31, id="31-chars"),
        pytest.param("mel fan", id="space"),
        pytest.param("mel\u200bfan", id="zero-width-space"),
        pytest.param("mel\u202efan", id="right-to-left-override"),
        pytest.param("mel\x00fan", id="nul"),
    ],
)
def test_register_refuses_bad_username_and_keeps_what_was_typed(
    client: Browserish, db: Session, username: str
) -> None:
    before = user_count(db)

    response = register(client, username, "kept@example.org")
    page = form_page(response)

    assert response.status_code == 200
    assert page.errors, "no message in an .error / role=alert element"
    assert visible(page.values["username"]) == visible(username)
    assert page.values["email"] == "kept@example.org"
    assert user_count(db) == before


def test_register_page_redirects_a_logged_in_member(member_client: Browserish) -> None:
    assert member_client.get("/register").status_code == 302


# ------------------------------------------------------------------------------ login / logout


def test_login_with_right_password_logs_in(client: Browserish, member: User) -> None:
    response = client.post("/login", {"username": member.username, "password": PASSWORD})

    assert response.status_code == 302
    assert signed_in_as(client) == member.username


def test_login_accepts_username_in_another_case(client: Browserish, member: User) -> None:
    client.post("/login", {"username": member.username.upper(), "password": PASSWORD})

    assert signed_in_as(client) == member.username


def test_wrong_password_and_unknown_user_get_the_same_answer(
    client: Browserish, member: User
) -> None:
    wrong = client.post("/login", {"username": member.username, "password": "not the password"})
    unknown = client.post("/login", {"username": "nobody_here", "password": "not the password"})

    assert wrong.status_code == unknown.status_code == 200
    assert form_page(wrong).errors == form_page(unknown).errors != []
    assert signed_in_as(client) is None


def test_remember_me_sets_a_remember_cookie(client: Browserish, member: User) -> None:
    response = client.login(member.username, remember=True)

    assert set_cookies(response, "remember_token")


def test_login_without_remember_me_sets_no_remember_cookie(
    client: Browserish, member: User
) -> None:
    response = client.login(member.username)

    assert not set_cookies(response, "remember_token")
    assert client.client.get_cookie("remember_token") is None


def test_remember_cookie_logs_in_after_the_session_cookie_is_gone(
    client: Browserish, member: User
) -> None:
    client.login(member.username, remember=True)
    client.client.delete_cookie("session")

    assert signed_in_as(client) == member.username


def test_logout_revokes_the_remember_cookie(app: Flask, client: Browserish, member: User) -> None:
    client.login(member.username, remember=True)
    remember = client.client.get_cookie("remember_token")
    assert remember is not None

    client.logout()
    copied = new_client(app)
    copied.client.set_cookie("remember_token", remember.value)

    assert signed_in_as(copied) is None


def test_logout_by_get_is_not_allowed(member_client: Browserish, member: User) -> None:
    assert member_client.get("/logout").status_code == 405
    assert signed_in_as(member_client) == member.username


def test_logout_without_csrf_token_keeps_you_logged_in(
    member_client: Browserish, member: User
) -> None:
    response = member_client.raw_post("/logout")

    assert response.status_code < 500
    assert signed_in_as(member_client) == member.username


def test_logout_with_csrf_token_logs_out(member_client: Browserish) -> None:
    response = member_client.logout()

    assert response.status_code == 302
    assert signed_in_as(member_client) is None


# ------------------------------------------------------------------------------ next redirects


def test_login_follows_local_next_path(client: Browserish, member: User) -> None:
    response = client.post(
        "/login",
        {"username": member.username, "password": PASSWORD, "next": "/b/partner-track?page=2"},
    )

    assert response.status_code == 302
    assert response.headers["Location"] == "/b/partner-track?page=2"


def test_login_page_carries_next_from_the_query_string(client: Browserish) -> None:
    page = form_page(client.get("/login?next=/b/partner-track"))

    assert page.values["next"] == "/b/partner-track"


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example",
        "https://evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "javascript:alert(1)",
        " //evil.example",
        "/\t/evil.example",
        "http:evil.example",
    ],
)
def test_login_ignores_next_that_leaves_the_site(
    client: Browserish, member: User, target: str
) -> None:
    response = client.post(
        "/login", {"username": member.username, "password": PASSWORD, "next": target}
    )

    assert response.status_code == 302
    assert response.headers["Location"] == "/"


# ------------------------------------------------------------------------------ settings


def change_password(
    client: Browserish, current: str, new: str = NEW_PASSWORD, confirm: str | None = None
) -> TestResponse:
    return client.post(
        "/settings/password",
        {
            "pw-current_password": current,
            "pw-new_password": new,
            "pw-confirm": new if confirm is None else confirm,
        },
        page="/settings",
    )


def change_email(client: Browserish, email: str, current: str = PASSWORD) -> TestResponse:
    return client.post(
        "/settings/email", {"em-email": email, "em-current_password": current}, page="/settings"
    )


def test_settings_needs_login(client: Browserish) -> None:
    response = client.get("/settings")

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_password_change_with_current_password_takes_effect(
    app: Flask, member_client: Browserish, member: User
) -> None:
    response = change_password(member_client, PASSWORD)

    assert response.status_code == 302
    fresh = new_client(app)
    assert (
        fresh.post("/login", {"username": member.username, "password": NEW_PASSWORD}).status_code
        == 302
    )
    assert signed_in_as(fresh) == member.username


def test_old_password_stops_working_after_change(
    app: Flask, member_client: Browserish, member: User
) -> None:
    change_password(member_client, PASSWORD)

    fresh = new_client(app)
    fresh.post("/login", {"username": member.username, "password": PASSWORD})
    assert signed_in_as(fresh) is None


def test_password_change_with_wrong_current_password_changes_nothing(
    app: Flask, member_client: Browserish, member: User, db: Session
) -> None:
    hash_before = member.password_hash

    response = change_password(member_client, "not my password")

    assert response.status_code == 200
    assert any("current password" in error for error in form_page(response).errors)
    db.expire_all()
    assert db.get(User, member.id).password_hash == hash_before  # type: ignore[union-attr]
    fresh = new_client(app)
    fresh.login(member.username)  # the old password still works


def test_password_change_refuses_mismatched_confirmation(
    member_client: Browserish, member: User, db: Session
) -> None:
    hash_before = member.password_hash

    response = change_password(member_client, PASSWORD, confirm="a different passphrase")

    assert any("don't match" in error for error in form_page(response).errors)
    db.expire_all()
    assert db.get(User, member.id).password_hash == hash_before  # type: ignore[union-attr]


def test_password_change_logs_out_other_sessions(
    app: Flask, member_client: Browserish, member: User
) -> None:
    other_device = new_client(app)
    other_device.login(member.username)

    change_password(member_client, PASSWORD)

    assert signed_in_as(other_device) is None


def test_password_change_keeps_the_current_session(member_client: Browserish, member: User) -> None:
    change_password(member_client, PASSWORD)

    assert signed_in_as(member_client) == member.username
    assert member_client.get("/settings").status_code == 200


def test_password_change_revokes_older_remember_cookies(
    app: Flask, member_client: Browserish, member: User
) -> None:
    other_device = new_client(app)
    other_device.login(member.username, remember=True)
    other_device.client.delete_cookie("session")  # only the remember cookie is left

    change_password(member_client, PASSWORD)

    assert signed_in_as(other_device) is None


def test_email_change_with_current_password_takes_effect(
    member_client: Browserish, member: User, db: Session
) -> None:
    response = change_email(member_client, "mel.new@example.org")

    assert response.status_code == 302
    db.expire_all()
    assert db.get(User, member.id).email == "mel.new@example.org"  # type: ignore[union-attr]


@pytest.mark.parametrize("current", ["", "not my password"])
def test_email_change_without_right_current_password_changes_nothing(
    member_client: Browserish, member: User, db: Session, current: str
) -> None:
    email_before = member.email

    response = change_email(member_client, "mel.new@example.org", current)

    assert response.status_code == 200
    assert form_page(response).errors
    db.expire_all()
    assert db.get(User, member.id).email == email_before  # type: ignore[union-attr]


@pytest.mark.parametrize("typed", ["rival@example.org", "Rival@EXAMPLE.org"])
def test_email_change_refuses_address_of_another_account(
    member_client: Browserish, member: User, make: Factory, db: Session, typed: str
) -> None:
    make.user("rival")
    email_before = member.email

    response = change_email(member_client, typed)

    assert any("already exists" in error for error in form_page(response).errors)
    db.expire_all()
    assert db.get(User, member.id).email == email_before  # type: ignore[union-attr]


# ------------------------------------------------------------------------------ cookies


def test_session_cookie_is_httponly_and_samesite_lax(client: Browserish, member: User) -> None:
    response = client.login(member.username)

    [cookie] = set_cookies(response, "session")
    flags = [part.strip().lower() for part in cookie.split(";")]
    assert "httponly" in flags
    assert "samesite=lax" in flags


def test_session_cookie_is_not_secure_in_development(client: Browserish, member: User) -> None:
    response = client.login(member.username)

    [cookie] = set_cookies(response, "session")
    assert "secure" not in [part.strip().lower() for part in cookie.split(";")]


def test_remember_cookie_is_httponly_and_samesite_lax(client: Browserish, member: User) -> None:
    response = client.login(member.username, remember=True)

    [cookie] = set_cookies(response, "remember_token")
    flags = [part.strip().lower() for part in cookie.split(";")]
    assert "httponly" in flags
    assert "samesite=lax" in flags
