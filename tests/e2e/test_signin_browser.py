"""Passkeys and authenticator-app codes in a real Chromium (forum/views/signin.py,
static/js/passkeys.js): a passkey made by Chromium's virtual authenticator (DevTools WebAuthn
domain) in the settings, then used to sign in with no password; a login finished with a TOTP
code. Screenshots of the security and sessions pages, on a desktop and a phone.

WebAuthn has no relying party for an IP address, so this file serves its own app at
http://localhost:PORT (a secure context for Chromium) with that as FORUM_PUBLIC_URL.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pyotp
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from werkzeug.serving import make_server

from forum import create_app
from forum.accounts import membership
from forum.accounts.passwords import hash_password
from forum.db import db_session
from tests.conftest import migrated_database_url
from tests.e2e.conftest import DESKTOP, PHONE, screenshot, unique_name

pytestmark = pytest.mark.browser

PASSWORD = "a long and careful passphrase"
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1"
)
# Elements past the window's right edge, except inside a box that scrolls on its own.
TOO_WIDE = """() => [...document.querySelectorAll("body *")]
  .filter((el) => !el.closest(".table-scroll"))
  .filter((el) => el.getBoundingClientRect().right > window.innerWidth + 1)
  .slice(0, 5).map((el) => el.tagName.toLowerCase() + "." + [...el.classList].join("."))"""


@pytest.fixture(scope="module")
def localhost_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Any]]:
    url = migrated_database_url(tmp_path_factory.getbasetemp(), "e2e_signin")
    app = create_app(
        {
            "DATABASE_URL": url,
            "SECRET_KEY": "e2e signin",
            "RATE_LIMITS": "off",
            "ARGON2_TIME_COST": 1,
            "ARGON2_MEMORY_KIB": 1024,
        }
    )
    server = make_server("127.0.0.1", 0, app, threaded=True)
    base = f"http://localhost:{server.server_port}"
    app.config["PUBLIC_URL"] = base
    thread = threading.Thread(target=server.serve_forever, name="e2e-signin", daemon=True)
    thread.start()
    try:
        yield base, app
    finally:
        server.shutdown()
        thread.join(timeout=10)
        app.extensions["forum.engine"].dispose()


@pytest.fixture
def context(browser: Browser, localhost_server: tuple[str, Any]) -> Iterator[BrowserContext]:
    context = browser.new_context(base_url=localhost_server[0], viewport=DESKTOP)
    yield context
    context.close()


def member(app: Any) -> str:
    name = unique_name("pk")
    with app.app_context():
        session = db_session()
        membership.create_user(
            session, name, f"{name}@example.org", password_hash=hash_password(PASSWORD)
        )
        session.commit()
    return name


def password_login(page: Page, username: str) -> None:
    page.goto("/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def signed_in_as(page: Page, username: str) -> None:
    expect(page.get_by_role("navigation", name="Account")).to_contain_text(username)


def log_out(page: Page) -> None:
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("navigation", name="Account")).to_contain_text("Log in")


def virtual_authenticator(page: Page) -> Any:
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
            }
        },
    )
    return cdp


def both_widths(page: Page, name: str) -> None:
    for device, size in (("desktop", DESKTOP), ("phone", PHONE)):
        page.set_viewport_size(size)
        assert page.evaluate(TOO_WIDE) == [], f"{name} scrolls sideways on a {device}"
        screenshot(page, f"{name}-{device}")
    page.set_viewport_size(DESKTOP)


def test_register_a_passkey_then_sign_in_with_it(
    context: BrowserContext, localhost_server: tuple[str, Any]
) -> None:
    username = member(localhost_server[1])
    page = context.new_page()
    virtual_authenticator(page)
    password_login(page, username)
    signed_in_as(page, username)

    # A second device (before the passkey, which would make it ask for one), so the sessions
    # page has another session to sign out.
    phone = context.browser.new_context(base_url=localhost_server[0], user_agent=IPHONE)
    phone_page = phone.new_page()
    password_login(phone_page, username)
    signed_in_as(phone_page, username)

    page.goto("/settings")
    page.get_by_role("link", name="Passkeys & two-factor").click()
    page.get_by_label("Name for this passkey").fill("Test laptop")
    page.get_by_role("button", name="Add a passkey").click()
    expect(page.get_by_role("status").filter(has_text="Passkey added.")).to_be_visible()
    expect(page.locator("table")).to_contain_text("Test laptop")
    both_widths(page, "signin-security-passkeys")

    page.get_by_role("link", name="Your sessions").click()
    expect(page.locator("tbody tr")).to_have_count(2)
    expect(page.locator("tbody")).to_contain_text("Safari 18 on iPhone")
    expect(page.get_by_role("heading", level=1)).to_have_text("Your sessions")
    expect(page.locator("tr[aria-current]")).to_contain_text("This device")
    both_widths(page, "signin-sessions")
    page.get_by_role("button", name="Sign out all other sessions").click()
    expect(page.locator("tbody tr")).to_have_count(1)
    phone.close()

    log_out(page)
    page.goto("/login")
    page.get_by_role("button", name="Sign in with a passkey").click()
    signed_in_as(page, username)
    page.goto("/settings/security")
    expect(page.locator("table")).not_to_contain_text("never used")


def test_a_login_finished_with_an_authenticator_app_code(
    context: BrowserContext, localhost_server: tuple[str, Any]
) -> None:
    username = member(localhost_server[1])
    page = context.new_page()
    password_login(page, username)
    signed_in_as(page, username)
    page.goto("/settings/security")
    page.get_by_role("button", name="Set up an authenticator app").click()
    expect(page.locator(".totp-qr svg")).to_be_visible()
    both_widths(page, "signin-totp-setup")
    secret = page.locator("[data-totp-secret]").inner_text()
    totp = pyotp.TOTP(secret)
    page.get_by_label("Code from the app").fill(totp.now())
    page.get_by_role("button", name="Turn on").click()
    expect(page.locator("[data-recovery-codes] code")).to_have_count(10)
    both_widths(page, "signin-security-totp")

    log_out(page)
    password_login(page, username)
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm it's you")
    both_widths(page, "signin-second-factor")
    # The next step's code: the current one was just spent turning the app on.
    page.get_by_label("Code").fill(totp.at(time.time() + 30))
    page.get_by_role("button", name="Continue").click()
    signed_in_as(page, username)
