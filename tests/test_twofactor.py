"""Authenticator-app codes (TOTP), recovery codes, the second-factor step of logging in, its
rate limit, and the admins' "require a second factor" switch (forum/accounts/twofactor.py,
forum/views/signin.py)."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pyotp
import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, sessionmaker

from forum import create_app
from forum.accounts import membership, twofactor
from forum.models import AuthSession, RecoveryCode, Role, TotpSecret, User, utcnow
from tests.conftest import FAST_HASHING, PASSWORD, Browserish, Factory
from tests.html_scan import form_page
from tests.mail_server import Inbox, inbox_fixture, smtp_server_fixture  # noqa: F401

SECRET_ON_PAGE = re.compile(r"data-totp-secret>([A-Z2-7]+)<")
CODES_ON_PAGE = re.compile(r"<code>([a-z2-9]{5}-[a-z2-9]{5})</code>")


def with_app(db: Session, user: User) -> str:
    """Give `user` an enabled authenticator app; returns its secret."""
    secret = pyotp.random_base32()
    db.add(TotpSecret(user_id=user.id, secret=secret, last_step=0, enabled_at=utcnow()))
    db.commit()
    return secret


def sessions_of(db: Session, user: User) -> int:
    db.expire_all()
    return (
        db.scalar(
            select(func.count()).select_from(AuthSession).where(AuthSession.user_id == user.id)
        )
        or 0
    )


def password_step(client: Browserish, user: User, **extra: str) -> str:
    response = client.post("/login", {"username": user.username, "password": PASSWORD, **extra})
    assert response.status_code == 302
    return response.headers["Location"]


def second_step(client: Browserish, code: str) -> object:
    return client.post("/login/second-factor", {"code": code}, page="/login/second-factor")


# ------------------------------------------------------------------------------ setting it up


def test_setting_up_the_app_needs_a_right_code_and_shows_recovery_codes_once(
    member_client: Browserish, member: User, db: Session
) -> None:
    member_client.post("/settings/security/totp/start", {}, page="/settings/security")
    page = member_client.get("/settings/security/totp").get_data(as_text=True)
    secret = SECRET_ON_PAGE.search(page).group(1)
    assert "<svg" in page  # the QR code is drawn here, no outside service

    wrong = member_client.post(
        "/settings/security/totp", {"code": "000000"}, page="/settings/security/totp"
    )
    assert "That code isn't right" in " ".join(form_page(wrong).errors)
    assert db.get(TotpSecret, member.id).enabled_at is None

    done = member_client.post(
        "/settings/security/totp",
        {"code": pyotp.TOTP(secret).now()},
        page="/settings/security/totp",
    )
    codes = CODES_ON_PAGE.findall(done.get_data(as_text=True))
    assert len(codes) == twofactor.RECOVERY_CODE_COUNT
    db.expire_all()
    assert db.get(TotpSecret, member.id).enabled_at is not None
    stored = list(
        db.scalars(select(RecoveryCode.code_hash).where(RecoveryCode.user_id == member.id))
    )
    assert len(stored) == len(codes) and not set(codes) & set(stored)  # hashed at rest
    # Shown once: the page afterwards only counts them.
    again = member_client.get("/settings/security").get_data(as_text=True)
    assert not CODES_ON_PAGE.search(again) and "<strong>10</strong> unused" in again


# ------------------------------------------------------------------------------ logging in


def test_a_member_with_the_app_gets_no_session_until_the_code(
    client: Browserish, make: Factory, db: Session
) -> None:
    user = make.user()
    secret = with_app(db, user)
    assert password_step(client, user, next="/search") == "/login/second-factor"
    assert sessions_of(db, user) == 0
    assert client.get("/settings").status_code == 302  # not signed in yet

    response = second_step(client, pyotp.TOTP(secret).now())
    assert response.status_code == 302 and response.headers["Location"] == "/search"
    assert sessions_of(db, user) == 1
    assert client.get("/settings").status_code == 200


def test_a_code_is_refused_the_second_time(client: Browserish, make: Factory, db: Session) -> None:
    user = make.user()
    secret = with_app(db, user)
    code = pyotp.TOTP(secret).now()
    password_step(client, user)
    assert second_step(client, code).status_code == 302
    client.logout()

    password_step(client, user)
    replay = second_step(client, code)
    assert replay.status_code == 200
    assert "already used" in " ".join(form_page(replay).errors)
    assert sessions_of(db, user) == 0  # the first one logged out


def test_the_step_moves_forward_only(db: Session, make: Factory) -> None:
    user = make.user()
    secret = with_app(db, user)
    now = time.time()
    totp = pyotp.TOTP(secret)
    assert twofactor.verify_totp(db, user, totp.at(now), now=now)
    # The previous step's code is still inside the drift window, but older than the one used.
    assert not twofactor.verify_totp(db, user, totp.at(now - 30), now=now)
    assert twofactor.verify_totp(db, user, totp.at(now + 30), now=now + 30)


def test_a_pending_login_expires(client: Browserish, make: Factory, db: Session) -> None:
    user = make.user()
    secret = with_app(db, user)
    password_step(client, user)
    with client.client.session_transaction() as cookie:
        cookie["pending_login"] = {**cookie["pending_login"], "at": int(time.time()) - 301}
    token = client.token("/login")
    response = client.client.post(
        "/login/second-factor", data={"csrf_token": token, "code": pyotp.TOTP(secret).now()}
    )
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert sessions_of(db, user) == 0


def test_a_password_change_voids_a_waiting_login(
    client: Browserish, make: Factory, db: Session
) -> None:
    user = make.user()
    secret = with_app(db, user)
    password_step(client, user)
    membership.change_password(db, user, "someone else's new passphrase")
    db.commit()
    token = client.token("/login")
    response = client.client.post(
        "/login/second-factor", data={"csrf_token": token, "code": pyotp.TOTP(secret).now()}
    )
    assert response.headers["Location"] == "/login" and sessions_of(db, user) == 0


def test_the_draft_survives_the_second_step(client: Browserish, make: Factory, db: Session) -> None:
    user = make.user()
    secret = with_app(db, user)
    password_step(client, user, next="/b/x/new", title="My theory", body="It was the twin")
    page = second_step(client, pyotp.TOTP(secret).now()).get_data(as_text=True)
    assert "It was the twin" in page and "Your post is below" in page


def test_a_recovery_code_works_once_is_logged_and_mailed(
    client: Browserish, make: Factory, db: Session, inbox: Inbox, caplog: pytest.LogCaptureFixture
) -> None:
    user = make.user()
    with_app(db, user)
    codes = twofactor.new_recovery_codes(db, user)
    db.commit()

    password_step(client, user)
    with caplog.at_level(logging.WARNING, logger="forum.accounts.twofactor"):
        used = second_step(client, codes[3].upper().replace("-", " "))
    assert used.status_code == 302 and used.headers["Location"] == "/settings/security"
    assert any(
        "recovery code used" in r.getMessage() and f"user_id={user.id}" in r.getMessage()
        for r in caplog.records
    )
    mails = inbox.to(user.email)
    assert len(mails) == 1 and "recovery code" in mails[0]["Subject"]
    assert "9 unused codes left" in mails[0].get_content()
    client.logout()

    password_step(client, user)
    again = second_step(client, codes[3])
    assert again.status_code == 200 and sessions_of(db, user) == 0
    assert len(inbox.to(user.email)) == 1


# ------------------------------------------------------------------------------ rate limit


@pytest.fixture
def limited_app(database_url: str, connection: Connection) -> Flask:
    app = create_app(
        {
            "DATABASE_URL": database_url,
            "SECRET_KEY": "test",
            "TESTING": True,
            "RATE_LIMITS": "on",
            "LIMIT_LOGIN_ACCOUNT": "100 per minute",
            "LIMIT_LOGIN_IP": "100 per minute",
            **FAST_HASHING,
        }
    )
    app.extensions["forum.sessionmaker"] = sessionmaker(
        bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
    )
    return app


def test_wrong_codes_are_rate_limited_per_account(
    limited_app: Flask, make: Factory, db: Session
) -> None:
    user = make.user()
    secret = with_app(db, user)
    client = Browserish(limited_app.test_client())
    password_step(client, user)
    for _ in range(5):
        assert second_step(client, "123456").status_code == 200
    blocked = second_step(client, pyotp.TOTP(secret).now())
    assert blocked.status_code == 429
    assert "tried that too many times" in blocked.get_data(as_text=True)
    assert sessions_of(db, user) == 0

    # A fresh browser (new cookie, same account) is counted against the same account.
    other = Browserish(limited_app.test_client())
    password_step(other, user)
    assert second_step(other, pyotp.TOTP(secret).now()).status_code == 429


# ------------------------------------------------------------------------------ the requirement


@pytest.fixture(params=[Role.MODERATOR, Role.ADMIN])
def staff(request: pytest.FixtureRequest, make: Factory) -> User:
    return make.user(role=request.param)


def require_second_factor(app: Flask, client: Browserish, db: Session, make: Factory) -> None:
    admin = make.user(role=Role.ADMIN)
    with_app(db, admin)  # the admin setting it has one, so the admin area stays open
    admin_client = Browserish(app.test_client())
    password_step(admin_client, admin)
    secret = db.get(TotpSecret, admin.id).secret
    second_step(admin_client, pyotp.TOTP(secret).now())
    saved = admin_client.post(
        "/admin/settings",
        {"site_name": "Showboard", "registration": "open", "require_second_factor": "y"},
        page="/admin/settings",
    )
    assert saved.status_code == 302


def test_staff_without_a_second_factor_are_sent_to_set_one_up(
    app: Flask, client: Browserish, staff: User, make: Factory, db: Session
) -> None:
    area = "/admin" if staff.role == Role.ADMIN else "/mod"
    client.login(staff.username)
    assert client.get(area).status_code == 200  # off by default

    require_second_factor(app, client, db, make)
    blocked = client.get(area)
    assert blocked.status_code == 302 and blocked.headers["Location"] == "/settings/security"
    assert client.get("/").status_code == 200  # still reads the forum as a member

    with_app(db, staff)
    assert client.get(area).status_code == 200


def test_members_are_not_asked(
    app: Flask, client: Browserish, make: Factory, db: Session, member: User
) -> None:
    require_second_factor(app, client, db, make)
    client.login(member.username)
    assert client.get("/mod").status_code == 403
    assert client.get("/settings").status_code == 200


@pytest.fixture(autouse=True)
def _settings_cache_cleared(app: Flask) -> Iterator[None]:
    yield
    app.extensions.pop("forum.site_settings", None)


def test_disabling_the_app_needs_the_password(
    member_client: Browserish, member: User, db: Session, tmp_path: Path
) -> None:
    with_app(db, member)
    wrong = member_client.post(
        "/settings/security/totp/disable", {"pw-password": "nope"}, page="/settings/security"
    )
    assert "That isn't your password." in form_page(wrong).errors
    assert db.get(TotpSecret, member.id) is not None
    member_client.post(
        "/settings/security/totp/disable", {"pw-password": PASSWORD}, page="/settings/security"
    )
    db.expire_all()
    assert db.get(TotpSecret, member.id) is None
