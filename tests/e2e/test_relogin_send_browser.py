"""Logged out while writing, logged in again, one click on Send posts (issue 11, defect 4), in a
real Chromium: the fan's draft travels through the login page (forum/views/drafts.py) and comes
back in a form that must carry the new session's token. tests/test_relogin_send.py covers the
same on the test client, with replies and the second-factor step.

The restored form is saved as a screenshot (test-artifacts/screenshots/relogin-restored-draft.png)
so a person can see what the fan sees.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import PageFactory, log_in, register, screenshot, unique_name

pytestmark = pytest.mark.browser

PASSWORD = "e2e relogin password"
TITLE = "Who sent the finale tape?"
BODY = "It was the producer & the intern <together>, trust me."


def test_one_send_posts_the_draft_after_logging_in_again(new_page: PageFactory) -> None:
    name = unique_name("relogin")
    phone = new_page()
    register(phone, name, PASSWORD)
    phone.goto("/b/partner-track/new")
    phone.get_by_label("Title").fill(TITLE)
    phone.get_by_label("Message").fill(BODY)

    # While the fan writes, their laptop signs every other session out.
    laptop = new_page()
    log_in(laptop, name, PASSWORD)
    laptop.goto("/settings/sessions")
    laptop.get_by_role("button", name="Sign out all other sessions").click()
    expect(laptop.get_by_role("status")).to_contain_text("Every other device is signed out.")

    phone.get_by_role("button", name="Post thread").click()
    expect(phone.get_by_role("status")).to_have_text(
        "You were logged out. Log in and your post will be waiting for you."
    )
    phone.get_by_label("Username").fill(name)
    phone.get_by_label("Password").fill(PASSWORD)
    phone.get_by_role("button", name="Log in").click()

    expect(phone.get_by_role("heading", level=1)).to_have_text("Almost there")
    expect(phone.get_by_role("navigation", name="Account")).to_contain_text(name)
    expect(phone.get_by_label("Title")).to_have_value(TITLE)
    expect(phone.get_by_label("Your text")).to_have_value(BODY)
    screenshot(phone, "relogin-restored-draft")

    phone.get_by_role("button", name="Send").click()

    expect(phone.get_by_role("heading", level=1)).to_have_text(TITLE)
    expect(phone.locator(".post-body").first).to_contain_text(BODY)
