"""Fixtures for the security tests: one shared app, the small forum of targets.py built on the
role fixtures of tests/conftest.py, and apps with the rate limits switched on (in memory or on
Redis). Helpers the tests import live in plain modules (targets.py, rate_limited.py,
tests/html_scan.py), never here.

Everything runs on the test's rolled-back transaction (see tests/conftest.py); apps built here
get the same sessionmaker trick as the `app` fixture there.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from flask import Flask
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, sessionmaker

from forum import create_app
from forum.accounts.membership import create_user
from forum.conversation import notifications
from forum.discussion import posting
from forum.models import Board, NotificationKind, User
from forum.platform import settings
from forum.platform.pagecache import LocalStore
from forum.staff import moderation
from tests.conftest import FAST_HASHING
from tests.security.rate_limited import REDIS_URL, STORES, AppFactory, Cluster, ClusterFactory
from tests.security.targets import SECRET, Forum, board_objects

# ------------------------------------------------------------------------------ one app


@pytest.fixture(scope="session")
def shared_app(database_url: str) -> Iterator[Flask]:
    app = create_app(
        {
            "DATABASE_URL": database_url,
            "SECRET_KEY": "test",
            "TESTING": True,
            "RATE_LIMITS": "off",
            **FAST_HASHING,
        }
    )
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


# ------------------------------------------------------------------------------ a small forum


@pytest.fixture
def forum(
    db: Session,
    password_hash: str,
    admin: User,
    board_moderator: User,
    moderated_board: Board,
    hostile_member: User,
) -> Forum:
    """The people are the role fixtures (admin_ada, mod_morgan of Partner Track, mallory the
    hostile member) plus victor, whose content she goes after; everything else is built with
    the domain functions and committed once (this fixture runs for most tests in this folder,
    so it is kept cheap)."""
    victor = create_user(db, "victor", "victor@example.org", password_hash=password_hash)
    severance = Board(slug="severance", name="Severance")
    db.add(severance)
    db.flush()
    pt = board_objects(db, admin, victor, hostile_member, moderated_board)
    sv = board_objects(db, admin, victor, hostile_member, severance)
    hidden_thread = posting.create_thread(
        db, moderated_board, victor, "A thread about to vanish", f"Hidden thread body: {SECRET}"
    )
    moderation.set_thread_hidden(db, admin, hidden_thread, True, "spoilers")
    told = notifications.notify(
        db,
        recipient_id=admin.id,
        kind=NotificationKind.MENTION,
        thread_id=pt.thread_id,
        post_id=pt.post_id,
        actor_id=victor.id,
    )
    db.commit()
    return Forum(
        admin=admin,
        moderator=board_moderator,
        mallory=hostile_member,
        victor=victor,
        partner_track=replace(pt, destination_board_id=sv.board_id, notification_id=told or 0),
        severance=replace(sv, destination_board_id=pt.board_id),
        hidden_thread_id=hidden_thread.id,
        hidden_thread_post_id=hidden_thread.last_post_id or 0,
    )


# ------------------------------------------------------------------------------ limited apps


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
            "DATABASE_URL": database_url,
            "SECRET_KEY": "test",
            "TESTING": True,
            **FAST_HASHING,
            **settings,
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


@pytest.fixture(params=STORES)
def cluster_factory(request: pytest.FixtureRequest, make_app: AppFactory) -> ClusterFactory:
    def build(**settings: Any) -> Cluster:
        if request.param == "redis":
            return Cluster([make_app(redis=True, **settings), make_app(redis=True, **settings)])
        return Cluster([make_app(**settings)])

    return build
