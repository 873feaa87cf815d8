"""Sessions: no fixation, logging out really ends a session, remember-me cookies can be revoked,
and `next` never sends anyone off the site.

Cookies are replayed in fresh clients, the way a thief would use a copied cookie.
"""

from __future__ import annotations

from urllib.parse import quote, urljoin, urlsplit

import pytest
from flask import Flask
from werkzeug.test import TestResponse

from forum.models import Role, User
from tests.conftest import PASSWORD, Browserish, Factory, browser_for, replayed, who
from tests.html_scan import csrf_token, read

NEW_PASSWORD = "a completely new passphrase"


@pytest.fixture
def fan(make: Factory) -> User:
    return make.user("fixation_fan")


# ------------------------------------------------------------------------------ fixation


def test_the_session_cookie_changes_at_login(app: Flask, fan: User) -> None:
    client = Browserish(app.test_client())
    client.get("/login")
    before = client.cookie("session")
    assert before

    client.login(fan.username)

    assert client.cookie("session") not in (None, before)


def test_a_cookie_planted_before_login_is_not_logged_in_by_it(app: Flask, fan: User) -> None:
    # The attacker gets a session cookie from the site and plants it in the victim's browser.
    attacker = Browserish(app.test_client())
    attacker.get("/login")
    planted = attacker.cookie("session")
    assert planted
    victim = replayed(app, session=planted)

    victim.login(fan.username)

    assert who(victim) == fan.username
    assert who(replayed(app, session=planted)) is None
    assert who(attacker) is None


def test_a_session_from_before_login_carries_nothing_over(app: Flask, fan: User) -> None:
    client = Browserish(app.test_client())
    with client.client.session_transaction() as session:
        session["planted"] = "by an attacker"

    client.login(fan.username)

    with client.client.session_transaction() as session:
        assert "planted" not in session


# ------------------------------------------------------------------------------ logout


def test_logout_ends_the_session_for_a_copied_cookie(app: Flask, fan: User) -> None:
    client = browser_for(app, fan.username)
    stolen = client.cookie("session")
    assert stolen and who(replayed(app, session=stolen)) == fan.username

    client.logout()

    assert who(client) is None
    assert who(replayed(app, session=stolen)) is None


def test_password_change_ends_other_sessions_for_copied_cookies(app: Flask, fan: User) -> None:
    laptop = browser_for(app, fan.username)
    stolen = browser_for(app, fan.username).cookie("session")
    assert stolen

    laptop.post(
        "/settings/password",
        {
            "pw-current_password": PASSWORD,
            "pw-new_password": NEW_PASSWORD,
            "pw-confirm": NEW_PASSWORD,
        },
        page="/settings",
    )

    assert who(laptop) == fan.username
    assert who(replayed(app, session=stolen)) is None


# ------------------------------------------------------------------------------ remember me


def remembered(app: Flask, username: str) -> tuple[Browserish, str]:
    client = Browserish(app.test_client())
    client.login(username, remember=True)
    token = client.cookie("remember_token")
    assert token, "no remember_token cookie after 'Remember me'"
    return client, token


def test_a_remember_cookie_alone_logs_in(app: Flask, fan: User) -> None:
    """The control for the revocation tests below."""
    _client, token = remembered(app, fan.username)

    assert who(replayed(app, remember_token=token)) == fan.username


def test_logout_revokes_the_remember_cookie(app: Flask, fan: User) -> None:
    client, token = remembered(app, fan.username)

    client.logout()

    assert who(replayed(app, remember_token=token)) is None


def test_password_change_revokes_other_devices_remember_cookies(app: Flask, fan: User) -> None:
    _phone, token = remembered(app, fan.username)
    laptop = browser_for(app, fan.username)

    response = laptop.post(
        "/settings/password",
        {
            "pw-current_password": PASSWORD,
            "pw-new_password": NEW_PASSWORD,
            "pw-confirm": NEW_PASSWORD,
        },
        page="/settings",
    )

    assert response.status_code == 302
    assert who(replayed(app, remember_token=token)) is None


def test_a_tampered_remember_cookie_is_anonymous(app: Flask, fan: User) -> None:
    _client, token = remembered(app, fan.username)
    value, _sep, digest = token.rpartition("|")

    for forged in (f"{value}|{'0' * len(digest)}", f"{value}x|{digest}", value, f"|{digest}"):
        assert who(replayed(app, remember_token=forged)) is None, forged


# ------------------------------------------------------------------------------ next

OFF_SITE = [
    "//evil.example",
    "///evil.example",
    "////evil.example/path",
    "/\\evil.example",
    "\\/\\/evil.example",
    "\\\\evil.example",
    "/\\/evil.example",
    "https:evil.example",
    "https:/evil.example",
    "https://evil.example",
    "HTTPS://EVIL.EXAMPLE",
    "http://localhost@evil.example",
    "//localhost@evil.example",
    "https://evil.example#/settings",
    "%2F%2Fevil.example",
    "%2f%2fevil.example",
    "/%2F%2Fevil.example",
    "%5C%5Cevil.example",
    "javascript:alert(1)",
    "JavaScript:alert(document.domain)",
    "java\tscript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    "/\t/evil.example",
    "/\n/evil.example",
    "/\r\n/evil.example",
    "\t//evil.example",
    " //evil.example",
    "\x00//evil.example",
    "/\x00/evil.example",
    "//evil.example\t",
    "/\u3000/evil.example",
    "\uff0f\uff0fevil.example",
    "//evil.example/%2e%2e",
    "/.//evil.example",
    "//%09/evil.example",
    "//\\evil.example",
    "evil.example",
    "@evil.example",
]


def lands_on_site(location: str) -> bool:
    """Where a browser goes for this Location header, resolved against our own URL the way
    browsers resolve it: tabs and newlines dropped, backslashes read as slashes."""
    cleaned = "".join(ch for ch in location if ch not in "\t\n\r").strip("\x00 ")
    cleaned = cleaned.replace("\\", "/")
    target = urlsplit(urljoin("http://localhost/login", cleaned))
    return target.scheme == "http" and target.hostname == "localhost"


def location(response: TestResponse) -> str:
    assert response.status_code in (301, 302, 303, 307, 308), response.status_code
    return response.headers["Location"]


def test_login_never_redirects_off_site(client: Browserish, fan: User) -> None:
    sent_off = []
    for target in OFF_SITE:
        # Each login starts a fresh session, so each needs the token of a fresh form.
        response = client.client.post(
            "/login",
            data={
                "csrf_token": client.token("/login"),
                "username": fan.username,
                "password": PASSWORD,
                "next": target,
            },
        )
        if not lands_on_site(location(response)):
            sent_off.append(f"next={target!r} -> {location(response)}")

    assert sent_off == [], f"{len(sent_off)} of {len(OFF_SITE)} left the site: {sent_off}"


def test_login_page_carries_no_off_site_next(client: Browserish, fan: User) -> None:
    """The login form fills `next` from the query string; what it posts back is checked too."""
    sent_off = []
    for target in OFF_SITE:
        page = client.get(f"/login?next={quote(target, safe='')}").get_data(as_text=True)
        carried = read(page).values.get("next", "")
        response = client.client.post(
            "/login",
            data={
                "csrf_token": csrf_token(page),
                "username": fan.username,
                "password": PASSWORD,
                "next": carried,
            },
        )
        if not lands_on_site(location(response)):
            sent_off.append(f"?next={target!r} -> {location(response)}")

    assert sent_off == [], f"{len(sent_off)} of {len(OFF_SITE)} left the site: {sent_off}"


def test_login_follows_a_local_next(client: Browserish, fan: User) -> None:
    """The control: a path on this site is followed."""
    response = client.post(
        "/login", {"username": fan.username, "password": PASSWORD, "next": "/settings?tab=email"}
    )

    assert location(response) == "/settings?tab=email"


def test_other_next_fields_never_redirect_off_site(app: Flask, make: Factory) -> None:
    """Every form with a `next` field: confirmation resend and the moderator tools."""
    admin = make.user("admin_next", role=Role.ADMIN)
    thread = make.thread(title="Redirect target thread")
    client = browser_for(app, admin.username)
    token = client.token("/settings")
    sent_off = []
    for target in OFF_SITE:
        for url, form in [
            ("/verify/resend", {}),
            (f"/mod/threads/{thread.id}", {"action": "pin"}),
            (f"/mod/threads/{thread.id}", {"action": "unpin"}),
        ]:
            response = client.client.post(url, data={**form, "csrf_token": token, "next": target})
            if not lands_on_site(location(response)):
                sent_off.append(f"{url} next={target!r} -> {location(response)}")

    assert sent_off == []
