"""Fixtures for the security tests: one shared app, a small forum with people in every role
and objects of every type, every state-changing route with a working form, apps with the rate
limits switched on (in memory or on Redis), and database snapshots.

Everything runs on the test's rolled-back transaction (see tests/conftest.py); apps built here
get the same sessionmaker trick as the `app` fixture there.
"""

from __future__ import annotations

import hashlib
import os
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, sessionmaker

from forum import create_app
from forum.accounts.membership import create_user
from forum.db import Base
from forum.discussion import posting
from forum.models import Board, BoardModerator, Report, ReportReason, Role, User
from forum.platform import settings
from forum.platform.pagecache import LocalStore
from forum.staff import moderation
from tests.conftest import FAST_HASHING, PASSWORD, Browserish
from tests.security.html_scan import read

# ------------------------------------------------------------------------------ one app


@pytest.fixture(scope="session")
def shared_app(database_url: str) -> Iterator[Flask]:
    app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": "test", "TESTING": True,
                      "RATE_LIMITS": "off", **FAST_HASHING})
    yield app
    app.extensions["forum.engine"].dispose()


@pytest.fixture
def app(shared_app: Flask, connection: Connection) -> Iterator[Flask]:
    """Overrides tests/conftest.py's `app` for this folder: building an app costs about as
    much as a whole test here (Werkzeug compiles every URL rule), so one app per worker is
    rebound to each test's rolled-back transaction, with its caches emptied and its config
    restored afterwards. Settings under test get their own app from `make_app`."""
    config = dict(shared_app.config)
    shared_app.extensions["forum.sessionmaker"] = sessionmaker(
        bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
    )
    # Both caches are keyed by data that repeats once a test's transaction is rolled back.
    shared_app.extensions["forum.pagecache"] = LocalStore()
    with shared_app.app_context():
        settings.forget_cached()
    yield shared_app
    shared_app.config.clear()
    shared_app.config.update(config)


# ------------------------------------------------------------------------------ forms


def csrf_token(page: str) -> str:
    """The CSRF token a page's forms carry (read with the HTML parser)."""
    token = read(page).values.get("csrf_token")
    assert token, "the page has no csrf_token field"
    return token


def token_for(client: Browserish, page: str) -> str:
    return csrf_token(client.get(page).get_data(as_text=True))


# ------------------------------------------------------------------------------ snapshots


def snapshot(db: Session) -> dict[str, tuple[int, str]]:
    """Every table's row count and a checksum of all its rows, read on the test's
    transaction: any insert, update or delete shows up as a difference."""
    db.expire_all()
    found: dict[str, tuple[int, str]] = {}
    for table in Base.metadata.sorted_tables:
        rows = db.execute(select(table).order_by(*table.primary_key.columns)).all()
        digest = hashlib.sha256(repr([tuple(row) for row in rows]).encode()).hexdigest()[:16]
        found[table.name] = (len(rows), digest)
    return found


def changed_tables(before: dict[str, tuple[int, str]],
                   after: dict[str, tuple[int, str]]) -> list[str]:
    return sorted(name for name in before if before[name] != after.get(name))


# ------------------------------------------------------------------------------ a small forum

SECRET = "the secret finale twist"


@dataclass(frozen=True)
class Aim:
    """The objects of one board that a request is aimed at."""

    board_slug: str
    board_id: int
    thread_id: int  # victor's thread
    thread_slug: str
    post_id: int  # victor's visible reply in it
    reported_post_id: int  # mallory's post with victor's open report on it
    hidden_post_id: int  # victor's reply, hidden by the admin, holding SECRET
    destination_board_id: int  # the other board, for moves


@dataclass(frozen=True)
class Forum:
    """People in every role and objects of every type, on two boards.

    mallory is the hostile member; victor owns what she goes after. The moderator morgan
    moderates Partner Track only. Each board has victor's thread with a visible reply and a
    reply hidden by the admin, and a post of mallory's that victor reported. Partner Track also
    has a thread hidden by the admin; both hidden things hold SECRET in their text.
    """

    admin: User
    moderator: User
    mallory: User
    victor: User
    partner_track: Aim
    severance: Aim
    hidden_thread_id: int
    hidden_thread_post_id: int  # its opening post

    @property
    def main(self) -> Aim:
        return self.partner_track


def _board_objects(db: Session, admin: User, victor: User, mallory: User, slug: str,
                   name: str) -> tuple[Aim, Board]:
    board = Board(slug=slug, name=name)
    db.add(board)
    db.flush()
    thread = posting.create_thread(db, board, victor, f"{name}: season 2?", "Opening post")
    reply = posting.add_post(db, thread, victor, f"Victor's reply on {name}")
    hidden = posting.add_post(db, thread, victor, f"Victor's hidden reply: {SECRET}")
    moderation.set_post_hidden(db, admin, hidden, True, "spoilers")
    target = posting.add_post(db, thread, mallory, f"Mallory's reply on {name}")
    db.add(Report(post_id=target.id, reporter_id=victor.id, reason=ReportReason.SPAM.value,
                  details=f"Victor's private report details on {name}"))
    db.flush()
    return Aim(board.slug, board.id, thread.id, thread.slug, reply.id, target.id, hidden.id,
               0), board


@pytest.fixture
def forum(db: Session, password_hash: str) -> Forum:
    """Built with the domain functions and committed once (this fixture runs for most tests
    in this folder, so it is kept cheap)."""

    def user(name: str, role: Role = Role.MEMBER) -> User:
        return create_user(db, name, f"{name}@example.org", role=role, password_hash=password_hash)

    admin, moderator = user("admin_ada", Role.ADMIN), user("mod_morgan", Role.MODERATOR)
    mallory, victor = user("mallory"), user("victor")
    pt, pt_board = _board_objects(db, admin, victor, mallory, "partner-track", "Partner Track")
    sv, _board = _board_objects(db, admin, victor, mallory, "severance", "Severance")
    db.add(BoardModerator(user_id=moderator.id, board_id=pt_board.id))
    hidden_thread = posting.create_thread(db, pt_board, victor, "A thread about to vanish",
                                          f"Hidden thread body: {SECRET}")
    moderation.set_thread_hidden(db, admin, hidden_thread, True, "spoilers")
    db.commit()
    return Forum(admin=admin, moderator=moderator, mallory=mallory, victor=victor,
                 partner_track=replace(pt, destination_board_id=sv.board_id),
                 severance=replace(sv, destination_board_id=pt.board_id),
                 hidden_thread_id=hidden_thread.id,
                 hidden_thread_post_id=hidden_thread.last_post_id or 0)


def logged_in(app: Flask, username: str) -> Browserish:
    client = Browserish(app.test_client())
    client.login(username)
    return client


# ------------------------------------------------------------------------------ every route

# For each state-changing route: a form that would succeed for an admin with a valid token.
# A route missing here fails the CSRF and access-control tests, so none slips through.
NEW_PASSWORD = "a forged new passphrase"
FORMS: dict[str, Callable[[Aim], dict[str, Any]]] = {
    "/admin/boards/<slug>/archive": lambda a: {},
    "/admin/boards/<slug>/edit": lambda a: {"slug": a.board_slug, "name": "Renamed by forgery",
                                            "status": "ended"},
    "/admin/boards/<slug>/move": lambda a: {"direction": "down"},
    "/admin/boards/<slug>/unarchive": lambda a: {},
    "/admin/boards/new": lambda a: {"slug": "forged-board", "name": "Forged board"},
    "/admin/posts/<int:post_id>/purge": lambda a: {"reason": "forged"},
    "/admin/settings": lambda a: {"site_name": "Forged", "tagline": "Forged",
                                  "registration": "closed", "rules_markdown": "Forged"},
    "/admin/users/<username>/delete": lambda a: {"reason": "forged"},
    "/admin/users/<username>/role": lambda a: {"role": "admin"},
    "/b/<slug>/new": lambda a: {"title": "Forged thread", "body": "Forged body"},
    "/login": lambda a: {"username": "victor", "password": PASSWORD},
    "/login/passkey": lambda a: {},
    "/login/passkey/options": lambda a: {},
    "/login/second-factor": lambda a: {"code": "000000"},
    "/login/second-factor/passkey": lambda a: {},
    "/login/second-factor/passkey/options": lambda a: {},
    "/logout": lambda a: {},
    "/mod/posts/<int:post_id>/hide": lambda a: {"reason": "forged"},
    "/mod/posts/<int:post_id>/restore": lambda a: {"reason": "forged"},
    "/mod/reports/<int:post_id>": lambda a: {"action": "resolve", "resolution": "forged"},
    "/mod/threads/<int:thread_id>": lambda a: {"action": "lock", "reason": "forged"},
    "/mod/threads/<int:thread_id>/hide": lambda a: {"reason": "forged"},
    "/mod/threads/<int:thread_id>/move": lambda a: {"board": a.destination_board_id},
    "/mod/threads/<int:thread_id>/rename": lambda a: {"title": "Renamed by forgery"},
    "/mod/users/<username>/board-lift": lambda a: {"board": a.board_id, "reason": "forged"},
    "/mod/users/<username>/board-suspend": lambda a: {"board": a.board_id, "duration": "week",
                                                      "reason": "forged"},
    "/mod/users/<username>/lift": lambda a: {"reason": "forged"},
    "/mod/users/<username>/suspend": lambda a: {"duration": "ban", "reason": "forged"},
    "/p/<int:post_id>/delete": lambda a: {},
    "/p/<int:post_id>/edit": lambda a: {"body": "Edited by forgery"},
    "/p/<int:post_id>/report": lambda a: {"reason": "spam", "details": "forged"},
    "/preview": lambda a: {"body": "Forged preview"},
    "/register": lambda a: {"username": "forged_fan", "email": "forged@example.org",
                            "password": PASSWORD, "confirm": PASSWORD},
    "/reset": lambda a: {"email": "victor@example.org"},
    "/reset/<token>": lambda a: {"new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    "/settings/delete": lambda a: {"del-password": PASSWORD},
    "/settings/email": lambda a: {"em-email": "forged@example.org",
                                  "em-current_password": PASSWORD},
    "/settings/password": lambda a: {"pw-current_password": PASSWORD,
                                     "pw-new_password": NEW_PASSWORD,
                                     "pw-confirm": NEW_PASSWORD},
    "/settings/security/passkeys": lambda a: {},
    "/settings/security/passkeys/options": lambda a: {},
    "/settings/security/passkeys/remove": lambda a: {"passkey": "1"},
    "/settings/security/recovery-codes": lambda a: {"pw-password": PASSWORD},
    "/settings/security/totp": lambda a: {"code": "000000"},
    "/settings/security/totp/disable": lambda a: {"pw-password": PASSWORD},
    "/settings/security/totp/start": lambda a: {},
    "/settings/sessions/end": lambda a: {"session": "0" * 16},
    "/settings/sessions/end-others": lambda a: {},
    "/t/<int:thread_id>/reply": lambda a: {"body": "Forged reply"},
    "/verify/resend": lambda a: {},
}

# Which post a <post_id> route is aimed at, when not victor's visible reply.
POST_ID_FOR = {
    "/mod/reports/<int:post_id>": "reported_post_id",
    "/mod/posts/<int:post_id>/restore": "hidden_post_id",
}


def route_url(rule: str, aim: Aim, username: str = "victor", token: str = "") -> str:
    """The rule with real values in its placeholders; an unknown placeholder fails."""
    values = {"slug": aim.board_slug, "thread_id": aim.thread_id,
              "post_id": getattr(aim, POST_ID_FOR.get(rule, "post_id")),
              "username": username, "token": token}

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        assert name in values, f"no test value for <{name}> in {rule}: add one"
        return quote(str(values[name]))

    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", value, rule)


def rules(app: Flask, method: str, prefix: str = "") -> list[str]:
    return sorted({rule.rule for rule in app.url_map.iter_rules()
                   if method in (rule.methods or set()) and rule.rule.startswith(prefix)
                   and rule.endpoint != "static"})


def rules_only_app() -> Flask:
    """An app for reading the URL map at collection time (no database is touched)."""
    return create_app({"DATABASE_URL": "sqlite://", "SECRET_KEY": "rules only",
                       "RATE_LIMITS": "off"})


# ------------------------------------------------------------------------------ limited apps

REDIS_URL = os.environ.get("FORUM_TEST_REDIS_URL", "")
AppFactory = Callable[..., Flask]


@pytest.fixture
def make_app(database_url: str, connection: Connection) -> Iterator[AppFactory]:
    """Build apps with their own settings (rate limits on unless told otherwise) on the test's
    transaction. `redis=True` keeps limits in FORUM_TEST_REDIS_URL under a key prefix unique to
    this test, and deletes exactly those keys afterwards."""
    built: list[Flask] = []
    prefix = f"showboard-test-{uuid.uuid4().hex[:12]}"

    def factory(redis: bool = False, rate_limits: str | None = "on", **settings: Any) -> Flask:
        """`rate_limits=None` leaves the switch to FORUM_RATE_LIMITS in the environment."""
        config: dict[str, Any] = {
            "DATABASE_URL": database_url, "SECRET_KEY": "test", "TESTING": True,
            **FAST_HASHING, **settings,
        }
        if rate_limits is not None:
            config["RATE_LIMITS"] = rate_limits
        if redis:
            config["REDIS_URL"] = REDIS_URL
            config["RATELIMIT_STORAGE_OPTIONS"] = {"key_prefix": prefix}
        app = create_app(config)
        app.extensions["forum.sessionmaker"] = sessionmaker(
            bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
        )
        built.append(app)
        return app

    yield factory
    for app in built:
        limiter = app.extensions["forum.limiter"]
        if app.config.get("REDIS_URL"):
            limiter.storage.reset()  # deletes only keys under this test's prefix
        app.extensions["forum.engine"].dispose()


STORES = [
    pytest.param("memory", id="memory"),
    pytest.param("redis", id="redis", marks=pytest.mark.skipif(
        not REDIS_URL, reason="FORUM_TEST_REDIS_URL is not set")),
]


@dataclass
class Cluster:
    """The app, or with Redis two apps sharing one limit store, as behind a load balancer.
    `pick(n)` alternates between them, so attempts are split across both."""

    apps: list[Flask]

    def pick(self, n: int) -> Flask:
        return self.apps[n % len(self.apps)]


@pytest.fixture(params=STORES)
def cluster_factory(request: pytest.FixtureRequest,
                    make_app: AppFactory) -> Callable[..., Cluster]:
    def build(**settings: Any) -> Cluster:
        if request.param == "redis":
            return Cluster([make_app(redis=True, **settings), make_app(redis=True, **settings)])
        return Cluster([make_app(**settings)])

    return build
