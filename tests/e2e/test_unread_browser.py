"""Unread tracking in a real browser: one fan reads a thread, another replies twice, and the first
finds it bold on the board with "2 new"; the badge lands on the first unread post, just under the
"New" line; "Mark all read" clears the row. Axe-clean; screenshots of the board's badges and the
thread's line, phone and desktop, light and dark."""

from __future__ import annotations

import re
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from tests.e2e.conftest import (
    DESKTOP,
    PHONE,
    SCREENSHOTS,
    PageFactory,
    register,
    screenshot,
    start_thread,
    unique_name,
)

pytestmark = pytest.mark.browser

PASSWORD = "reading the finale 3"
BLOCKING = {"serious", "critical"}


def no_blocking_axe(page: Page, where: str) -> None:
    violations: list[dict[str, Any]] = Axe().run(page).response["violations"]
    blocking = [f"{v['id']}: {v['help']}" for v in violations if v.get("impact") in BLOCKING]
    assert not blocking, f"axe on {where}: {blocking}"


def reply(page: Page, text: str) -> None:
    page.locator("#reply textarea[name=body]").fill(text)
    page.get_by_role("button", name="Post reply").click()
    expect(page.locator("article.post").last).to_contain_text(text)


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize(("device", "viewport"), [("desktop", DESKTOP), ("phone", PHONE)])
def test_unread_rows_the_jump_and_mark_all_read(
    new_page: PageFactory, device: str, viewport: dict[str, int], scheme: str
) -> None:
    writer = new_page()
    register(writer, unique_name("writer"), PASSWORD)
    reader = new_page(viewport=viewport, color_scheme=scheme)
    register(reader, unique_name("reader"), PASSWORD)
    title = f"Unread {unique_name('night')}"
    thread_url = start_thread(writer, "partner-track", title, "Who else stayed up for it?")

    reader.goto(thread_url)  # read: one post
    reply(writer, "UNREAD-ONE: the first thing you missed")
    reply(writer, "UNREAD-TWO: and the second")

    reader.goto("/b/partner-track")
    row = reader.locator(".thread-row", has=reader.get_by_role("link", name=title, exact=True))
    expect(row).to_have_class(class_with("is-unread"))
    badge = row.locator("a.badge-new")
    expect(badge).to_contain_text("2 new")
    expect(badge).to_have_accessible_name(re.compile(r"^2 new\s*posts: jump to the first unread$"))
    no_blocking_axe(reader, f"board ({device}, {scheme})")
    row.scroll_into_view_if_needed()
    screenshot(reader, f"unread-board-{device}-{scheme}")

    badge.click()
    first_unread = reader.locator("article.post", has_text="UNREAD-ONE")
    expect(first_unread).to_be_in_viewport()
    assert reader.url.endswith(f"#{first_unread.get_attribute('id')}")
    # The "New" line sits right before it, once.
    expect(reader.locator(".new-marker")).to_have_count(1)
    follows = reader.evaluate("document.querySelector('.new-marker').nextElementSibling.id")
    assert follows == first_unread.get_attribute("id")
    # Landing leaves the line in view, below the header where the header sticks.
    header_bottom = reader.evaluate(
        "(() => { const header = document.querySelector('.site-header');"
        " return getComputedStyle(header).position === 'sticky'"
        " ? header.getBoundingClientRect().bottom : 0; })()"
    )
    marker = reader.locator(".new-marker").bounding_box()
    assert marker is not None and marker["y"] >= header_bottom
    no_blocking_axe(reader, f"thread ({device}, {scheme})")
    # What the fan sees on landing: the viewport, not the whole page.
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    reader.screenshot(path=SCREENSHOTS / f"unread-new-line-{device}-{scheme}.png")

    # Read now: the row is plain again. A new reply, then Mark all read clears it too.
    reader.goto("/b/partner-track")
    expect(row).not_to_have_class(class_with("is-unread"))
    reply(writer, "UNREAD-THREE: one more")
    reader.goto("/b/partner-track")
    expect(row.locator("a.badge-new")).to_contain_text("1 new")
    reader.get_by_role("button", name="Mark all read").click()
    expect(reader.get_by_role("status").first).to_contain_text("marked read")
    expect(row).not_to_have_class(class_with("is-unread"))
    expect(row.locator("a.badge-new")).to_have_count(0)


def class_with(name: str) -> re.Pattern[str]:
    """A class list that holds `name` (to_have_class matches the whole attribute)."""
    return re.compile(rf"(^|\s){re.escape(name)}(\s|$)")
