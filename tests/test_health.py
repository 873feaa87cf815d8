"""/healthz and /readyz: liveness without the database, readiness that names what is down,
never cached, never rate limited, never a 500."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import create_engine

from forum import create_app
from tests.conftest import FAST_HASHING, Browserish

UNREACHABLE_DATABASE = "postgresql+psycopg://postgres@127.0.0.1:1/x"
UNREACHABLE_REDIS = "redis://127.0.0.1:1/0"
REDIS = "redis://127.0.0.1:6379/0"


def make_app(tmp_path: Path, **config: Any) -> Flask:
    settings = {
        "SECRET_KEY": "test",
        "TESTING": True,
        "RATE_LIMITS": "off",
        "JOBS_PATH": str(tmp_path / "jobs.sqlite3"),
        **FAST_HASHING,
        **config,
    }
    return create_app(settings)


@pytest.fixture
def database_down(tmp_path: Path) -> Flask:
    return make_app(tmp_path, DATABASE_URL=UNREACHABLE_DATABASE)


def test_healthz_answers_without_a_database(database_down: Flask) -> None:
    response = database_down.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_readyz_is_ready_when_the_database_answers(client: Browserish) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok"
    assert "database" in body["checked"]


def test_readyz_names_the_database_when_it_is_down(database_down: Flask) -> None:
    response = database_down.test_client().get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "unavailable"
    assert set(body["failed"]) == {"database"}
    # What failed, not where it lives: the address stays in the log.
    assert "127.0.0.1" not in response.get_data(as_text=True)


def test_readyz_checks_redis_when_it_is_configured(database_url: str, tmp_path: Path) -> None:
    app = make_app(tmp_path, DATABASE_URL=database_url, REDIS_URL=REDIS)
    response = app.test_client().get("/readyz")
    assert response.status_code == 200
    assert "redis" in response.get_json()["checked"]


def test_readyz_names_redis_when_it_is_down(database_url: str, tmp_path: Path) -> None:
    app = make_app(tmp_path, DATABASE_URL=database_url, REDIS_URL=UNREACHABLE_REDIS)
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    failed = response.get_json()["failed"]
    assert "redis" in failed
    assert "database" not in failed


def test_readyz_checks_the_job_queue(database_url: str, tmp_path: Path) -> None:
    app = make_app(tmp_path, DATABASE_URL=database_url, JOBS_IMMEDIATE=False)
    response = app.test_client().get("/readyz")
    assert response.status_code == 200
    assert "jobs" in response.get_json()["checked"]
    assert (tmp_path / "jobs.sqlite3").exists()  # the check reached the queue's own storage


def test_readyz_is_never_cached(app: Flask, client: Browserish) -> None:
    first = client.get("/readyz")
    assert first.status_code == 200
    app.extensions["forum.engine"] = create_engine(UNREACHABLE_DATABASE)
    second = client.get("/readyz")
    assert second.status_code == 503
    for response in (first, second):
        assert response.headers["Cache-Control"] == "no-store"
        assert "X-Cache" not in response.headers


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_probes_are_not_rate_limited(database_url: str, tmp_path: Path, path: str) -> None:
    tight = {
        name: "1 per hour"
        for name in (
            "LIMIT_LOGIN_IP",
            "LIMIT_LOGIN_ACCOUNT",
            "LIMIT_REGISTER",
            "LIMIT_PASSWORD_RESET",
            "LIMIT_THREADS",
            "LIMIT_REPLIES",
            "LIMIT_REPORTS",
            "LIMIT_PREVIEWS",
        )
    }
    app = make_app(tmp_path, DATABASE_URL=database_url, RATE_LIMITS="on", **tight)
    client = app.test_client()
    statuses = {client.get(path).status_code for _ in range(60)}
    assert statuses == {200}


def test_probes_answer_a_signed_in_browser_while_the_database_is_down(
    member_client: Browserish, tmp_path: Path
) -> None:
    cookie = member_client.client.get_cookie("session")
    assert cookie is not None
    probe = make_app(tmp_path, DATABASE_URL=UNREACHABLE_DATABASE).test_client()
    probe.set_cookie("session", cookie.value)
    assert probe.get("/healthz").status_code == 200
    assert probe.get("/readyz").status_code == 503
