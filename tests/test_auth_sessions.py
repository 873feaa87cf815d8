"""Sessions on the server (forum/accounts/auth.py): idle and absolute lifetimes, remember-me tokens
rotated on use with a grace for requests in flight, the device and last visit recorded at most
every few minutes in a transaction of its own, and the functions behind a "your sessions" page.

Cookies are replayed in fresh clients, the way a thief (or a second tab) would send them."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import event, select, text, update
from sqlalchemy.orm import Session

from forum.accounts.auth import (
    ROTATION_GRACE,
    TOUCH_EVERY,
    end_session_by_id,
    list_sessions,
    start_session,
)
from forum.db import make_engine
from forum.models import AuthSession, User, utcnow
from tests.conftest import (
    Browserish,
    Factory,
    StatementLog,
    committed_app,
    is_postgres,
    replayed,
    who,
)
from tests.html_scan import signed_in_as


def rows(db: Session, user: User) -> list[AuthSession]:
    db.expire_all()
    return list(
        db.scalars(
            select(AuthSession)
            .where(AuthSession.user_id == user.id)
            .order_by(AuthSession.created_at, AuthSession.last_seen_at)
        )
    )


def age_all(db: Session, user: User, **ages: timedelta) -> None:
    """Move the user's sessions back in time: last_seen_at=..., created_at=..., rotated_at=...
    (the last only for rotated ones)."""
    now = utcnow()
    stmt = update(AuthSession).where(AuthSession.user_id == user.id)
    if "rotated_at" in ages:  # only the tokens that were exchanged
        stmt = stmt.where(AuthSession.rotated_at.is_not(None))
    db.execute(stmt.values({column: now - age for column, age in ages.items()}))
    db.commit()


@pytest.fixture
def fan(make: Factory) -> User:
    return make.user("session_sam")


def remembered(app: Flask, user: User) -> tuple[Browserish, str]:
    client = Browserish(app.test_client())
    client.login(user.username, remember=True)
    token = client.cookie("remember_token")
    assert token
    return client, token


# ------------------------------------------------------------------------------ lifetimes


def test_an_idle_session_ends_on_the_server(app: Flask, db: Session, fan: User) -> None:
    client = Browserish(app.test_client())
    client.login(fan.username)
    idle = app.config["SESSION_IDLE_DAYS"]
    assert idle == 30

    age_all(db, fan, last_seen_at=timedelta(days=idle - 1))
    assert who(client) == fan.username  # the control: used within the idle time
    assert rows(db, fan)[0].last_seen_at > utcnow() - timedelta(minutes=1)  # and refreshed

    age_all(db, fan, last_seen_at=timedelta(days=idle, minutes=1))
    assert who(client) is None


def test_a_remember_cookie_ends_after_the_idle_time_too(app: Flask, db: Session, fan: User) -> None:
    _client, token = remembered(app, fan)
    age_all(db, fan, last_seen_at=timedelta(days=31))
    assert who(replayed(app, remember_token=token)) is None


def test_an_active_session_ends_at_the_absolute_lifetime(
    app: Flask, db: Session, fan: User
) -> None:
    client, token = remembered(app, fan)
    age_all(
        db,
        fan,
        created_at=timedelta(days=app.config["SESSION_MAX_DAYS"], minutes=1),
        last_seen_at=timedelta(seconds=1),
    )
    assert who(client) is None
    assert who(replayed(app, remember_token=token)) is None


def test_the_lifetimes_follow_the_configuration(app: Flask, db: Session, fan: User) -> None:
    client = Browserish(app.test_client())
    client.login(fan.username)
    age_all(db, fan, last_seen_at=timedelta(days=3))
    app.config["SESSION_IDLE_DAYS"] = 2
    assert who(client) is None
    app.config["SESSION_IDLE_DAYS"] = 4
    assert who(client) == fan.username


def test_a_new_login_clears_the_members_dead_sessions(app: Flask, db: Session, fan: User) -> None:
    Browserish(app.test_client()).login(fan.username)
    age_all(db, fan, last_seen_at=timedelta(days=40))
    Browserish(app.test_client()).login(fan.username)
    assert len(rows(db, fan)) == 1


# ------------------------------------------------------------------------------ rotation


def test_a_remember_cookie_is_exchanged_for_a_new_one_when_it_restores_a_session(
    app: Flask, db: Session, fan: User
) -> None:
    _laptop, old = remembered(app, fan)
    (signed_in_at,) = [row.created_at for row in rows(db, fan)]

    browser = replayed(app, remember_token=old)
    assert who(browser) == fan.username
    new = browser.cookie("remember_token")
    assert new and new != old

    old_row, new_row = rows(db, fan)
    assert old_row.rotated_at is not None and new_row.rotated_at is None
    assert new_row.created_at == signed_in_at  # the absolute lifetime counts from the login
    assert new_row.remember

    # Past the grace the old cookie is refused; the new one works (and is rotated in turn,
    # which deletes the old row).
    age_all(db, fan, rotated_at=ROTATION_GRACE + timedelta(seconds=1))
    assert who(replayed(app, remember_token=old)) is None
    assert who(replayed(app, remember_token=new)) == fan.username
    assert old_row.token_hash not in {row.token_hash for row in rows(db, fan)}


def test_a_copied_remember_cookie_dies_at_its_owners_next_visit(
    app: Flask, db: Session, fan: User
) -> None:
    _laptop, stolen = remembered(app, fan)
    owner = replayed(app, remember_token=stolen)
    assert who(owner) == fan.username  # the owner comes back: the token is rotated
    age_all(db, fan, rotated_at=ROTATION_GRACE * 2)
    assert who(replayed(app, remember_token=stolen)) is None
    assert who(owner) == fan.username


def test_requests_in_flight_with_the_old_cookie_keep_the_member_signed_in(
    app: Flask, db: Session, fan: User
) -> None:
    """A page's parallel requests all carry the old cookie: one rotates, the others are
    served within the grace and rotate nothing, and whichever session cookie the browser
    keeps last, it stays signed in."""
    _laptop, old = remembered(app, fan)
    first = replayed(app, remember_token=old)
    second = replayed(app, remember_token=old)

    assert who(first) == fan.username
    response = second.get("/search")
    assert signed_in_as(response.get_data(as_text=True)) == fan.username
    assert not any(
        header.startswith("remember_token=") for header in response.headers.getlist("Set-Cookie")
    )
    assert len(rows(db, fan)) == 2  # rotated once, not twice

    # The browser ends up with the first response's remember cookie and the second
    # response's session cookie (which names the old token); the grace runs out.
    late_session = second.cookie("session")
    assert late_session
    first.client.set_cookie("session", late_session)
    age_all(db, fan, rotated_at=ROTATION_GRACE * 2)
    assert who(first) == fan.username


# ------------------------------------------------------------------------------ last seen


def test_the_device_and_last_visit_are_written_at_most_every_few_minutes(
    app: Flask, db: Session, fan: User, sql: StatementLog
) -> None:
    client = Browserish(app.test_client())
    client.login(fan.username)
    agent = "Mozilla/5.0 (X11; Linux x86_64)\x00\u202e" + "x" * 300
    address = {"REMOTE_ADDR": "203.0.113.9"}

    sql.clear()
    assert who(client, headers={"User-Agent": agent}, environ_base=address) == fan.username
    assert who(client, headers={"User-Agent": agent}, environ_base=address) == fan.username
    assert not [s for s in sql.statements if s.lstrip().upper().startswith("UPDATE AUTH")]

    age_all(db, fan, last_seen_at=TOUCH_EVERY + timedelta(seconds=5))
    sql.clear()
    assert who(client, headers={"User-Agent": agent}, environ_base=address) == fan.username
    updates = [s for s in sql.statements if s.lstrip().upper().startswith("UPDATE AUTH")]
    assert len(updates) == 1
    (row,) = rows(db, fan)
    assert row.last_seen_ip == "203.0.113.9"
    assert row.user_agent.startswith("Mozilla/5.0 (X11; Linux x86_64)x")
    assert len(row.user_agent) == 200 and "\x00" not in row.user_agent
    assert row.last_seen_at > utcnow() - timedelta(minutes=1)


# ------------------------------------------------------------------------------ sessions page


def test_members_list_their_sessions_and_end_one_of_them(
    app: Flask, db: Session, fan: User, make: Factory
) -> None:
    phone = Browserish(app.test_client())
    phone.login(fan.username, remember=True)
    with app.test_request_context(
        "/", headers={"User-Agent": "Laptop Firefox"}, environ_base={"REMOTE_ADDR": "198.51.100.7"}
    ):
        start_session(db, fan, remember=False)
        db.commit()
        listed = list_sessions(db, fan)
        assert len(listed) == 2
        (current,) = [each for each in listed if each.is_current]
        (other,) = [each for each in listed if not each.is_current]
        assert (current.user_agent, current.last_seen_ip) == ("Laptop Firefox", "198.51.100.7")
        assert other.remembered and len(other.id) == 16

        intruder = make.user("intruder_ian")
        assert not end_session_by_id(db, intruder, other.id)  # not theirs: nothing happens
        for forged in ("", "zz", other.id[:8], "' OR 1=1 --     ", other.id.upper(), "%" * 16):
            assert not end_session_by_id(db, fan, forged), forged
        db.commit()
    # Asked outside the request context above: a request made inside it would share its
    # application context, and so its `g` and database session, and keep that session's
    # transaction open for the next one.
    assert who(phone) == fan.username

    with app.test_request_context("/"):
        assert end_session_by_id(db, fan, other.id)
        db.commit()
        assert [each.id for each in list_sessions(db, fan)] == [current.id]
    assert who(phone) is None


# ------------------------------------------------------------------------------ locks


@pytest.fixture
def real_database(tmp_path: Path) -> Iterator[tuple[Flask, str]]:
    """An app on a database of its own, committed for real, so another connection can hold
    locks while a request runs."""
    app, url = committed_app(tmp_path, "touchlock", "locked_lou", "lou@example.org")
    yield app, url
    app.extensions["forum.engine"].dispose()


class LockHolder(threading.Thread):
    """Another writer: locks the session rows (and, on SQLite, the whole database), then
    changes something and commits after `seconds` (or when told to)."""

    def __init__(self, url: str, seconds: float) -> None:
        super().__init__(daemon=True)
        self.engine = make_engine(url)
        self.seconds = seconds
        self.locked = threading.Event()
        self.release = threading.Event()

    def run(self) -> None:
        with self.engine.connect() as connection:
            connection.begin()  # on SQLite, BEGIN IMMEDIATE (forum/db.py): the write lock
            if connection.dialect.name != "sqlite":
                connection.execute(text("SELECT token_hash FROM auth_sessions FOR UPDATE"))
            connection.execute(text("UPDATE cache_state SET version = version + 1"))
            self.locked.set()
            self.release.wait(self.seconds)
            connection.commit()
        self.engine.dispose()


def stale_login(app: Flask, url: str) -> tuple[Browserish, str]:
    client = Browserish(app.test_client())
    client.login("locked_lou")
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(update(AuthSession).values(last_seen_at=utcnow() - timedelta(hours=1)))
        before = connection.execute(select(AuthSession.last_seen_at)).scalar_one()
    engine.dispose()
    return client, str(before)


def last_seen(url: str) -> str:
    engine = make_engine(url)
    with engine.connect() as connection:
        found = connection.execute(select(AuthSession.last_seen_at)).scalar_one()
    engine.dispose()
    return str(found)


def test_the_visit_is_recorded_after_waiting_for_another_writer(
    real_database: tuple[Flask, str],
) -> None:
    """The request reads (the user loader) while another writer holds the lock and then
    commits: a deferred SQLite transaction that read first could not write after that."""
    app, url = real_database
    client, before = stale_login(app, url)
    holder = LockHolder(url, seconds=0.5)
    holder.start()
    assert holder.locked.wait(10)

    response = client.get("/search")

    holder.join(10)
    assert response.status_code == 200
    assert signed_in_as(response.get_data(as_text=True)) == "locked_lou"
    assert last_seen(url) != before


def test_a_visit_that_cannot_be_recorded_still_gets_its_page(
    real_database: tuple[Flask, str],
) -> None:
    app, url = real_database
    client, before = stale_login(app, url)
    engine = app.extensions["forum.engine"]
    engine.dispose()  # new connections give up on locks quickly

    @event.listens_for(engine, "connect")
    def impatient(dbapi_connection: object, _record: object) -> None:
        cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
        cursor.execute(
            "PRAGMA busy_timeout=100" if not is_postgres() else "SET lock_timeout = '100ms'"
        )
        cursor.close()

    holder = LockHolder(url, seconds=30)
    holder.start()
    assert holder.locked.wait(10)
    try:
        response = client.get("/search")
    finally:
        holder.release.set()
        holder.join(10)
    assert response.status_code == 200
    assert signed_in_as(response.get_data(as_text=True)) == "locked_lou"
    assert last_seen(url) == before
