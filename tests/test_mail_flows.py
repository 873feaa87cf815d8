"""Flows that go through email, with a REAL SMTP server (aiosmtpd) listening in this process:
password reset, email verification, development mail in instance/outbox/, account deletion, and
mail as a background job (SMTP down or hung, a taken email at sign-up, an email change).

Links are taken from the messages the server received, the way a fan clicks them.
"""

from __future__ import annotations

import socket
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from flask import Flask
from itsdangerous import URLSafeSerializer
from itsdangerous.timed import TimestampSigner
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from forum.accounts import tokens
from forum.accounts.membership import create_user
from forum.models import AuthSession, Post, Role, User
from tests.conftest import PASSWORD, Browserish, Factory, who
from tests.html_scan import TextAndFields, read, textarea_value
from tests.mail_server import (  # noqa: F401 (fixtures)
    Inbox,
    SmtpServer,
    inbox_fixture,
    link_in,
    only,
    queue_on_disk,
    run_queue,
    smtp_server_fixture,
    smtp_switch_fixture,
)

NEW_PASSWORD = "a fresh passphrase for the finale"


def fresh(app: Flask) -> Browserish:
    return Browserish(app.test_client())


def shown(response: TestResponse) -> TextAndFields:
    return read(response.get_data(as_text=True))


def request_reset(client: Browserish, email: str) -> TestResponse:
    return client.post("/reset", {"email": email}, page="/reset")


def without_token(page: str) -> str:
    token = read(page).values.get("csrf_token")
    return page.replace(token, "<token>") if token else page


# ------------------------------------------------------------------------------ password reset


def test_reset_request_answers_alike_and_mails_only_real_accounts(
    app: Flask, inbox: Inbox, make: Factory
) -> None:
    fan = make.user("reset_fan")
    answers = {}
    for email in (fan.email, "no-such-fan@example.org"):
        client = fresh(app)
        response = request_reset(client, email)
        landing = client.get(response.headers.get("Location", "/"))
        answers[email] = (
            response.status_code,
            response.headers.get("Location"),
            without_token(landing.get_data(as_text=True)),
        )

    real, unknown = answers[fan.email], answers["no-such-fan@example.org"]
    assert real[:2] == unknown[:2] == (302, "/login")
    assert real[2] == unknown[2], "the page after a reset request tells the two apart"
    assert "If that address belongs to an account" in read(real[2]).text
    message = only(inbox.messages)
    assert message["To"] == fan.email
    assert "reset" in message["Subject"].lower()
    assert link_in(message, "reset")


def test_reset_request_finds_the_account_in_any_case(
    app: Flask, inbox: Inbox, make: Factory
) -> None:
    fan = make.user("case_fan")

    request_reset(fresh(app), fan.email.upper())

    assert only(inbox.messages)["To"] == fan.email


def test_reset_link_works_once(app: Flask, inbox: Inbox, make: Factory) -> None:
    fan = make.user("once_fan")
    request_reset(fresh(app), fan.email)
    link = link_in(only(inbox.to(fan.email)), "reset")
    client = fresh(app)

    assert client.get(link).status_code == 200
    changed = client.post(link, {"new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD}, page=link)
    assert changed.status_code == 302
    assert who(client) == fan.username

    again = fresh(app)
    reused = again.get(link)
    assert reused.status_code == 400
    assert "That link doesn't work" in shown(reused).text
    token = read(again.get("/login").get_data(as_text=True)).values["csrf_token"]
    second_use = again.client.post(
        link, data={"csrf_token": token, "new_password": "x" * 12, "confirm": "x" * 12}
    )
    assert second_use.status_code == 400
    assert (
        fresh(app).post("/login", {"username": fan.username, "password": NEW_PASSWORD}).status_code
        == 302
    )
    assert (
        fresh(app).post("/login", {"username": fan.username, "password": PASSWORD}).status_code
        == 200
    )


@contextmanager
def links_signed_ago(monkeypatch: pytest.MonkeyPatch, seconds: int) -> Iterator[None]:
    """Mail sent inside this block carries links signed `seconds` ago: itsdangerous stamps
    the token with its clock."""
    with monkeypatch.context() as past:
        now = TimestampSigner.get_timestamp
        past.setattr(TimestampSigner, "get_timestamp", lambda self: now(self) - seconds)
        yield


@pytest.mark.parametrize(
    "age, works",
    [
        pytest.param(tokens.RESET_MAX_AGE + 60, False, id="an-hour-and-a-minute-old"),
        pytest.param(tokens.RESET_MAX_AGE - 60, True, id="fifty-nine-minutes-old"),
    ],
)
def test_reset_link_expires_after_an_hour(
    app: Flask, inbox: Inbox, make: Factory, monkeypatch: pytest.MonkeyPatch, age: int, works: bool
) -> None:
    fan = make.user("slow_fan")
    with links_signed_ago(monkeypatch, age):
        request_reset(fresh(app), fan.email)
    link = link_in(only(inbox.to(fan.email)), "reset")

    response = fresh(app).get(link)

    assert response.status_code == (200 if works else 400)
    if not works:
        assert "That link doesn't work" in shown(response).text


def test_reset_ends_every_other_session(
    app: Flask, inbox: Inbox, make: Factory, db: Session
) -> None:
    fan = make.user("shared_laptop_fan")
    other_device = fresh(app)
    other_device.login(fan.username, remember=True)
    remember = other_device.client.get_cookie("remember_token")
    assert remember is not None and who(other_device) == fan.username

    request_reset(fresh(app), fan.email)
    link = link_in(only(inbox.to(fan.email)), "reset")
    resetting = fresh(app)
    resetting.post(link, {"new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD}, page=link)

    assert who(resetting) == fan.username
    assert who(other_device) is None
    replay = app.test_client()
    replay.set_cookie("remember_token", remember.value)
    assert who(Browserish(replay)) is None
    sessions = db.scalar(
        select(func.count()).select_from(AuthSession).where(AuthSession.user_id == fan.id)
    )
    assert sessions == 1  # only the session the reset started


# ------------------------------------------------------------------------------ verification


@pytest.fixture
def verifying(app: Flask, inbox: Inbox) -> Inbox:
    app.config["REQUIRE_EMAIL_VERIFICATION"] = True
    return inbox


def sign_up(client: Browserish, username: str, email: str) -> TestResponse:
    response = client.post(
        "/register",
        {"username": username, "email": email, "password": PASSWORD, "confirm": PASSWORD},
        page="/register",
    )
    assert response.status_code == 302
    return response


def is_verified(db: Session, username: str) -> bool:
    db.expire_all()
    user = db.scalar(select(User).where(User.username == username))
    assert user is not None
    return user.email_verified_at is not None


def user_named(db: Session, username: str) -> User | None:
    db.expire_all()
    return db.scalar(select(User).where(User.username == username))


def count_users(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(User)) or 0


def count_sessions(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(AuthSession)) or 0


def unconfirmed_member(app: Flask, make: Factory, db: Session, username: str) -> Browserish:
    """A logged-in member whose address isn't confirmed: one who joined before sign-up links,
    or one whose address was changed and not yet confirmed."""
    member = make.user(username)
    member.email_verified_at = None
    db.commit()
    client = fresh(app)
    client.login(username)
    return client


def request_verification(client: Browserish) -> None:
    assert client.post("/verify/resend", {}, page="/settings").status_code == 302


def test_a_sign_up_makes_no_account_until_its_link_is_clicked(
    app: Flask, verifying: Inbox, db: Session
) -> None:
    client = fresh(app)
    users, sessions = count_users(db), count_sessions(db)

    sign_up(client, "new_fan", "new.fan@example.org")

    assert "Check your email: click the link we sent" in shown(client.get("/")).text
    assert who(client) is None
    assert user_named(db, "new_fan") is None
    assert (count_users(db), count_sessions(db)) == (users, sessions)
    # The name and password chosen at sign-up don't log anyone in before the click.
    refused = fresh(app).post("/login", {"username": "new_fan", "password": PASSWORD})
    assert refused.status_code == 200
    link = link_in(only(verifying.to("new.fan@example.org")), "register")

    confirmed = client.get(link)

    assert (confirmed.status_code, confirmed.headers["Location"]) == (302, "/")
    assert "Welcome to Showboard, new_fan" in shown(client.get("/")).text
    assert who(client) == "new_fan"
    assert is_verified(db, "new_fan")
    fan = user_named(db, "new_fan")
    assert fan is not None and fan.email == "new.fan@example.org"
    assert fresh(app).login("new_fan").status_code == 302  # the password chosen at sign-up


def test_a_second_click_makes_no_second_account(app: Flask, verifying: Inbox, db: Session) -> None:
    sign_up(fresh(app), "twice_fan", "twice@example.org")
    link = link_in(only(verifying.to("twice@example.org")), "register")
    assert fresh(app).get(link).status_code == 302
    users = count_users(db)
    later = fresh(app)

    again = later.get(link)

    assert (again.status_code, again.headers["Location"]) == (302, "/login")
    assert "already confirmed: log in" in shown(later.get("/login")).text
    assert who(later) is None
    assert count_users(db) == users


@pytest.mark.parametrize(
    ("age", "works"),
    [
        pytest.param(tokens.SIGNUP_MAX_AGE + 60, False, id="a-day-and-a-minute-old"),
        pytest.param(tokens.SIGNUP_MAX_AGE - 60, True, id="a-minute-short-of-a-day"),
    ],
)
def test_a_sign_up_link_works_for_a_day(
    app: Flask,
    verifying: Inbox,
    db: Session,
    monkeypatch: pytest.MonkeyPatch,
    age: int,
    works: bool,
) -> None:
    with links_signed_ago(monkeypatch, age):
        sign_up(fresh(app), "slow_joiner", "slow.joiner@example.org")
    link = link_in(only(verifying.to("slow.joiner@example.org")), "register")
    client = fresh(app)

    response = client.get(link)

    assert response.status_code == (302 if works else 400)
    assert (user_named(db, "slow_joiner") is not None) == works
    if not works:
        page = shown(response)
        assert "That link doesn't work" in page.text and "Sign up again" in page.text
        assert 'href="/register"' in response.get_data(as_text=True)
        assert who(client) is None


def test_a_forged_or_damaged_sign_up_link_makes_nothing(
    app: Flask, verifying: Inbox, db: Session
) -> None:
    sign_up(fresh(app), "honest_fan", "honest@example.org")
    link = link_in(only(verifying.to("honest@example.org")), "register")
    token = link.rsplit("/", 1)[1]
    payload, stamp, signature = token.rsplit(".", 2)
    forged_payload = (
        URLSafeSerializer("not the key")
        .dump_payload({"n": "forger", "e": "forger@example.org", "h": "x"})
        .decode()
    )
    users = count_users(db)

    for bad in (
        f"/register/confirm/{forged_payload}.{stamp}.{signature}",
        f"/register/confirm/{payload}.{stamp}.{signature[::-1]}",
        "/register/confirm/not-a-token",
        f"/verify/{token}",
    ):
        response = fresh(app).get(bad)
        assert response.status_code == 400, bad
        assert "That link doesn't work" in shown(response).text
    assert count_users(db) == users


@pytest.mark.parametrize("taker", ["late_fan", "LATE_FAN", "1ate_fan"])
def test_a_username_taken_before_the_click_is_said_and_nothing_is_made(
    app: Flask, verifying: Inbox, make: Factory, db: Session, taker: str
) -> None:
    sign_up(fresh(app), "late_fan", "late@example.org")
    link = link_in(only(verifying.to("late@example.org")), "register")
    make.user(taker)  # the same name, or one that looks like it, joins meanwhile
    users = count_users(db)
    client = fresh(app)

    response = client.get(link)

    assert response.status_code == 409
    page = shown(response)
    assert "Someone took the username" in page.text and "Sign up again" in page.text
    assert 'href="/register"' in response.get_data(as_text=True)
    assert count_users(db) == users
    assert who(client) is None


def test_an_address_taken_before_the_click_is_said_and_nothing_is_made(
    app: Flask, verifying: Inbox, db: Session
) -> None:
    first, second = fresh(app), fresh(app)
    sign_up(first, "first_twin", "twins@example.org")
    sign_up(second, "second_twin", "twins@example.org")
    first_link, second_link = (link_in(m, "register") for m in verifying.to("twins@example.org"))
    assert first.get(first_link).status_code == 302
    users = count_users(db)

    response = second.get(second_link)

    assert response.status_code == 409
    assert "That email address has an account now" in shown(response).text
    assert count_users(db) == users and user_named(db, "second_twin") is None
    assert who(second) is None


def test_a_taken_username_is_said_on_the_form_and_nothing_is_mailed(
    app: Flask, verifying: Inbox, make: Factory
) -> None:
    make.user("famous_fan")
    client = fresh(app)

    response = client.post(
        "/register",
        {
            "username": "famous_fan",
            "email": "me@example.org",
            "password": PASSWORD,
            "confirm": PASSWORD,
        },
        page="/register",
    )

    page = shown(response)
    assert response.status_code == 200
    assert "That username is taken." in page.errors
    assert page.values["email"] == "me@example.org"
    assert verifying.to("me@example.org") == []


def test_an_unverified_member_can_read_but_not_post(
    app: Flask, verifying: Inbox, make: Factory, db: Session
) -> None:
    board = make.board("finale-board")
    thread = make.thread(board=board, title="Season finale thread")
    client = unconfirmed_member(app, make, db, "unconfirmed_fan")
    url = f"/t/{thread.id}/{thread.slug}"
    posts = db.scalar(select(func.count()).select_from(Post))

    read_page = client.get(url)
    started = client.post(
        f"/b/{board.slug}/new", {"title": "My theory", "body": "The twin did it"}, page="/settings"
    )
    replied = client.post(f"/t/{thread.id}/reply", {"body": "Agreed, the twin!"}, page=url)

    assert read_page.status_code == 200
    for response in (started, replied):
        page = shown(response)
        assert response.status_code == 403
        assert "Confirm your email address first" in page.text
    assert shown(started).values["title"] == "My theory"
    assert textarea_value(shown(started).values["body"]) == "The twin did it"
    assert textarea_value(shown(replied).values["kept-body"]) == "Agreed, the twin!"
    assert db.scalar(select(func.count()).select_from(Post)) == posts


def test_a_new_link_can_be_requested_and_it_verifies(
    app: Flask, verifying: Inbox, make: Factory, db: Session
) -> None:
    thread = make.thread(title="Confirmed thread")
    client = unconfirmed_member(app, make, db, "resend_fan")

    resent = client.post("/verify/resend", {}, page="/settings")
    link = link_in(only(verifying.to("resend_fan@example.org")), "verify")
    confirmed = client.get(link)

    assert resent.status_code == 302
    assert confirmed.status_code == 302
    assert "your email is confirmed" in shown(client.get("/")).text
    assert is_verified(db, "resend_fan")
    url = f"/t/{thread.id}/{thread.slug}"
    assert client.post(f"/t/{thread.id}/reply", {"body": "Finally!"}, page=url).status_code == 302


def test_a_link_for_an_old_address_does_not_verify_a_new_one(
    app: Flask, verifying: Inbox, make: Factory, db: Session
) -> None:
    client = unconfirmed_member(app, make, db, "moving_fan")
    request_verification(client)
    old_link = link_in(only(verifying.to("moving_fan@example.org")), "verify")

    changed = client.post(
        "/settings/email",
        {"em-email": "new.address@example.org", "em-current_password": PASSWORD},
        page="/settings",
    )
    new_link = link_in(only(verifying.to("new.address@example.org")), "verify")

    assert changed.status_code == 302
    stale = client.get(old_link)
    assert stale.status_code == 400
    assert "That link doesn't work" in shown(stale).text
    assert not is_verified(db, "moving_fan")
    assert client.get(new_link).status_code == 302
    assert is_verified(db, "moving_fan")


def test_a_verification_link_is_not_a_reset_link(
    app: Flask, verifying: Inbox, make: Factory, db: Session
) -> None:
    request_verification(unconfirmed_member(app, make, db, "mixed_fan"))
    link = link_in(only(verifying.to("mixed_fan@example.org")), "verify")

    assert fresh(app).get(link.replace("/verify/", "/reset/")).status_code == 400


# ------------------------------------------------------------------------------ development mail


def test_without_smtp_url_mail_goes_to_the_instance_outbox(
    app: Flask, db: Session, caplog: pytest.LogCaptureFixture
) -> None:
    assert not app.config["SMTP_URL"]
    address = f"outbox-{uuid.uuid4().hex[:10]}@example.org"
    create_user(db, f"outbox_{uuid.uuid4().hex[:8]}", address, PASSWORD)
    db.commit()
    outbox = Path(app.instance_path) / "outbox"
    # create_app can't be pointed elsewhere, so this is the project's instance/outbox/: find
    # the file this test causes (other tests may write there too) and delete it afterwards.
    mine: list[Path] = []
    try:
        with caplog.at_level("WARNING", logger="forum.platform.mail"):
            response = request_reset(fresh(app), address)
        mine = [path for path in outbox.glob("*.eml") if address.encode() in path.read_bytes()]

        assert response.status_code == 302
        assert len(mine) == 1
        message = message_from_bytes(mine[0].read_bytes(), policy=policy.default)
        assert isinstance(message, EmailMessage)
        assert message["To"] == address
        assert link_in(message, "reset")
        assert any(address in record.getMessage() for record in caplog.records)
    finally:
        for path in mine:
            path.unlink(missing_ok=True)


# ------------------------------------------------------------------------------ account deletion


def test_a_member_deletes_their_account(app: Flask, make: Factory, db: Session) -> None:
    fan = make.user("leaving_fan")
    fan_id, email = fan.id, fan.email
    thread = make.thread(author=fan, title="My last thread")
    make.reply(thread, fan, "My last words")
    url = f"/t/{thread.id}/{thread.slug}"
    phone = fresh(app)
    phone.login(fan.username, remember=True)
    remember = phone.client.get_cookie("remember_token")
    assert remember is not None
    laptop = fresh(app)
    laptop.login(fan.username)

    wrong = laptop.post("/settings/delete", {"del-password": "not my password"}, page="/settings")
    assert wrong.status_code == 200 and "That isn't your password." in shown(wrong).errors
    deleted = laptop.post("/settings/delete", {"del-password": PASSWORD}, page="/settings")

    assert deleted.status_code == 302
    db.expunge_all()
    assert db.get(User, fan_id) is None
    assert (
        db.scalar(
            select(func.count()).select_from(AuthSession).where(AuthSession.user_id == fan_id)
        )
        == 0
    )
    page = fresh(app).get(url)
    text = shown(page).text
    assert page.status_code == 200
    assert "My last words" in text and text.count("deleted user") >= 2
    assert "leaving_fan" not in page.get_data(as_text=True)
    assert fresh(app).get("/u/leaving_fan").status_code == 404
    assert who(laptop) is None and who(phone) is None
    replay = app.test_client()
    replay.set_cookie("remember_token", remember.value)
    assert who(Browserish(replay)) is None
    # The address (and the name) are free again.
    again = fresh(app)
    sign_up(again, "leaving_fan", email)
    assert who(again) == "leaving_fan"


def test_an_admin_deletes_an_account(app: Flask, make: Factory, db: Session) -> None:
    admin = make.user("deleting_admin", role=Role.ADMIN)
    spammer = make.user("spammer_sam")
    spammer_id, email = spammer.id, spammer.email
    thread = make.thread(author=spammer, title="Spam thread")
    spammer_device = fresh(app)
    spammer_device.login(spammer.username, remember=True)
    remember = spammer_device.client.get_cookie("remember_token")
    assert remember is not None
    client = fresh(app)
    client.login(admin.username)

    themselves = client.post(
        f"/admin/users/{admin.username}/delete", {"reason": "oops"}, page="/settings"
    )
    response = client.post("/admin/users/spammer_sam/delete", {"reason": "spam"}, page="/settings")

    assert themselves.status_code == 403, "an admin deletes their own account in settings"
    assert response.status_code == 302
    db.expunge_all()
    assert db.get(User, spammer_id) is None
    assert fresh(app).get("/u/spammer_sam").status_code == 404
    text = shown(fresh(app).get(f"/t/{thread.id}/{thread.slug}")).text
    assert "deleted user" in text and "spammer_sam" not in text
    assert who(spammer_device) is None
    replay = app.test_client()
    replay.set_cookie("remember_token", remember.value)
    assert who(Browserish(replay)) is None
    assert "delete account" in shown(fresh(app).get("/mod/log")).text
    sign_up(fresh(app), "spammer_sam", email)  # the name and address are free again


# ------------------------------------------------------------------------------ mail is a job


def landing(client: Browserish, response: TestResponse) -> tuple[int, str | None, str]:
    """What a visitor gets: the status, where it sends them and the page they land on."""
    location = response.headers.get("Location")
    page = client.get(location).get_data(as_text=True) if location else ""
    return response.status_code, location, without_token(page)


def test_reset_answers_alike_with_smtp_down_and_the_mail_comes_when_it_is_back(
    app: Flask, tmp_path: Path, smtp_switch: SmtpServer, make: Factory
) -> None:
    huey = queue_on_disk(app, tmp_path)
    fan = make.user("smtp_down_fan")

    answers = {}
    for email in (fan.email, "nobody.here@example.org"):
        client = fresh(app)
        answers[email] = landing(client, request_reset(client, email))
    smtp_switch.up()
    client = fresh(app)
    answer_with_smtp_up = landing(client, request_reset(client, "nobody.here@example.org"))
    smtp_switch.down()

    assert answers[fan.email] == answers["nobody.here@example.org"] == answer_with_smtp_up
    assert answers[fan.email][:2] == (302, "/login")
    run_queue(huey)  # the look-ups, then the one mail: SMTP is still down, so it waits
    assert smtp_switch.inbox.messages == []
    assert [task.name for task in huey.scheduled()] == ["deliver"]
    smtp_switch.up()
    run_queue(huey, later=timedelta(minutes=5))
    link = link_in(only(smtp_switch.inbox.to(fan.email)), "reset")
    assert fresh(app).get(link).status_code == 200


def test_a_hung_smtp_server_does_not_hold_the_request(
    app: Flask, tmp_path: Path, make: Factory
) -> None:
    queue_on_disk(app, tmp_path)
    fan = make.user("hung_smtp_fan")
    with socket.socket() as hung:  # accepts connections, never says hello
        hung.bind(("127.0.0.1", 0))
        hung.listen(8)
        app.config.update(SMTP_URL=f"smtp://127.0.0.1:{hung.getsockname()[1]}", SMTP_TIMEOUT=60)
        client = fresh(app)
        token = client.token("/reset")
        started = time.monotonic()
        response = client.client.post("/reset", data={"csrf_token": token, "email": fan.email})
        elapsed = time.monotonic() - started

    assert response.status_code == 302
    # Talking to this server would take the whole SMTP timeout; a generous bound below it.
    assert elapsed < 30


def test_registration_with_smtp_down_mails_the_link_when_it_is_back(
    app: Flask, tmp_path: Path, smtp_switch: SmtpServer, db: Session
) -> None:
    app.config["REQUIRE_EMAIL_VERIFICATION"] = True
    huey = queue_on_disk(app, tmp_path)
    client = fresh(app)

    response = sign_up(client, "down_signup_fan", "down.signup@example.org")

    assert response.headers["Location"] == "/"
    assert "Check your email" in shown(client.get("/")).text
    assert who(client) is None and user_named(db, "down_signup_fan") is None
    run_queue(huey)
    smtp_switch.up()
    run_queue(huey, later=timedelta(minutes=5))
    link = link_in(only(smtp_switch.inbox.to("down.signup@example.org")), "register")
    assert client.get(link).status_code == 302
    assert who(client) == "down_signup_fan"
    assert is_verified(db, "down_signup_fan")


def test_a_resend_answers_alike_with_smtp_up_and_down(
    app: Flask, tmp_path: Path, smtp_switch: SmtpServer, make: Factory, db: Session
) -> None:
    app.config["REQUIRE_EMAIL_VERIFICATION"] = True
    huey = queue_on_disk(app, tmp_path)
    client = unconfirmed_member(app, make, db, "resend_down_fan")

    down = landing(client, client.post("/verify/resend", {}, page="/settings"))
    smtp_switch.up()
    up = landing(client, client.post("/verify/resend", {}, page="/settings"))

    assert down == up
    assert down[:2] == (302, "/")
    assert "We sent a new confirmation link" in read(down[2]).text
    run_queue(huey)
    assert len(smtp_switch.inbox.to("resend_down_fan@example.org")) == 2


def cookie_names(response: TestResponse) -> list[str]:
    return sorted(header.split("=", 1)[0] for header in response.headers.getlist("Set-Cookie"))


def test_signing_up_with_a_taken_email_answers_alike_and_tells_the_owner(
    app: Flask, tmp_path: Path, verifying: Inbox, make: Factory, db: Session
) -> None:
    owner = make.user("owner_olive")
    huey = queue_on_disk(app, tmp_path)
    users, sessions = count_users(db), count_sessions(db)
    answers, queued = {}, {}
    clients = {"taken": fresh(app), "new": fresh(app)}
    for case, username, email in (
        ("taken", "olive_again", owner.email.upper()),
        ("new", "olive_newer", "olive.newer@example.org"),
    ):
        client = clients[case]
        response = sign_up(client, username, email)
        queued[case] = [task.name for task in huey.pending()]
        run_queue(huey)
        answers[case] = (
            response.status_code,
            response.headers.get("Location"),
            response.get_data(),
            cookie_names(response),
            *landing(client, response),
        )

    assert answers["taken"] == answers["new"]
    assert "Check your email: click the link we sent" in read(answers["new"][-1]).text
    # The same work queued for both: the address is looked up by the job, not the request.
    assert queued["taken"] == queued["new"] == ["mail_signup_link"]
    assert (count_users(db), count_sessions(db)) == (users, sessions)
    assert who(clients["taken"]) is None and who(clients["new"]) is None
    assert (
        fresh(app).post("/login", {"username": "olive_again", "password": PASSWORD}).status_code
        == 200
    )
    notice = only(verifying.to(owner.email))
    assert "tried to sign up" in notice["Subject"]
    assert owner.username in notice.get_content()
    assert "/register/" not in notice.get_content()
    assert link_in(only(verifying.to("olive.newer@example.org")), "register")
    link = link_in(notice, "reset")
    reset = fresh(app)
    assert (
        reset.post(
            link, {"new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD}, page=link
        ).status_code
        == 302
    )
    assert who(reset) == owner.username


def test_without_verification_a_sign_up_makes_the_account_and_logs_in(
    app: Flask, db: Session
) -> None:
    app.config["REQUIRE_EMAIL_VERIFICATION"] = False
    client = fresh(app)

    sign_up(client, "dev_fan", "dev.fan@example.org")

    assert "Welcome to Showboard, dev_fan" in shown(client.get("/")).text
    assert who(client) == "dev_fan"
    assert is_verified(db, "dev_fan")


def test_an_email_change_ends_other_sessions_and_old_reset_links(
    app: Flask, inbox: Inbox, make: Factory, db: Session
) -> None:
    fan = make.user("moving_house_fan")
    request_reset(fresh(app), fan.email)
    old_link = link_in(only(inbox.to(fan.email)), "reset")
    phone, laptop = fresh(app), fresh(app)
    phone.login(fan.username, remember=True)
    laptop.login(fan.username)

    changed = laptop.post(
        "/settings/email",
        {"em-email": "new.home@example.org", "em-current_password": PASSWORD},
        page="/settings",
    )

    assert changed.status_code == 302
    assert who(laptop) == fan.username
    assert who(phone) is None
    assert (
        db.scalar(
            select(func.count()).select_from(AuthSession).where(AuthSession.user_id == fan.id)
        )
        == 1
    )
    stale = fresh(app).get(old_link)
    assert stale.status_code == 400
    assert "That link doesn't work" in shown(stale).text
    request_reset(fresh(app), "new.home@example.org")
    assert (
        fresh(app).get(link_in(only(inbox.to("new.home@example.org")), "reset")).status_code == 200
    )
