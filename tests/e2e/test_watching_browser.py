"""Watching and muting in a real browser: a new fan watches the demo's season-2 thread, mutes
the author of its second post (whose post folds away, and opens on a click), mutes a board (it
moves to the end of the index, folded) and finds all three on /watching, axe-clean. Screenshots
of the controls and /watching, desktop light and phone dark."""

from __future__ import annotations

from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from tests.e2e.conftest import (
    DESKTOP,
    PHONE,
    PageFactory,
    register,
    screenshot,
    unique_name,
)

pytestmark = pytest.mark.browser

PASSWORD = "watching the finale 2"
BLOCKING = {"serious", "critical"}


def no_blocking_axe(page: Page, where: str) -> None:
    violations: list[dict[str, Any]] = Axe().run(page).response["violations"]
    blocking = [
        f"{v['id']}: {v['help']} {[node['html'][:120] for node in v['nodes'][:4]]}"
        for v in violations
        if v.get("impact") in BLOCKING
    ]
    assert not blocking, f"axe on {where}: {blocking}"


@pytest.mark.parametrize(
    ("scheme", "viewport", "label"),
    [("light", DESKTOP, "desktop-light"), ("dark", PHONE, "phone-dark")],
)
def test_watch_mute_and_find_it_on_watching(
    new_page: PageFactory, season_two_path: str, scheme: str, viewport: dict[str, int], label: str
) -> None:
    page = new_page(color_scheme=scheme, viewport=viewport)
    register(page, unique_name("watcher"), PASSWORD)

    # Watch the thread: the pressed button moves, the flash says so.
    page.goto(season_two_path)
    levels = page.get_by_role("group", name="Notifications")
    levels.get_by_role("button", name="Watching").click()
    expect(page.get_by_role("status").first).to_contain_text("You're watching")
    expect(levels.get_by_role("button", name="Watching")).to_have_attribute("aria-pressed", "true")
    expect(levels.get_by_role("button", name="Normal")).to_have_attribute("aria-pressed", "false")
    screenshot(page, f"watching-thread-controls-{label}")

    # Mute the second post's author from their profile; back on the thread their post folds.
    second = page.locator("article.post").nth(1)
    author = second.locator(".user-link").first.inner_text()
    second_id = second.get_attribute("id")
    page.goto(f"/u/{author}")
    page.get_by_role("button", name=f"Mute {author}").click()
    expect(page.get_by_role("status").first).to_contain_text(f"You muted {author}")
    expect(page.get_by_role("button", name=f"Unmute {author}")).to_be_visible()
    no_blocking_axe(page, f"profile ({label})")
    page.goto(season_two_path)
    folded = page.locator(f"#{second_id} details.muted-post")
    expect(folded).to_have_count(1)
    expect(folded.locator(".post-body")).to_be_hidden()
    folded.locator("summary").click()
    expect(folded.locator(".post-body")).to_be_visible()
    no_blocking_axe(page, f"thread ({label})")

    # Mute the board: the index lists it last, folded, without its latest thread.
    page.goto("/b/partner-track")
    board_levels = page.get_by_role("group", name="This board")
    board_levels.get_by_role("button", name="Mute board").click()
    expect(board_levels.get_by_role("button", name="Mute board")).to_have_attribute(
        "aria-pressed", "true"
    )
    page.goto("/")
    muted = page.locator("details.muted-boards")
    expect(muted).to_contain_text("Partner Track")
    expect(page.locator(".board-list").first).not_to_contain_text("Partner Track")
    no_blocking_axe(page, f"index ({label})")

    # /watching has all three, each with its undo.
    page.goto("/watching")
    expect(page.get_by_role("heading", level=1)).to_have_text("Watching")
    threads = page.get_by_role("region", name="Threads")
    boards = page.get_by_role("region", name="Boards")
    members = page.get_by_role("region", name="Muted members")
    expect(threads.get_by_role("link", name="Will Partner Track get a season 2?")).to_be_visible()
    expect(boards.get_by_role("link", name="Partner Track", exact=True)).to_be_visible()
    expect(members.get_by_role("link", name=author, exact=True)).to_be_visible()
    no_blocking_axe(page, f"/watching ({label})")
    screenshot(page, f"watching-page-{label}")

    page.get_by_role("button", name=f"Unmute {author}").click()
    expect(page.get_by_role("status").first).to_contain_text(f"You unmuted {author}")
    expect(members.get_by_role("link", name=author, exact=True)).to_have_count(0)
