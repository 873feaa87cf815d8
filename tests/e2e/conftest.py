"""Browser tests: a real server on a real socket, driven by Debian's chromium through Playwright.

One live server per test session (so one per pytest-xdist worker), on its own fresh database
with the example boards and the demo community, seeded by the same functions the CLI uses.
Tests share that database, so each one creates what it changes (its own users and threads) and
only reads the demo content.

Chromium: Playwright can't download its own browser here, so the system one is launched. When it
is missing the browser tests are skipped with a hint, except in CI, where they fail.
"""

from __future__ import annotations

import contextlib
import re
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Locator,
    Page,
    expect,
)
from werkzeug.serving import make_server

from forum import create_app
from forum.db import db_session
from forum.platform import demo
from forum.staff import showfile
from tests.conftest import migrated_database_url

ROOT = Path(__file__).resolve().parents[2]
SHOW_FILE = ROOT / "shows.example.toml"
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
DEMO_USER = "demo"
DEMO_PASSWORD = demo.DEMO_PASSWORD
SEASON_TWO_THREAD = "Will Partner Track get a season 2?"


# How long expect() waits for a page to get there. Pages take well under a second; the margin is
# for a busy 2-core CI machine. Only a failing assertion ever waits this long.
expect.set_options(timeout=10_000)


# ------------------------------------------------------------------------------ server


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The base URL of the app, served from a thread of this process."""
    url = migrated_database_url(tmp_path_factory.getbasetemp(), "e2e")

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "e2e", "RATE_LIMITS": "off"})
    with app.app_context():
        session = db_session()
        showfile.upsert(session, showfile.parse(SHOW_FILE.read_text(encoding="utf-8")))
        assert demo.seed_demo(session), "the fresh e2e database already had demo content"
        session.commit()

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="e2e-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        app.extensions["forum.engine"].dispose()


# ------------------------------------------------------------------------------ browser


# `chromium` and `browser` (one Playwright driver for the whole run) are in tests/conftest.py.


_FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Remember whether the test itself failed, for `new_page` to take screenshots."""
    report = yield
    if report.when == "call":
        item.stash[_FAILED] = report.failed
    return report


PageFactory = Callable[..., Page]


@pytest.fixture
def new_page(
    browser: Browser, live_server: str, request: pytest.FixtureRequest
) -> Iterator[PageFactory]:
    """Open pages in fresh contexts (own cookies): `new_page(viewport=PHONE,
    color_scheme="dark")`. A failing test leaves a screenshot of each of its pages behind."""
    contexts: list[BrowserContext] = []

    def factory(**options: Any) -> Page:
        options.setdefault("viewport", DESKTOP)
        context = browser.new_context(base_url=live_server, **options)
        contexts.append(context)
        return context.new_page()

    yield factory
    failed = request.node.stash.get(_FAILED, False)
    prefix = f"FAILED-{_safe_name(request.node.name)}-"
    for stale in SCREENSHOTS.glob(f"{prefix}*.png"):  # from an earlier run of this test
        stale.unlink(missing_ok=True)
    for n, context in enumerate(contexts):
        if failed:
            for m, page in enumerate(context.pages):
                # A page that can't be captured must not hide the test's own failure.
                with contextlib.suppress(Exception):
                    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
                    page.screenshot(path=SCREENSHOTS / f"{prefix}{n}-{m}.png", full_page=True)
        context.close()


@pytest.fixture
def page(new_page: PageFactory) -> Page:
    """A desktop page (1280x800) in a context of its own."""
    return new_page()


def _safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-")


def screenshot(page: Page, name: str) -> Path:
    """A full-page PNG in test-artifacts/screenshots/ (git-ignored)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{_safe_name(name)}.png"
    page.screenshot(path=path, full_page=True)
    return path


# ------------------------------------------------------------------------------ people


def unique_name(prefix: str) -> str:
    """A username no other test (or worker) uses: the database is shared by the session."""
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


def log_in(page: Page, username: str, password: str, remember: bool = False) -> None:
    page.goto("/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    if remember:
        page.get_by_label("Remember me").check()
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("navigation", name="Account")).to_contain_text(username)


def register(page: Page, username: str, password: str) -> None:
    page.goto("/register")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Email").fill(f"{username}@example.org")
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_label("Confirm password").fill(password)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("status")).to_contain_text(f"Welcome to Showboard, {username}!")


@pytest.fixture(scope="session")
def demo_login_state(browser: Browser, live_server: str) -> dict[str, Any]:
    """The demo member's cookies, logged in once through the form and shared by read-only
    tests. Never log out with them: that would end the session for every test sharing it."""
    context = browser.new_context(base_url=live_server)
    try:
        page = context.new_page()
        log_in(page, DEMO_USER, DEMO_PASSWORD)
        return context.storage_state()
    finally:
        context.close()


def click_and_reload(page: Page, button: Locator) -> None:
    """Click a button that posts its form back to the same URL, and wait until the server's new
    page has replaced this one (its URL may not change, so tag the old document and wait for
    the tag to go)."""
    page.evaluate("document.documentElement.dataset.replaced = 'soon'")
    button.click()
    expect(page.locator("html[data-replaced]")).to_have_count(0)


def start_thread(page: Page, board_slug: str, title: str, body: str) -> str:
    """Start a thread through the form; returns the thread's URL."""
    page.goto(f"/b/{board_slug}/new")
    page.get_by_label("Title").fill(title)
    page.get_by_label("Message").fill(body)
    page.get_by_role("button", name="Post thread").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    return page.url


@pytest.fixture(scope="session")
def season_two_path(browser: Browser, live_server: str) -> str:
    """The path of the demo thread "Will Partner Track get a season 2?", found the way a fan
    finds it: by its link on the board."""
    context = browser.new_context(base_url=live_server)
    try:
        page = context.new_page()
        page.goto("/b/partner-track")
        href = page.get_by_role("link", name=SEASON_TWO_THREAD, exact=True).get_attribute("href")
        assert href, "the demo thread is missing from Partner Track"
        return href
    finally:
        context.close()
