"""Redis clients that fail fast, and a breaker that stops asking a Redis that is down.

Redis is an accelerator here (shared rate limits, the shared page cache), never a dependency:
a request must not wait on it for more than a fraction of a second. redis-py's defaults retry
a failed connection three times with up to ten seconds of back-off, which made the first
request after Redis went away take 13-17 s; every client made here tries once, with short
connect and read timeouts. Make Redis clients through `client()` (or pass `OPTIONS` to a
library that builds its own, as Flask-Limiter does), so the timeouts are the same everywhere.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import redis
from flask import Flask
from redis.backoff import NoBackoff
from redis.retry import Retry

log = logging.getLogger(__name__)

# Long enough for a loaded Redis on the same network (answers take well under a millisecond),
# short enough that a request never notices a dead one for long.
TIMEOUT_SECONDS = 0.3
# After a failure, Redis is left alone this long; then one call probes it again.
PAUSE_SECONDS = 5.0

T = TypeVar("T")


def options() -> dict[str, Any]:
    """redis.Redis keyword arguments: short timeouts and no retries (a fresh Retry each time,
    since redis-py keeps per-client state in it)."""
    return {
        "socket_connect_timeout": TIMEOUT_SECONDS,
        "socket_timeout": TIMEOUT_SECONDS,
        "retry": Retry(NoBackoff(), 0),
    }


def client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, **options())


class Breaker:
    """Calls Redis until it fails, then answers `default` without calling it for
    PAUSE_SECONDS, then lets the next call probe it. Logs one warning when Redis goes away
    and one info line when it is back, whatever the number of requests in between."""

    def __init__(self, name: str, while_down: str, pause_seconds: float = PAUSE_SECONDS) -> None:
        self._name = name
        self._while_down = while_down
        self._pause = pause_seconds
        self._closed_at = 0.0  # monotonic time from which Redis may be called again
        self._down = False
        self._lock = threading.Lock()

    @property
    def down(self) -> bool:
        return self._down

    def call(self, action: Callable[[], T], default: T) -> T:
        if self._down and time.monotonic() < self._closed_at:
            return default
        try:
            result = action()
        except (redis.RedisError, OSError) as error:
            self._failed(error)
            return default
        if self._down:
            self._recovered()
        return result

    def _failed(self, error: Exception) -> None:
        with self._lock:
            self._closed_at = time.monotonic() + self._pause
            if self._down:
                return
            self._down = True
        log.warning(
            "Redis is unreachable for the %s (%s: %s); %s. Trying again every %.0f s.",
            self._name,
            error.__class__.__name__,
            error,
            self._while_down,
            self._pause,
        )

    def _recovered(self) -> None:
        with self._lock:
            if not self._down:
                return
            self._down = False
        log.info("Redis is back: the %s uses it again.", self._name)


class Link:
    """The app's own Redis client and breaker, shared by the page cache and the settings
    version (Flask-Limiter keeps its own client, with the same options): one outage, one
    warning."""

    def __init__(self, url: str) -> None:
        self.client = client(url)
        self.breaker = Breaker(
            "page cache and site settings",
            "pages are rendered for every visitor and not stored, and other workers see "
            "settings changes within 10 s",
        )

    def call(self, action: Callable[[redis.Redis], T], default: T) -> T:
        return self.breaker.call(lambda: action(self.client), default)


def link(app: Flask) -> Link | None:
    """The app's Link, made on first use; None when FORUM_REDIS_URL is unset."""
    made: Link | None = app.extensions.get("forum.redis")
    if made is not None:
        return made
    url = app.config["REDIS_URL"]
    if not url:
        return None
    # setdefault, not a plain store: two threads making the first Link agree on one. Only the
    # first calls get here; building a Link (a client and its pool) costs 0.3 ms.
    made = app.extensions.setdefault("forum.redis", Link(url))
    return made
