"""FORUM_TRUSTED_PROXIES: with 0, X-Forwarded-* headers are ignored (anyone can send them); with
1, the client address, scheme and host come from the proxy in front, and the rate limits and
the request log use that address.

Every request here comes from the same REMOTE_ADDR, the proxy's, as behind nginx."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask, request
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.conftest import CSRF_INPUT, PASSWORD, AppBuilder, Factory

PROXY = "10.0.0.2"
ATTACKER, BYSTANDER = "203.0.113.66", "198.51.100.7"


@pytest.fixture
def build(build_app: AppBuilder) -> Callable[..., Flask]:
    """Apps with rate limits on (in memory: a fresh store per app) behind `proxies` proxies."""

    def factory(proxies: int, **settings: Any) -> Flask:
        return build_app(RATE_LIMITS="on", TRUSTED_PROXIES=proxies, **settings)

    return factory


def behind_proxy(app: Flask, client_ip: str) -> tuple[FlaskClient, dict[str, str]]:
    """A browser at `client_ip` whose requests reach the app through the proxy (`client_ip` is
    the X-Forwarded-For the proxy sends: a forged list ends with the real address)."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = PROXY
    return client, {"X-Forwarded-For": client_ip}


def log_in(app: Flask, client_ip: str, username: str, password: str) -> TestResponse:
    client, headers = behind_proxy(app, client_ip)
    page = client.get("/login", headers=headers).get_data(as_text=True)
    token = CSRF_INPUT.search(page)
    assert token
    return client.post(
        "/login",
        headers=headers,
        data={"csrf_token": token.group(1), "username": username, "password": password},
    )


def fail_logins_until_refused(app: Flask, client_ip: str, target: str) -> int:
    """Three wrong passwords from `client_ip` (the limit), then the status of a fourth."""
    for _ in range(3):
        assert log_in(app, client_ip, target, "wrong guess").status_code == 200
    return log_in(app, client_ip, target, "wrong guess").status_code


LIMITS = {"LIMIT_LOGIN_IP": "3 per minute", "LIMIT_LOGIN_ACCOUNT": "1000 per minute"}


@pytest.mark.parametrize(
    ("proxies", "bystander_status"),
    [
        # Both "clients" are the proxy's address to the app: one login limit for everyone.
        pytest.param(0, 429, id="forwarded-for-ignored-without-trusted-proxies"),
        pytest.param(1, 302, id="each-client-its-own-limit-with-one-trusted-proxy"),
    ],
)
def test_the_login_limit_counts_per_client_only_behind_a_trusted_proxy(
    build: Any, make: Factory, proxies: int, bystander_status: int
) -> None:
    app = build(proxies, **LIMITS)
    make.user("target_fan")
    bystander = make.user("bystander_fan")

    attacker_refused = fail_logins_until_refused(app, ATTACKER, "target_fan")
    other = log_in(app, BYSTANDER, bystander.username, PASSWORD)

    assert attacker_refused == 429
    assert other.status_code == bystander_status


def test_with_one_trusted_proxy_a_client_cannot_forge_its_way_out(
    build: Any, make: Factory
) -> None:
    """The attacker adds its own X-Forwarded-For entries: only the one the proxy appended (the
    last) counts, so made-up addresses don't reset the limit."""
    app = build(1, **LIMITS)
    make.user("target_fan")
    statuses = [
        log_in(app, f"192.0.2.{n}, {ATTACKER}", "target_fan", "wrong guess").status_code
        for n in range(5)
    ]

    assert statuses[-1] == 429, statuses


@pytest.mark.parametrize(
    ("proxies", "expected"),
    [
        (0, ("127.0.0.1", "http", "localhost")),
        (1, (ATTACKER, "https", "fans.example.org")),
    ],
)
def test_address_scheme_and_host_come_from_the_proxy_only_when_trusted(
    build: Any, proxies: int, expected: tuple[str, str, str]
) -> None:
    app = build(proxies)
    seen: list[tuple[str | None, str, str]] = []
    app.before_request(
        lambda: seen.append((request.remote_addr, request.scheme, request.host)) and None
    )

    app.test_client().get(
        "/",
        headers={
            "X-Forwarded-For": ATTACKER,
            "X-Forwarded-Proto": "https",
            "X-Forwarded-Host": "fans.example.org",
        },
    )

    assert seen == [expected]


@pytest.mark.parametrize(("proxies", "logged"), [(0, PROXY), (1, BYSTANDER)])
def test_request_log_names_the_client_address(
    build: Any, caplog: pytest.LogCaptureFixture, proxies: int, logged: str
) -> None:
    app = build(proxies)
    client, headers = behind_proxy(app, BYSTANDER)

    with caplog.at_level(logging.INFO, logger="showboard.request"):
        client.get("/", headers=headers)

    lines = [r.getMessage() for r in caplog.records if r.name == "showboard.request"]
    assert len(lines) == 1, lines
    assert f"ip={logged} " in lines[0]
