"""What the rate limits promise about where they are counted (forum/platform/limits.py).

Without Redis each worker process counts on its own: the limits hold per process, and a
production start without FORUM_REDIS_URL says in the log that they are N times as generous
with N workers. With Redis they hold across workers (tests/security/test_bruteforce.py runs
every limit on two apps sharing one Redis).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy.engine import Connection
from sqlalchemy.orm import sessionmaker

from forum import create_app
from tests.conftest import FAST_HASHING, Browserish

PER_WORKER = "each worker process keeps its own rate-limit counts"


def production_config(tmp_path: Path, **settings: Any) -> dict[str, Any]:
    return {
        "ENV": "production",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'prod.sqlite3'}",
        "SECRET_KEY": "a production secret",
        "PUBLIC_URL": "https://fans.example.org",
        "SMTP_URL": "smtp://127.0.0.1:2525",
        "JOBS_PATH": str(tmp_path / "jobs.sqlite3"),
        **settings,
    }


def per_worker_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.levelno >= logging.WARNING and PER_WORKER in r.getMessage()
    ]


def test_production_without_redis_warns_that_limits_are_per_worker(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        app = create_app(production_config(tmp_path))

    warnings = per_worker_warnings(caplog)
    assert len(warnings) == 1
    assert "Production needs Redis" in warnings[0]
    app.extensions["forum.engine"].dispose()


def test_production_with_redis_does_not(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        app = create_app(production_config(tmp_path, REDIS_URL="redis://127.0.0.1:1/0"))

    assert per_worker_warnings(caplog) == []
    app.extensions["forum.engine"].dispose()


def test_development_does_not(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        app = create_app(
            {"DATABASE_URL": f"sqlite:///{tmp_path / 'dev.sqlite3'}", "SECRET_KEY": "dev"}
        )

    assert per_worker_warnings(caplog) == []
    app.extensions["forum.engine"].dispose()


@pytest.fixture
def two_workers(database_url: str, connection: Connection) -> list[Flask]:
    apps = []
    for _ in range(2):
        app = create_app(
            {
                "DATABASE_URL": database_url,
                "SECRET_KEY": "test",
                "TESTING": True,
                "RATE_LIMITS": "on",
                "LIMIT_LOGIN_ACCOUNT": "2 per minute",
                "LIMIT_LOGIN_IP": "1000 per minute",
                **FAST_HASHING,
            }
        )
        app.extensions["forum.sessionmaker"] = sessionmaker(
            bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
        )
        apps.append(app)
    return apps


def test_without_redis_each_worker_counts_on_its_own(two_workers: list[Flask]) -> None:
    """This is the documented limitation, pinned so a change to it is noticed: two workers
    without Redis let twice the limit through."""

    def guess(app: Flask) -> int:
        return (
            Browserish(app.test_client())
            .post("/login", {"username": "someone_else", "password": "guess"})
            .status_code
        )

    first, second = two_workers
    answers = [guess(first), guess(first), guess(second), guess(second), guess(first)]

    assert answers == [200, 200, 200, 200, 429]
