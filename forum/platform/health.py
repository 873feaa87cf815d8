"""Liveness and readiness: /healthz and /readyz.

/healthz says the process answers; it touches nothing else, so a database outage never gets
the workers restarted. /readyz says this instance can serve pages: the database answers
SELECT 1, Redis answers PING (when FORUM_REDIS_URL is set) and the job queue's storage answers.
Both answer JSON, are never cached (no page cache, `Cache-Control: no-store`), never rate
limited, and only logged at DEBUG by forum/platform/requestlog.py.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import redis
from flask import Blueprint, Flask, Response, current_app, jsonify
from redis.backoff import NoBackoff
from redis.retry import Retry
from sqlalchemy import text

log = logging.getLogger(__name__)

bp = Blueprint("health", __name__)

REDIS_TIMEOUT_SECONDS = 1.0


@bp.get("/healthz")
def healthz() -> Response:
    return _answer({"status": "ok"}, 200)


@bp.get("/readyz")
def readyz() -> Response:
    failed: dict[str, str] = {}
    checked: list[str] = []
    for name, check in _checks():
        checked.append(name)
        try:
            check()
        except Exception as error:  # any failure means "not ready", never a 500
            # The reason names the part and the kind of error; the details (addresses, ports)
            # go to the log, not to whoever can reach this public URL.
            failed[name] = f"unreachable ({error.__class__.__name__})"
            log.warning("Not ready: %s check failed: %s", name, error)
    if failed:
        return _answer({"status": "unavailable", "failed": failed}, 503)
    return _answer({"status": "ok", "checked": checked}, 200)


def _checks() -> list[tuple[str, Callable[[], object]]]:
    checks: list[tuple[str, Callable[[], object]]] = [("database", _database)]
    if current_app.config.get("REDIS_URL"):
        checks.append(("redis", _redis))
    if current_app.extensions.get("forum.jobs") is not None:
        checks.append(("jobs", _jobs))
    return checks


def _database() -> None:
    with current_app.extensions["forum.engine"].connect() as connection:
        connection.execute(text("SELECT 1"))


def _redis() -> None:
    client = current_app.extensions.get("forum.health_redis")
    if client is None:
        # One try with a short timeout: a probe must answer before the prober gives up.
        client = redis.Redis.from_url(
            current_app.config["REDIS_URL"],
            socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
            socket_timeout=REDIS_TIMEOUT_SECONDS,
            retry=Retry(NoBackoff(), 0),
        )
        current_app.extensions["forum.health_redis"] = client
    client.ping()


def _jobs() -> None:
    # The cheapest call that reaches the queue's storage (Redis LLEN or one SQLite SELECT).
    current_app.extensions["forum.jobs"].huey.storage.queue_size()


def _answer(body: dict[str, object], status: int) -> Response:
    response = jsonify(body)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
