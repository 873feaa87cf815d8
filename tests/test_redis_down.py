"""Redis is an accelerator, not a dependency: with FORUM_REDIS_URL set and Redis unreachable,
from the start or from the middle of a run, logins, replies, new threads and page views keep
working (rate limits count in the process, the page cache is skipped), each outage is logged
once, no request waits long on Redis, and when Redis is back everything uses it again.

"Down from the start" points at a port nobody listens on; "goes down and comes back" runs its
own redis-server on a free port, kills it and starts it again.
"""

from __future__ import annotations

import logging
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis
from flask import Flask
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from forum.models import User
from tests.conftest import AppBuilder, Browserish, Factory

NOBODY_LISTENS = "redis://127.0.0.1:1/0"
# The clients time out after 0.3 s and try once; a request that needs Redis twice (limits and
# the page cache) and renders a page stays well under this. Before, 13-17 s.
SLOW = 2.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class RedisServer:
    """A redis-server of this test's own, without persistence, that can be killed and
    started again on the same port."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        binary = shutil.which("redis-server")
        assert binary, "redis-server is needed for this test"
        self.process = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis.from_url(self.url)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                return
            except redis.ConnectionError:
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def make_app(build_app: AppBuilder) -> Callable[..., Flask]:
    """Apps with rate limits on, kept in `redis_url` under a key prefix of their own."""

    def factory(redis_url: str, **settings: Any) -> Flask:
        return build_app(
            RATE_LIMITS="on",
            REDIS_URL=redis_url,
            RATELIMIT_STORAGE_OPTIONS={"key_prefix": f"showboard-test-{uuid.uuid4().hex[:12]}"},
            **settings,
        )

    return factory


def timed(call: Any, *args: Any, **kwargs: Any) -> TestResponse:
    started = time.monotonic()
    response = call(*args, **kwargs)
    waited = time.monotonic() - started
    assert waited < SLOW, f"a request waited {waited:.1f} s on Redis"
    return response


def redis_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Warnings about Redis; not the development outbox's log of a mail whose text happens to
    say "Redis" (a reply notifies the thread's starter by mail)."""
    return [
        record.getMessage()
        for record in caplog.records
        if record.levelno >= logging.WARNING
        and record.name != "forum.platform.mail"
        and ("Redis" in record.getMessage() or "storage unreachable" in record.getMessage())
    ]


def trusted(make: Factory, db: Session, name: str) -> User:
    user = make.user(name)
    user.is_trusted = True
    db.commit()
    return user


def test_everything_works_with_redis_down_from_the_start(
    make_app: Any, make: Factory, db: Session, caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app(NOBODY_LISTENS, LIMIT_LOGIN_ACCOUNT="3 per minute")
    writer = trusted(make, db, "offline_fan")
    thread = make.thread(title="Still open")
    board = make.board("still-open")
    page = f"/t/{thread.id}/{thread.slug}"
    visitor = Browserish(app.test_client())
    member = Browserish(app.test_client())

    with caplog.at_level(logging.WARNING):
        views = [timed(visitor.get, page) for _ in range(3)]
        logged_in = timed(member.login, writer.username)
        replied = timed(member.post, f"/t/{thread.id}/reply", {"body": "Redis is out"}, page=page)
        started = timed(
            member.post,
            f"/b/{board.slug}/new",
            {"title": "Offline thread", "body": "Still works"},
            page=f"/b/{board.slug}/new",
        )
        guesses = [
            timed(
                Browserish(app.test_client()).post,
                "/login",
                {"username": "victim_offline", "password": f"guess {n}"},
            )
            for n in range(4)
        ]

    assert [v.status_code for v in views] == [200, 200, 200]
    assert {v.headers["X-Cache"] for v in views} == {"miss"}, "the page cache is skipped"
    assert logged_in.status_code == 302
    assert replied.status_code == 302
    assert started.status_code == 302
    # The limit still holds, counted in this process.
    assert [g.status_code for g in guesses] == [200, 200, 200, 429]
    assert "Redis is out" in visitor.get(page).get_data(as_text=True)
    warnings = redis_warnings(caplog)
    assert len([w for w in warnings if "storage unreachable" in w]) == 1, warnings
    assert len([w for w in warnings if "page cache" in w]) == 1, warnings
    assert len(warnings) == 2, warnings


def wait_until(condition: Any, what: str, limit: float = 60.0) -> None:
    """Poll (Redis is probed again after pauses of a few seconds) until `condition` holds."""
    deadline = time.monotonic() + limit
    while not condition():
        assert time.monotonic() < deadline, f"{what}: not within {limit:.0f} s"
        time.sleep(0.25)


def test_redis_going_away_and_coming_back(
    make_app: Any,
    make: Factory,
    db: Session,
    redis_server: RedisServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = make_app(redis_server.url, LIMIT_LOGIN_ACCOUNT="100 per minute")
    writer = trusted(make, db, "resilient_fan")
    thread = make.thread(title="Through the outage")
    page = f"/t/{thread.id}/{thread.slug}"
    visitor = Browserish(app.test_client())
    member = Browserish(app.test_client())
    direct = redis.Redis.from_url(redis_server.url)

    assert [visitor.get(page).headers["X-Cache"] for _ in range(2)] == ["miss", "hit"]
    member.login(writer.username)
    assert direct.keys("*"), "limits and pages are in Redis while it is up"

    redis_server.stop()
    with caplog.at_level(logging.WARNING):
        during = [timed(visitor.get, page) for _ in range(3)]
        replied = timed(
            member.post, f"/t/{thread.id}/reply", {"body": "During the outage"}, page=page
        )
        failed = timed(
            Browserish(app.test_client()).post,
            "/login",
            {"username": writer.username, "password": "wrong"},
        )

    assert [r.status_code for r in during] == [200, 200, 200]
    assert replied.status_code == 302
    assert failed.status_code == 200
    assert "During the outage" in visitor.get(page).get_data(as_text=True)
    assert len(redis_warnings(caplog)) == 2, redis_warnings(caplog)

    redis_server.start()  # empty: it kept nothing
    wait_until(lambda: visitor.get(page).headers["X-Cache"] == "hit", "the page cache is back")

    def limits_back_in_redis() -> bool:
        Browserish(app.test_client()).post(
            "/login", {"username": writer.username, "password": "wrong again"}
        )
        return any(b"login" in key for key in direct.keys("*"))

    wait_until(limits_back_in_redis, "rate limits are counted in Redis again")
    replied_after = member.post(f"/t/{thread.id}/reply", {"body": "After the outage"}, page=page)
    assert replied_after.status_code == 302
