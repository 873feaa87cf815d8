"""Apps with the rate limits switched on, kept in memory or (with FORUM_TEST_REDIS_URL) on
Redis; built by the `make_app` and `cluster_factory` fixtures in conftest.py."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from flask import Flask

REDIS_URL = os.environ.get("FORUM_TEST_REDIS_URL", "")
AppFactory = Callable[..., Flask]

STORES = [
    pytest.param("memory", id="memory"),
    pytest.param(
        "redis",
        id="redis",
        marks=pytest.mark.skipif(not REDIS_URL, reason="FORUM_TEST_REDIS_URL is not set"),
    ),
]


@dataclass
class Cluster:
    """The app, or with Redis two apps sharing one limit store, as behind a load balancer.
    `pick(n)` alternates between them, so attempts are split across both."""

    apps: list[Flask]

    def pick(self, n: int) -> Flask:
        return self.apps[n % len(self.apps)]


ClusterFactory = Callable[..., Cluster]
