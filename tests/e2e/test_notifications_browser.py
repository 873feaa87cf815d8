"""The bell and /notifications in a real browser: a fan starts a thread, another replies three
times and mentions them; the bell shows 2, the list groups the replies ("3 new replies to your
thread …") and links the mention to its post; "Mark all read" empties the bell. axe-clean;
screenshots of the bell and the list on a desktop and a phone, light and dark.

On a server of its own whose jobs run at once (the shared e2e server queues them for a worker
nobody runs), so the notifications are written by the time each reply's redirect comes back."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect
from werkzeug.serving import make_server

from forum import create_app
from forum.db import db_session
from forum.platform import demo
from forum.staff import showfile
from tests.conftest import migrated_database_url
from tests.e2e.conftest import (
    DESKTOP,
    PHONE,
    SHOW_FILE,
    register,
    screenshot,
    start_thread,
    unique_name,
)

pytestmark = pytest.mark.browser

PASSWORD = "bell-rings-twice-1"
BLOCKING = {"serious", "critical"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = migrated_database_url(tmp_path_factory.getbasetemp(), "e2e-notifications")
    jobs = tmp_path_factory.mktemp("notification-jobs") / "jobs.sqlite3"
    app = create_app(
        {
            "DATABASE_URL": url,
            "SECRET_KEY": "e2e-notifications",
            "RATE_LIMITS": "off",
            "JOBS_IMMEDIATE": "on",
            "JOBS_PATH": str(jobs),
        }
    )
    with app.app_context():
        session = db_session()
        showfile.upsert(session, showfile.parse(SHOW_FILE.read_text(encoding="utf-8")))
        demo.seed_demo(session)
        session.commit()
    served = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=served.serve_forever, name="e2e-bell", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{served.server_port}"
    finally:
        served.shutdown()
        thread.join(timeout=10)
        app.extensions["forum.engine"].dispose()


def no_blocking_axe(page: Page, where: str) -> None:
    violations: list[dict[str, Any]] = Axe().run(page).response["violations"]
    blocking = [
        f"{v['id']}: {v['help']} {[node['html'][:120] for node in v['nodes'][:4]]}"
        for v in violations
        if v.get("impact") in BLOCKING
    ]
    assert not blocking, f"axe on {where}: {blocking}"


def _reply(page: Page, text: str) -> None:
    page.locator("#reply textarea[name=body]").fill(text)
    page.get_by_role("button", name="Post reply").click()
    expect(page.locator("article.post").last).to_contain_text(text)


@pytest.mark.parametrize(
    ("scheme", "viewport", "label"),
    [
        ("light", DESKTOP, "desktop-light"),
        ("dark", DESKTOP, "desktop-dark"),
        ("light", PHONE, "phone-light"),
        ("dark", PHONE, "phone-dark"),
    ],
)
def test_the_bell_and_the_list(
    browser: Browser, server: str, scheme: str, viewport: dict[str, int], label: str
) -> None:
    contexts = [
        browser.new_context(base_url=server, color_scheme=scheme, viewport=viewport)  # type: ignore[arg-type]
        for _ in range(2)
    ]
    try:
        starter, other = (context.new_page() for context in contexts)
        starter_name, other_name = unique_name("bella"), unique_name("rio")
        register(starter, starter_name, PASSWORD)
        register(other, other_name, PASSWORD)
        title = f"Bell test {label}: who else is rewatching?"
        thread_url = start_thread(starter, "partner-track", title, "Starting S1 again tonight.")

        other.goto(thread_url)
        for n in range(3):
            _reply(other, f"Me too, part {n + 1}")
        other_thread = start_thread(other, "partner-track", f"Quiz night {label}", "Join us!")
        other.goto(other_thread)
        _reply(other, f"@{starter_name} you in?")

        starter.goto("/")
        badge = starter.locator("a.bell .count-badge")
        expect(badge).to_have_text("2 unread")
        screenshot(starter, f"notifications-bell-{label}")

        starter.locator("a.bell").click()
        expect(starter.get_by_role("heading", level=1)).to_have_text("Notifications")
        items = starter.get_by_role("list", name="Notifications, newest first").locator("li")
        expect(items).to_have_count(2)
        expect(items.nth(0)).to_contain_text(f"{other_name} mentioned you in")
        expect(items.nth(1)).to_contain_text(f"3 new replies to your thread {title}")
        expect(items.nth(0)).to_contain_text("Unread")
        no_blocking_axe(starter, f"/notifications ({label})")
        screenshot(starter, f"notifications-list-{label}")

        starter.get_by_role("button", name="Mark all read").click()
        expect(starter.locator("a.bell .count-badge")).to_have_count(0)
        expect(items.nth(0)).not_to_contain_text("Unread")

        # The mention's link lands on the post.
        items.nth(0).get_by_role("link").click()
        expect(starter.locator("article.post").last).to_contain_text("you in?")
    finally:
        for context in contexts:
            context.close()
