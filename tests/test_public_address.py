"""The public address: absolute links come from FORUM_PUBLIC_URL whatever the request's Host or
X-Forwarded-Host says, and in production a request for another host is refused (400), except
the health probes, which load balancers send by IP address.

Mail goes to a real SMTP server (aiosmtpd); under TESTING the mail job runs in the request."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from forum.platform.publicurl import external_url
from tests.conftest import CSRF_INPUT, PASSWORD, AppBuilder, Factory
from tests.mail_server import Inbox, smtp_server_fixture  # noqa: F401 (fixture)

PUBLIC = "https://fans.example.org"


@pytest.fixture
def build(build_app: AppBuilder, smtp_server: tuple[str, Inbox]) -> Callable[..., Flask]:
    """Apps sending mail to the SMTP server of this module."""
    smtp_server[1].clear()

    def factory(**settings: Any) -> Flask:
        return build_app(**{"PUBLIC_URL": PUBLIC, "SMTP_URL": smtp_server[0], **settings})

    return factory


def ask_for_reset(client: FlaskClient, email: str, headers: dict[str, str]) -> int:
    """The reset form, fetched and sent with `headers` on both requests, as a browser would."""
    page = client.get("/reset", headers=headers).get_data(as_text=True)
    token = CSRF_INPUT.search(page)
    assert token, page
    response = client.post(
        "/reset", data={"csrf_token": token.group(1), "email": email}, headers=headers
    )
    return response.status_code


def links_in(inbox: Inbox, address: str) -> list[str]:
    [message] = inbox.to(address)
    return re.findall(r"https?://\S+", message.get_content())


@pytest.mark.parametrize(
    ("proxies", "headers"),
    [
        pytest.param(0, {"Host": "evil.example"}, id="host"),
        pytest.param(0, {"X-Forwarded-Host": "evil.example"}, id="forwarded-host-ignored"),
        pytest.param(
            1,
            {"X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "http"},
            id="forwarded-host-from-a-trusted-proxy",
        ),
    ],
)
def test_reset_mail_links_to_the_public_address_whatever_the_request_says(
    build: Any, smtp_server: tuple[str, Inbox], make: Factory, proxies: int, headers: dict[str, str]
) -> None:
    app = build(TRUSTED_PROXIES=proxies)
    fan = make.user("poisoned_fan")

    status = ask_for_reset(app.test_client(), fan.email, headers)

    assert status == 302
    links = links_in(smtp_server[1], fan.email)
    assert [urlsplit(link)[:2] for link in links] == [("https", "fans.example.org")], links
    assert urlsplit(links[0]).path.startswith("/reset/")


def test_links_follow_a_public_url_with_a_path(build: Any) -> None:
    app = build(PUBLIC_URL="https://example.org/fans/")

    with app.test_request_context("/", base_url="http://10.0.0.5:8000"):
        link = external_url("accounts.reset_password", token="abc")

    assert link == "https://example.org/fans/reset/abc"


# ------------------------------------------------------------------------------ production


def production(build: Any, **settings: Any) -> Flask:
    return build(ENV="production", SECRET_KEY="a long production secret", **settings)


HTTPS = {"base_url": PUBLIC}


def test_production_serves_its_public_host(build: Any) -> None:
    client = production(build).test_client()

    response = client.get("/", **HTTPS)

    assert response.status_code == 200
    assert response.mimetype == "text/html"


@pytest.mark.parametrize("host", ["evil.example", "10.0.0.5", "fans.example.org.evil.example"])
def test_production_refuses_another_host_with_a_short_plain_page(build: Any, host: str) -> None:
    client = production(build).test_client()

    response = client.get("/login", headers={"Host": host})

    assert response.status_code == 400
    assert response.mimetype == "text/plain"
    body = response.get_data(as_text=True)
    assert body.strip() == f"Bad Request: this site answers at {PUBLIC}"
    assert host not in body


def test_production_refuses_another_host_sent_by_a_trusted_proxy(build: Any) -> None:
    client = production(build, TRUSTED_PROXIES=1).test_client()
    proxied = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "198.51.100.4"}

    foreign = client.get(
        "/",
        headers={**proxied, "X-Forwarded-Host": "evil.example"},
        base_url="http://10.0.0.5:8000",
    )
    public = client.get(
        "/",
        headers={**proxied, "X-Forwarded-Host": "fans.example.org"},
        base_url="http://10.0.0.5:8000",
    )

    assert (foreign.status_code, public.status_code) == (400, 200)


def test_production_refuses_another_host_even_for_a_cached_page(build: Any, make: Factory) -> None:
    client = production(build).test_client()
    make.board("cached-show")
    assert client.get("/", **HTTPS).status_code == 200  # now in the page cache

    response = client.get("/", headers={"Host": "evil.example"})

    assert response.status_code == 400


def test_production_refuses_a_login_post_to_another_host(build: Any, make: Factory) -> None:
    # Without CSRF, so only the Host check stands between this request and a login.
    client = production(build, WTF_CSRF_ENABLED=False).test_client()
    fan = make.user("host_fan")

    response = client.post(
        "/login",
        data={"username": fan.username, "password": PASSWORD},
        headers={"Host": "evil.example"},
    )

    assert response.status_code == 400
    assert client.get_cookie("session") is None and client.get_cookie("remember_token") is None


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_health_probes_answer_by_ip_address_in_production(build: Any, path: str) -> None:
    client = production(build).test_client()

    response = client.get(path, base_url="http://10.0.0.5:8000")

    assert response.status_code in {200, 503}, response.get_data(as_text=True)
    assert response.mimetype == "application/json"


def test_development_serves_any_host(build: Any) -> None:
    client = build().test_client()

    response = client.get("/", headers={"Host": "laptop.local:5000"})

    assert response.status_code == 200
