"""A setting an admin changes reaches every instance (two apps on one database, as two workers
or two machines), with and without a shared Redis:

- the next anonymous (cacheable) page on the other instance shows it, whatever it had cached;
- with Redis, so does the next member's page; without, within settings.CACHE_SECONDS.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
import redis
from flask import Flask
from sqlalchemy import update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, sessionmaker

from forum import create_app
from forum.models import CacheState, Role
from forum.platform import settings
from tests.conftest import FAST_HASHING, Browserish, Factory

REDIS_URL = os.environ.get("FORUM_TEST_REDIS_URL", "")
STORES = [
    pytest.param("", id="local"),
    pytest.param(
        REDIS_URL,
        id="redis",
        marks=pytest.mark.skipif(not REDIS_URL, reason="FORUM_TEST_REDIS_URL is not set"),
    ),
]


@pytest.fixture(params=STORES)
def instances(
    request: pytest.FixtureRequest, database_url: str, connection: Connection, db: Session
) -> Iterator[tuple[Flask, Flask]]:
    """Two apps on the test's transaction, sharing Redis when the parameter says so. The
    database gets a page-cache namespace of its own for this test, so nothing another test
    left in Redis (its transaction rolled back to the same versions) can be served here."""
    namespace = uuid.uuid4().hex
    db.execute(update(CacheState).values(namespace=namespace))
    db.commit()
    built = []
    for _ in range(2):
        app = create_app(
            {
                "DATABASE_URL": database_url,
                "SECRET_KEY": "test",
                "TESTING": True,
                "RATE_LIMITS": "off",
                "REDIS_URL": request.param or None,
                **FAST_HASHING,
            }
        )
        app.extensions["forum.sessionmaker"] = sessionmaker(
            bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
        )
        built.append(app)
    yield built[0], built[1]
    for app in built:
        app.extensions["forum.engine"].dispose()
    if request.param:
        client = redis.Redis.from_url(request.param)
        for key in client.scan_iter(f"showboard:*{namespace}*"):
            client.delete(key)


def rename_site(admin_app: Flask, admin: Browserish, name: str, registration: str = "open") -> None:
    saved = admin.post(
        "/admin/settings",
        {"site_name": name, "tagline": "", "registration": registration, "rules_markdown": ""},
        page="/admin/settings",
    )
    assert saved.status_code == 302


def test_the_next_anonymous_page_on_another_instance_shows_a_change(
    instances: tuple[Flask, Flask], make: Factory
) -> None:
    one, other = instances
    admin = Browserish(one.test_client())
    admin.login(make.user("site_admin", role=Role.ADMIN).username)
    thread = make.thread(title="Watched closely")
    visitor = Browserish(other.test_client())
    pages = ["/", f"/t/{thread.id}/{thread.slug}"]
    for url in pages:
        visitor.get(url)
        assert visitor.get(url).headers["X-Cache"] == "hit"

    rename_site(one, admin, "Fan Central")

    for url in pages:
        shown = visitor.get(url)
        assert shown.headers["X-Cache"] == "miss"
        assert "Fan Central" in shown.get_data(as_text=True), url
        assert visitor.get(url).headers["X-Cache"] == "hit"


def test_a_page_cached_just_after_a_change_is_not_stale(
    instances: tuple[Flask, Flask], make: Factory
) -> None:
    """The other instance had the settings cached (fresh, seconds old) when the change came:
    the page it renders next must not be stored under the new version with the old name."""
    one, other = instances
    admin = Browserish(one.test_client())
    admin.login(make.user("site_admin", role=Role.ADMIN).username)
    visitor = Browserish(other.test_client())
    with other.app_context():
        assert (
            settings.get_settings(other.extensions["forum.sessionmaker"]()).site_name == "Showboard"
        )

    rename_site(one, admin, "Renamed Board")

    assert "Renamed Board" in visitor.get("/").get_data(as_text=True)
    assert "Renamed Board" in Browserish(one.test_client()).get("/").get_data(as_text=True)


def test_members_pages_on_another_instance_follow_within_the_promised_time(
    request: pytest.FixtureRequest,
    instances: tuple[Flask, Flask],
    make: Factory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    one, other = instances
    admin = Browserish(one.test_client())
    admin.login(make.user("site_admin", role=Role.ADMIN).username)
    member = Browserish(other.test_client())
    member.login(make.user("logged_in_fan").username)
    assert "Showboard" in member.get("/search").get_data(as_text=True)

    rename_site(one, admin, "Closed Club", registration="closed")
    if "redis" not in request.node.callspec.id:
        # Without Redis the other worker's cache may be up to CACHE_SECONDS old.
        real = settings.time.monotonic
        monkeypatch.setattr(settings.time, "monotonic", lambda: real() + settings.CACHE_SECONDS + 1)

    assert "Closed Club" in member.get("/search").get_data(as_text=True)
    assert Browserish(other.test_client()).get("/register").status_code == 403
