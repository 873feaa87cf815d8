"""What moderators and admins do, through the real pages: lock a thread while a fan is writing,
act on a report from the queue, and create a show board from the admin area."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from forum.platform import demo
from tests.e2e.conftest import PageFactory, log_in, register, screenshot, start_thread, unique_name

pytestmark = pytest.mark.browser

PASSWORD = "e2e moderation password"


def test_moderator_locks_a_thread_and_a_members_reply_is_refused(
    new_page: PageFactory,
) -> None:
    fan = new_page()
    name = unique_name("lockfan")
    register(fan, name, PASSWORD)
    thread_url = start_thread(fan, "severance", f"Goats theory {name}", "It's the goats.")
    fan.goto(thread_url)  # the reply form is open in the fan's tab

    moderator = new_page()
    log_in(moderator, "mod_maria", demo.DEMO_PASSWORD)
    moderator.goto(thread_url)
    tools = moderator.get_by_role("region", name="Moderator tools")
    tools.get_by_label("Reason (optional, shown in the moderation log)").fill("Cooling off")
    tools.get_by_role("button", name="Lock").click()
    expect(moderator.locator(".thread-meta .badge-locked")).to_have_text("locked")

    fan.get_by_label("Your reply").fill("But what about the goats in season 2?")
    fan.get_by_role("button", name="Post reply").click()
    expect(fan.get_by_role("alert")).to_contain_text("This thread is locked")
    expect(fan.locator("#kept-body")).to_have_value("But what about the goats in season 2?")
    screenshot(fan, "moderation-locked-reply-refused")

    log = new_page()
    log.goto("/mod/log")
    expect(log.locator("main")).to_contain_text("lock thread")
    expect(log.locator("main")).to_contain_text("Cooling off")


def test_member_reports_a_post_and_a_moderator_hides_it_from_the_queue(
    new_page: PageFactory,
) -> None:
    author = new_page()
    author_name = unique_name("spoiler")
    register(author, author_name, PASSWORD)
    title = f"Finale talk {author_name}"
    thread_url = start_thread(author, "the-bear", title, "Carmy leaves at the end!!!")

    reporter = new_page()
    register(reporter, unique_name("reporter"), PASSWORD)
    reporter.goto(thread_url)
    reporter.get_by_role("link", name="Report post #1").click()
    reporter.get_by_label("Unmarked spoiler").check()
    reporter.get_by_label("Anything the moderators should know? (optional)").fill(
        "Spoils the finale in the first line"
    )
    reporter.get_by_role("button", name="Send report").click()
    expect(reporter.get_by_role("status")).to_contain_text(re.compile("report", re.I))

    moderator = new_page()
    log_in(moderator, "mod_maria", demo.DEMO_PASSWORD)
    moderator.goto("/mod/reports")
    entry = moderator.locator("li, article, section").filter(has_text=title).last
    expect(entry).to_contain_text("Spoils the finale in the first line")
    entry.get_by_role("link", name="Hide the post…").click()
    moderator.get_by_label("Reason").fill("Unmarked finale spoiler")
    moderator.get_by_role("button", name="Hide post").click()
    screenshot(moderator, "moderation-report-queue-after-hide")

    reader = new_page()
    reader.goto(thread_url)
    expect(reader.locator("article.post").first).to_contain_text(
        "This post was removed by a moderator."
    )
    expect(reader.locator("main")).not_to_contain_text("Carmy leaves")

    reader.goto("/mod/log")
    expect(reader.locator("main")).to_contain_text("hide post")
    expect(reader.locator("main")).to_contain_text("Unmarked finale spoiler")
    screenshot(reader, "moderation-public-log")


def test_admin_creates_a_show_board_that_appears_on_the_index(page: Page) -> None:
    log_in(page, "admin", demo.DEMO_PASSWORD)
    slug = unique_name("show").replace("_", "-")
    page.goto("/admin")
    page.get_by_role("link", name=re.compile("New board")).click()
    page.get_by_label("Address").fill(slug)
    page.get_by_label("Name").fill(f"Younger {slug}")
    page.get_by_label("Network").fill("TV Land")
    page.get_by_label("Status").select_option("ended")
    page.get_by_role("button", name="Create board").click()

    page.goto("/")
    card = page.locator(".board-card").filter(has_text=f"Younger {slug}")
    expect(card).to_contain_text("TV Land")
    expect(card).to_contain_text("ended")
    card.get_by_role("link", name=f"Younger {slug}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Younger {slug}")
    screenshot(page, "admin-created-board")
