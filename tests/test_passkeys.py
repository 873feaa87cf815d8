"""Passkeys over HTTP (forum/accounts/passkeys.py, forum/views/signin.py), answered by a software
authenticator (tests/webauthn_soft.py) and verified by the real `webauthn` library."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from forum.models import AuthSession, Passkey, User
from tests.conftest import PASSWORD, Browserish, Factory
from tests.webauthn_soft import SoftPasskey

PUBLIC_URL = "https://fans.example.org"


@pytest.fixture(autouse=True)
def _public_address(app: Flask) -> None:
    app.config["PUBLIC_URL"] = PUBLIC_URL


def call(client: Browserish, url: str, body: Any = None, page: str = "/login") -> TestResponse:
    return client.client.post(
        url,
        data=json.dumps(body or {}),
        content_type="application/json",
        headers={"X-CSRFToken": client.token(page)},
    )


def register(client: Browserish, key: SoftPasskey, name: str = "Laptop") -> TestResponse:
    page = "/settings/security"
    options = call(client, "/settings/security/passkeys/options", page=page).get_json()
    return call(client, f"/settings/security/passkeys?name={name}", key.create(options), page=page)


def registered(client: Browserish) -> SoftPasskey:
    key = SoftPasskey(PUBLIC_URL)
    assert register(client, key).status_code == 200
    return key


def passkey_sign_in(client: Browserish, key: SoftPasskey, **answer: Any) -> TestResponse:
    options = call(client, "/login/passkey/options").get_json()
    return call(client, "/login/passkey?next=/search", key.get(options, **answer))


def sessions_of(db: Session, user: User) -> int:
    return (
        db.scalar(
            select(func.count()).select_from(AuthSession).where(AuthSession.user_id == user.id)
        )
        or 0
    )


def test_registering_stores_the_public_key_and_lists_it(
    member_client: Browserish, member: User, db: Session
) -> None:
    response = register(member_client, SoftPasskey(PUBLIC_URL), "Kitchen tablet")
    assert response.status_code == 200
    assert response.get_json()["redirect"] == "/settings/security"
    stored = db.scalars(select(Passkey).where(Passkey.user_id == member.id)).one()
    assert stored.name == "Kitchen tablet" and stored.public_key
    assert "Kitchen tablet" in member_client.get("/settings/security").get_data(as_text=True)


def test_registering_for_another_site_is_refused(
    member_client: Browserish, member: User, db: Session
) -> None:
    page = "/settings/security"
    options = call(member_client, "/settings/security/passkeys/options", page=page).get_json()
    answer = SoftPasskey(PUBLIC_URL).create(options, origin="https://fans.example.org.evil.io")
    refused = call(member_client, "/settings/security/passkeys", answer, page=page)
    assert refused.status_code == 400 and "for this site" in refused.get_json()["error"]
    assert db.scalar(select(func.count()).select_from(Passkey)) == 0


def test_signing_in_with_a_passkey_alone(
    app: Flask, member_client: Browserish, member: User, db: Session
) -> None:
    key = registered(member_client)
    member_client.logout()
    fresh = Browserish(app.test_client())
    response = passkey_sign_in(fresh, key)
    assert response.status_code == 200 and response.get_json()["redirect"] == "/search"
    assert fresh.get("/settings").status_code == 200
    db.expire_all()
    assert db.scalars(select(Passkey)).one().sign_count == key.sign_count


def test_a_replayed_assertion_is_refused(app: Flask, member_client: Browserish) -> None:
    key = registered(member_client)
    thief = Browserish(app.test_client())
    options = call(thief, "/login/passkey/options").get_json()
    answer = key.get(options)
    assert call(thief, "/login/passkey", answer).status_code == 200
    thief.logout()
    again = call(thief, "/login/passkey", answer)
    assert again.status_code == 400 and "already used" in again.get_json()["error"]


def test_an_assertion_with_an_old_sign_count_is_refused(
    app: Flask, member_client: Browserish
) -> None:
    key = registered(member_client)
    client = Browserish(app.test_client())
    assert passkey_sign_in(client, key).status_code == 200
    client.logout()
    # A fresh challenge, but the counter did not move: a cloned authenticator.
    cloned = passkey_sign_in(client, key, count=False)
    assert cloned.status_code == 400
    assert client.get("/settings").status_code == 302


def test_an_assertion_for_another_origin_is_refused(app: Flask, member_client: Browserish) -> None:
    key = registered(member_client)
    client = Browserish(app.test_client())
    phished = passkey_sign_in(client, key, origin="https://fans-example.org")
    assert phished.status_code == 400 and "for this site" in phished.get_json()["error"]
    assert client.get("/settings").status_code == 302


def test_a_challenge_belongs_to_the_browser_that_asked(
    app: Flask, member_client: Browserish
) -> None:
    key = registered(member_client)
    asker, other = Browserish(app.test_client()), Browserish(app.test_client())
    options = call(asker, "/login/passkey/options").get_json()
    answer = key.get(options)
    stolen = call(other, "/login/passkey", answer)
    assert stolen.status_code == 400 and other.get("/settings").status_code == 302
    # The asker can still use its own challenge.
    assert call(asker, "/login/passkey", answer).status_code == 200


def test_a_passkey_as_the_second_factor(app: Flask, make: Factory, db: Session) -> None:
    owner = make.user()
    owner_client = Browserish(app.test_client())
    owner_client.login(owner.username)
    key = registered(owner_client)
    owner_client.logout()

    client = Browserish(app.test_client())
    held = client.post("/login", {"username": owner.username, "password": PASSWORD})
    assert held.headers["Location"] == "/login/second-factor"
    assert sessions_of(db, owner) == 0
    page = "/login/second-factor"
    assert "Use a passkey" in client.get(page).get_data(as_text=True)
    options = call(client, "/login/second-factor/passkey/options", page=page).get_json()
    assert [c["id"] for c in options["allowCredentials"]] == [key.get(options)["id"]]
    done = call(client, "/login/second-factor/passkey", key.get(options), page=page)
    assert done.status_code == 200 and client.get("/settings").status_code == 200


def test_someone_elses_passkey_is_no_second_factor(app: Flask, make: Factory, db: Session) -> None:
    victim, attacker = make.user(), make.user()
    for user in (victim, attacker):
        c = Browserish(app.test_client())
        c.login(user.username)
        key = registered(c)  # the attacker's key is the one left in `key`
    client = Browserish(app.test_client())
    client.post("/login", {"username": victim.username, "password": PASSWORD})
    page = "/login/second-factor"
    options = call(client, "/login/second-factor/passkey/options", page=page).get_json()
    refused = call(client, "/login/second-factor/passkey", key.get(options), page=page)
    assert refused.status_code == 400 and client.get("/settings").status_code == 302
    assert sessions_of(db, victim) == 1  # only the victim's own, from registering


def test_passkeys_are_off_on_an_ip_address(app: Flask, member_client: Browserish) -> None:
    app.config["PUBLIC_URL"] = "http://127.0.0.1:5000"
    refused = call(member_client, "/login/passkey/options")
    assert refused.status_code == 400 and "host name" in refused.get_json()["error"]
    assert "Passkeys are off" in member_client.get("/settings/security").get_data(as_text=True)


def test_removing_a_passkey(
    app: Flask, member_client: Browserish, member: User, make: Factory, db: Session
) -> None:
    registered(member_client)
    passkey_id = db.scalars(select(Passkey.id)).one()
    other = make.user()
    theirs = Browserish(app.test_client())
    theirs.login(other.username)
    registered(theirs)
    their_id = db.scalars(select(Passkey.id).where(Passkey.user_id == other.id)).one()
    member_client.post(
        "/settings/security/passkeys/remove", {"passkey": their_id}, page="/settings/security"
    )
    member_client.post(
        "/settings/security/passkeys/remove", {"passkey": passkey_id}, page="/settings/security"
    )
    db.expire_all()
    assert list(db.scalars(select(Passkey.user_id))) == [other.id]


def test_the_security_page_runs_the_same_statements_for_one_passkey_or_many(
    member_client: Browserish, sql: Any
) -> None:
    registered(member_client)
    sql.clear()
    member_client.client.get("/settings/security")
    one = len(sql)
    for _ in range(4):
        registered(member_client)
    sql.clear()
    member_client.client.get("/settings/security")
    assert len(sql) == one
