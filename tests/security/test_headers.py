"""Security headers on every HTML response, error pages and cached pages included, for every
kind of visitor; production adds HSTS and Secure cookies."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from forum import create_app
from forum.platform.config import ConfigError
from tests.conftest import PASSWORD, Browserish, browser_for
from tests.security.rate_limited import AppFactory
from tests.security.targets import Forum

SAFE_REFERRER_POLICIES = {
    "no-referrer",
    "same-origin",
    "strict-origin",
    "strict-origin-when-cross-origin",
}


def directives(policy: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for directive in filter(None, (part.strip() for part in policy.split(";"))):
        name, *values = directive.split()
        found[name.lower()] = values
    return found


def header_problems(response: TestResponse) -> list[str]:
    headers = response.headers
    problems = []
    if response.mimetype != "text/html":
        problems.append(f"not HTML: {response.mimetype}")
    policy = directives(headers.get("Content-Security-Policy", ""))
    scripts = policy.get("script-src", policy.get("default-src"))
    if not scripts:
        problems.append("CSP without script-src or default-src")
    elif "'unsafe-inline'" in scripts or "'unsafe-eval'" in scripts or "*" in scripts:
        problems.append(f"CSP allows unsafe scripts: {scripts}")
    if policy.get("frame-ancestors") != ["'none'"]:
        problems.append(f"frame-ancestors is {policy.get('frame-ancestors')}")
    if policy.get("object-src") != ["'none'"]:
        problems.append(f"object-src is {policy.get('object-src')}")
    if headers.get("X-Content-Type-Options") != "nosniff":
        problems.append("no X-Content-Type-Options: nosniff")
    if headers.get("Referrer-Policy") not in SAFE_REFERRER_POLICIES:
        problems.append(f"Referrer-Policy is {headers.get('Referrer-Policy')!r}")
    return problems


def check_pages(client: Browserish, pages: list[tuple[str, int]], **kwargs: Any) -> list[str]:
    found = []
    for url, status in pages:
        response = client.get(url, **kwargs)
        if response.status_code != status:
            found.append(f"{url}: status {response.status_code}, expected {status}")
        found += [f"{url}: {problem}" for problem in header_problems(response)]
    return found


def visitor_pages(forum: Forum) -> list[tuple[str, int]]:
    aim = forum.main
    return [
        ("/", 200),
        (f"/b/{aim.board_slug}", 200),
        (f"/b/{aim.board_slug}?page=2", 200),
        (f"/t/{aim.thread_id}/{aim.thread_slug}", 200),
        ("/u/victor", 200),
        ("/login", 200),
        ("/login?next=/settings", 200),
        ("/register", 200),
        ("/reset", 200),
        ("/reset/not-a-real-token", 400),
        ("/verify/not-a-real-token", 400),
        ("/search?q=severance", 200),
        ("/mod/log", 200),
        (f"/p/{aim.post_id}/revisions", 404),
        ("/no-such-page", 404),
        ("/b/no-such-board", 404),
        ("/u/nobody-at-all", 404),
        (f"/t/{forum.hidden_thread_id}", 404),
        ("/logout", 405),
        ("/preview", 405),
    ]


def member_pages(forum: Forum) -> list[tuple[str, int]]:
    aim = forum.main
    return [
        ("/", 200),
        (f"/t/{aim.thread_id}/{aim.thread_slug}", 200),
        ("/settings", 200),
        ("/reports/mine", 200),
        (f"/b/{aim.board_slug}/new", 200),
        (f"/p/{aim.reported_post_id}/edit", 200),
        (f"/p/{aim.post_id}/report", 200),
        (f"/p/{aim.post_id}/edit", 403),
        ("/mod", 403),
        ("/admin", 403),
        ("/admin/settings", 403),
        ("/no-such-page", 404),
    ]


def admin_pages(forum: Forum) -> list[tuple[str, int]]:
    aim = forum.main
    return [
        ("/mod", 200),
        ("/mod/reports", 200),
        ("/admin", 200),
        ("/admin/users", 200),
        ("/admin/users/victor", 200),
        ("/admin/settings", 200),
        ("/admin/boards/new", 200),
        (f"/mod/threads/{aim.thread_id}/rename", 200),
        ("/mod/users/victor/suspend", 200),
        (f"/admin/posts/{aim.post_id}/purge/confirm", 200),
        ("/admin/users/nobody", 404),
    ]


def test_visitor_pages_have_security_headers(app: Flask, forum: Forum) -> None:
    assert check_pages(Browserish(app.test_client()), visitor_pages(forum)) == []


def test_member_pages_have_security_headers(app: Flask, forum: Forum) -> None:
    assert check_pages(browser_for(app, forum.mallory.username), member_pages(forum)) == []


def test_admin_pages_have_security_headers(app: Flask, forum: Forum) -> None:
    assert check_pages(browser_for(app, forum.admin.username), admin_pages(forum)) == []


def test_development_sends_no_hsts(app: Flask, forum: Forum) -> None:
    """HSTS on http://localhost would pin a developer's browser to HTTPS for months."""
    client = Browserish(app.test_client())
    sent = [
        url
        for url, _status in visitor_pages(forum)
        if "Strict-Transport-Security" in client.get(url).headers
    ]

    assert sent == []


def test_cached_and_revalidated_pages_keep_their_headers(app: Flask, forum: Forum) -> None:
    client = app.test_client()
    url = f"/b/{forum.main.board_slug}"
    first = client.get(url)
    second = client.get(url)
    revalidated = client.get(url, headers={"If-None-Match": first.headers.get("ETag", "")})

    assert second.headers.get("X-Cache") == "hit"  # the cache is really in play
    assert revalidated.status_code == 304
    for response in (first, second):
        assert header_problems(response) == []
    assert revalidated.headers.get("X-Content-Type-Options") == "nosniff"


def test_form_and_request_errors_have_security_headers(app: Flask, forum: Forum) -> None:
    client = Browserish(app.test_client())
    client.get("/login")
    member = browser_for(app, forum.mallory.username)
    answers = {
        "400 forged form": client.raw_post("/login", {"username": "x", "password": "y"}),
        "400 forged post": member.raw_post(f"/t/{forum.main.thread_id}/reply", {"body": "x"}),
        "400 forged, logged out": Browserish(app.test_client()).raw_post(
            f"/t/{forum.main.thread_id}/reply", {"body": "x"}
        ),
        "413 huge body": client.post("/login", {"username": "x" * (2 * 1024 * 1024)}),
    }
    statuses = {name: response.status_code for name, response in answers.items()}

    assert statuses == {
        "400 forged form": 400,
        "400 forged post": 400,
        "400 forged, logged out": 400,
        "413 huge body": 413,
    }
    assert {name: header_problems(r) for name, r in answers.items()} == {n: [] for n in answers}


def test_rate_limited_and_server_error_pages_have_security_headers(
    make_app: AppFactory, forum: Forum
) -> None:
    app = make_app(LIMIT_LOGIN_ACCOUNT="1 per minute")

    def boom() -> str:
        raise RuntimeError("a bug in a view")

    app.add_url_rule("/__boom", "boom", boom)
    client = Browserish(app.test_client())
    client.post("/login", {"username": "victor", "password": "wrong"})

    limited = client.post("/login", {"username": "victor", "password": PASSWORD})
    crashed = client.get("/__boom")

    assert (limited.status_code, crashed.status_code) == (429, 500)
    assert header_problems(limited) == []
    assert header_problems(crashed) == []


# ------------------------------------------------------------------------------ production

HTTPS = {"base_url": "https://localhost"}


@pytest.fixture
def production(make_app: AppFactory) -> FlaskClient:
    app = make_app(
        ENV="production",
        SECRET_KEY="a long production secret",
        rate_limits="off",
        PUBLIC_URL="https://localhost",
        SMTP_URL="smtp://127.0.0.1:2525",
    )
    return app.test_client()


@pytest.mark.parametrize("secret", [None, ""], ids=["missing", "empty"])
def test_production_without_a_secret_key_refuses_to_start(
    database_url: str, monkeypatch: pytest.MonkeyPatch, secret: str | None
) -> None:
    monkeypatch.delenv("FORUM_SECRET_KEY", raising=False)
    config: dict[str, Any] = {
        "ENV": "production",
        "DATABASE_URL": database_url,
        "TESTING": True,
        "RATE_LIMITS": "off",
        "PUBLIC_URL": "https://localhost",
        "SMTP_URL": "smtp://127.0.0.1:2525",
    }
    if secret is not None:
        config["SECRET_KEY"] = secret

    with pytest.raises(ConfigError):
        create_app(config)


def test_production_sends_hsts_on_every_page(production: FlaskClient, forum: Forum) -> None:
    missing = []
    for url in [
        "/",
        "/login",
        "/no-such-page",
        "/reset/bad-token",
        "/logout",
        f"/t/{forum.main.thread_id}/{forum.main.thread_slug}",
    ]:
        hsts = production.get(url, **HTTPS).headers.get("Strict-Transport-Security", "")
        max_age = re.search(r"max-age=(\d+)", hsts)
        if not max_age or int(max_age.group(1)) < 15_552_000:  # at least 180 days
            missing.append(f"{url}: {hsts!r}")

    assert missing == []


def test_production_cookies_are_secure_httponly_and_lax(
    production: FlaskClient, forum: Forum
) -> None:
    page = production.get("/login", **HTTPS)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.get_data(as_text=True))
    assert token
    # A visitor's session (it holds the CSRF secret) is already Secure, before any login.
    [anonymous] = [
        header.lower()
        for header in page.headers.getlist("Set-Cookie")
        if header.startswith("session=")
    ]
    assert "secure" in [part.strip() for part in anonymous.split(";")[1:]]
    # Over HTTPS Flask-WTF also wants a same-site Referer, as a browser sends it.
    response = production.post(
        "/login",
        data={
            "csrf_token": token.group(1),
            "username": "victor",
            "password": PASSWORD,
            "remember": "y",
        },
        headers={"Referer": "https://localhost/login"},
        **HTTPS,
    )

    assert response.status_code == 302
    cookies = {
        header.split("=", 1)[0]: header.lower() for header in response.headers.getlist("Set-Cookie")
    }
    assert {"session", "remember_token"} <= set(cookies)
    for name in ("session", "remember_token"):
        flags = [part.strip() for part in cookies[name].split(";")[1:]]
        assert "secure" in flags and "httponly" in flags and "samesite=lax" in flags, name


def test_production_refuses_a_cross_site_referer(production: FlaskClient, forum: Forum) -> None:
    page = production.get("/login", **HTTPS)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.get_data(as_text=True))
    assert token

    response = production.post(
        "/login",
        data={"csrf_token": token.group(1), "username": "victor", "password": PASSWORD},
        headers={"Referer": "https://evil.example/login"},
        **HTTPS,
    )

    assert response.status_code == 400


# ------------------------------------------------------------------------------ caching


def test_every_response_to_a_signed_in_viewer_is_private_and_not_stored(
    app: Flask, forum: Forum
) -> None:
    """Pages show the viewer's email (settings), drafts and the admin area: no shared cache
    or back button may keep them."""
    aim = forum.main
    everyone_sees = [
        ("/", 200),
        (f"/b/{aim.board_slug}", 200),
        ("/u/victor", 200),
        (f"/t/{aim.thread_id}/{aim.thread_slug}", 200),
        ("/search?q=x", 200),
        ("/mod/log", 200),
        ("/no-such-page", 404),
    ]
    stored = []
    for user, pages in (
        (forum.mallory, member_pages(forum)),
        (forum.admin, admin_pages(forum)),
        (forum.moderator, [("/mod", 200), ("/mod/reports", 200)]),
    ):
        client = Browserish(app.test_client())
        login = client.login(user.username)
        if login.headers.get("Cache-Control") != "private, no-store":
            stored.append(f"{user.username}: POST /login -> {login.headers.get('Cache-Control')}")
        for url, status in pages + everyone_sees:
            response = client.get(url)
            assert response.status_code == status, (user.username, url)
            if response.headers.get("Cache-Control") != "private, no-store":
                stored.append(f"{user.username}: {url} -> {response.headers.get('Cache-Control')}")

    assert stored == []


def test_a_session_restored_by_the_remember_cookie_is_private_too(app: Flask, forum: Forum) -> None:
    client = Browserish(app.test_client())
    client.login(forum.mallory.username, remember=True)
    remember = client.client.get_cookie("remember_token")
    assert remember
    fresh = app.test_client()
    fresh.set_cookie("remember_token", remember.value)
    response = fresh.get(f"/b/{forum.main.board_slug}")
    assert response.headers.get("Cache-Control") == "private, no-store"
    assert "X-Cache" not in response.headers


def test_anonymous_pages_stay_cacheable(app: Flask, forum: Forum) -> None:
    client = app.test_client()
    url = f"/b/{forum.main.board_slug}"
    first, second = client.get(url), client.get(url)
    assert (first.headers.get("X-Cache"), second.headers.get("X-Cache")) == ("miss", "hit")
    assert first.headers.get("Cache-Control") == second.headers.get("Cache-Control") == "no-cache"
    for page, _status in visitor_pages(forum):
        cache_control = client.get(page).headers.get("Cache-Control") or ""
        assert "no-store" not in cache_control and "private" not in cache_control, page
    # Static files keep their own caching whoever asks.
    member = browser_for(app, forum.mallory.username)
    assert "no-store" not in (member.get("/static/app.css").headers.get("Cache-Control") or "")
