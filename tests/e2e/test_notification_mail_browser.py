"""The notification email choices in a real browser: from the settings page to
/notifications/email, one radio group per kind (a fieldset read out with each choice), saved
with a flash, axe-clean. Screenshots desktop light and phone dark."""

from __future__ import annotations

from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from tests.e2e.conftest import DESKTOP, PHONE, PageFactory, register, screenshot, unique_name

pytestmark = pytest.mark.browser

PASSWORD = "mail me the finale"
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
def test_choose_what_is_mailed(
    new_page: PageFactory, scheme: str, viewport: dict[str, int], label: str
) -> None:
    page = new_page(color_scheme=scheme, viewport=viewport)
    register(page, unique_name("mailer"), PASSWORD)

    page.goto("/settings")
    page.get_by_role("link", name="Notification email").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Notification email")
    mentions = page.get_by_role("group", name="Someone mentions you")
    expect(mentions.get_by_role("radio", name="Immediately")).to_be_checked()
    watched = page.get_by_role("group", name="Replies in threads you watch")
    expect(watched.get_by_role("radio", name="In the daily digest")).to_be_checked()
    no_blocking_axe(page, f"email choices ({label})")
    screenshot(page, f"notification-email-choices-{label}")

    mentions.get_by_role("radio", name="Never").check()
    page.get_by_role("button", name="Save email choices").click()

    expect(page.get_by_role("status").first).to_contain_text("Notification email choices saved")
    mentions = page.get_by_role("group", name="Someone mentions you")
    expect(mentions.get_by_role("radio", name="Never")).to_be_checked()
