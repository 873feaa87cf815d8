"""Full-page screenshots of the main screens on a desktop and a phone, light and dark, saved to
test-artifacts/screenshots/ for people to look at. Each one also checks what a fan would notice
first: the right page, its main content, and (on a phone) no sideways scrolling.

The CSS is being redesigned, so nothing here looks at colours or positions in pixels.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import (
    DESKTOP,
    PHONE,
    SEASON_TWO_THREAD,
    PageFactory,
    screenshot,
)

pytestmark = pytest.mark.browser

# The elements sticking out past the window's right edge, to say what to fix.
TOO_WIDE = """() => [...document.querySelectorAll("body *")]
  .filter((el) => el.getBoundingClientRect().right > window.innerWidth + 1)
  .slice(0, 5)
  .map((el) => `${el.tagName.toLowerCase()}.${[...el.classList].join(".")}`)"""

DEVICES = {"desktop": DESKTOP, "phone": PHONE}
SCHEMES = ("light", "dark")


def _index(page: Page) -> None:
    expect(page.get_by_role("heading", level=1)).to_have_text("Show boards")
    # Other tests may add boards (the admin test does): the seeded five must all be there.
    for show in ("Partner Track", "Severance", "The Bear", "Succession", "Mindhunter"):
        expect(page.locator(".board-card").filter(has_text=show).first).to_be_visible()
    expect(page.get_by_role("link", name="Partner Track", exact=True)).to_be_visible()


def _board(page: Page) -> None:
    expect(page.get_by_role("heading", level=1)).to_have_text("Partner Track")
    expect(page.get_by_role("link", name=SEASON_TWO_THREAD, exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="New thread")).to_be_visible()


def _thread(page: Page) -> None:
    expect(page.get_by_role("heading", level=1)).to_have_text(SEASON_TWO_THREAD)
    expect(page.locator("article.post")).to_have_count(10)
    expect(page.locator("article.post").first).to_contain_text("ingrid_stan")


def _new_thread(page: Page) -> None:
    expect(page.get_by_role("heading", level=1)).to_have_text("Start a thread in Partner Track")
    expect(page.get_by_label("Title")).to_be_visible()
    expect(page.get_by_label("Message")).to_be_visible()
    expect(page.get_by_role("navigation", name="Account")).to_contain_text("demo")


# name -> (path, or None for the demo thread; log in as demo?; what must be on screen)
SCREENS: dict[str, tuple[str | None, bool, Callable[[Page], None]]] = {
    "board-index": ("/", False, _index),
    "board-partner-track": ("/b/partner-track", False, _board),
    "thread-season-2": (None, False, _thread),
    "new-thread-form": ("/b/partner-track/new", True, _new_thread),
}


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("device", list(DEVICES))
@pytest.mark.parametrize("screen", list(SCREENS))
def test_screen(
    screen: str,
    device: str,
    scheme: str,
    new_page: PageFactory,
    demo_login_state: dict[str, Any],
    season_two_path: str,
) -> None:
    path, logged_in, check = SCREENS[screen]
    options: dict[str, Any] = {"viewport": DEVICES[device], "color_scheme": scheme}
    if logged_in:
        options["storage_state"] = demo_login_state
    page = new_page(**options)
    response = page.goto(path or season_two_path)
    assert response is not None and response.ok, f"{screen}: HTTP {response and response.status}"

    check(page)
    expect(page.get_by_role("heading", level=1)).to_be_in_viewport()
    # The screenshot shows what its name says.
    assert page.evaluate(f"matchMedia('(prefers-color-scheme: {scheme})').matches")
    sizes = page.evaluate(
        "({scroll: document.documentElement.scrollWidth, inner: window.innerWidth})"
    )
    assert sizes["scroll"] <= sizes["inner"] + 1, (
        f"{screen} scrolls sideways on {device}: the page is {sizes['scroll']}px wide "
        f"in a {sizes['inner']}px window; too wide: {page.evaluate(TOO_WIDE)}"
    )
    path_saved = screenshot(page, f"{screen}-{device}-{scheme}")
    assert path_saved.stat().st_size > 1_000
