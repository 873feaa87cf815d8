"""What a fan does, through the real pages: sign up, start a thread, reply, edit, delete, log out
and back in; what a visitor reads; and what the forms say when something is wrong."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from playwright.sync_api import Dialog, Page, expect

from tests.e2e.conftest import (
    SEASON_TWO_THREAD,
    PageFactory,
    click_and_reload,
    log_in,
    register,
    start_thread,
    unique_name,
)

pytestmark = pytest.mark.browser

PASSWORD = "e2e journey password"


def _accept(dialog: Dialog) -> None:
    dialog.accept()


def test_fan_signs_up_posts_edits_deletes_and_comes_back(page: Page) -> None:
    name = unique_name("ingrid")
    register(page, name, PASSWORD)
    expect(page.get_by_role("navigation", name="Account")).to_contain_text(name)

    # Start a thread from the board's "New thread" button.
    page.get_by_role("link", name="Partner Track", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Partner Track")
    page.get_by_role("link", name="New thread").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Start a thread in Partner Track")
    title = f"Season 2 wishlist {name}"
    page.get_by_label("Title").fill(title)
    page.get_by_label("Message").fill("Ingrid deserves a **bold** comeback.")

    # Preview first: rendered on the server, nothing posted yet.
    click_and_reload(page, page.get_by_role("button", name="Preview"))
    preview = page.locator(".preview-body")
    expect(preview.locator("strong")).to_have_text("bold")
    expect(preview).not_to_contain_text("**")
    expect(page.get_by_role("heading", level=1)).to_have_text("Start a thread in Partner Track")
    expect(page.get_by_label("Title")).to_have_value(title)
    expect(page.get_by_label("Message")).to_have_value("Ingrid deserves a **bold** comeback.")

    page.get_by_role("button", name="Post thread").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    opener = page.locator("article.post").first
    expect(opener.locator(".post-body strong")).to_have_text("bold")
    expect(opener.locator(".post-body")).not_to_contain_text("**")
    expect(opener).to_contain_text(name)
    thread_url = page.url

    # Reply.
    page.get_by_label("Your reply").fill("First reply: _Rachel_ needs more scenes.")
    page.get_by_role("button", name="Post reply").click()
    reply = page.locator("article.post", has_text="First reply")
    expect(reply).to_have_count(1)
    expect(reply.locator(".post-body em")).to_have_text("Rachel")
    expect(reply.locator(".post-number")).to_have_text("#2")
    expect(page.locator(".thread-meta")).to_contain_text("1 reply")

    # Edit the reply.
    reply.get_by_role("link", name="Edit").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Edit post #2")
    body = page.get_by_label("Post", exact=True)
    expect(body).to_have_value("First reply: _Rachel_ needs more scenes.")
    body.fill("Edited reply: Rachel needs **her own spin-off**.")
    page.get_by_role("button", name="Save changes").click()
    edited = page.locator("article.post", has_text="Edited reply")
    expect(edited).to_have_count(1)
    expect(edited.locator(".edited")).to_have_text("edited")
    expect(edited.locator(".post-body strong")).to_have_text("her own spin-off")
    expect(page.get_by_text("First reply")).to_have_count(0)
    expect(opener.locator(".edited")).to_have_count(0)

    # Delete it; the app asks first (window.confirm), and a removed stub stays in its place.
    page.once("dialog", _accept)
    edited.get_by_role("button", name="Delete").click()
    stub = page.locator("article.post.is-deleted")
    expect(stub).to_have_count(1)
    expect(stub.locator(".post-removed")).to_have_text("This post was deleted by its author.")
    expect(stub.locator(".post-number")).to_have_text("#2")
    expect(page.get_by_text("Edited reply")).to_have_count(0)
    expect(stub.get_by_role("link", name="Edit")).to_have_count(0)

    # Log out, then back in with "Remember me".
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("status")).to_contain_text("You're logged out.")
    account = page.get_by_role("navigation", name="Account")
    expect(account.get_by_role("link", name="Log in")).to_be_visible()
    expect(account).not_to_contain_text(name)

    log_in(page, name, PASSWORD, remember=True)
    cookies = {c["name"]: c for c in page.context.cookies()}
    assert "remember_token" in cookies, f"no remember-me cookie, got {sorted(cookies)}"
    assert cookies["remember_token"]["expires"] > time.time() + 7 * 86_400
    assert cookies["remember_token"]["httpOnly"]

    # The browser session ends (its session cookie is gone): the fan is still logged in.
    page.context.clear_cookies(name="session")
    page.goto(thread_url)
    expect(page.get_by_role("navigation", name="Account")).to_contain_text(name)
    expect(page.get_by_label("Your reply")).to_be_visible()


def test_visitor_reads_index_board_and_thread(page: Page) -> None:
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Show boards")
    boards = page.locator(".board-card")
    expect(boards.first).to_contain_text("Partner Track")
    for show in ("Partner Track", "Severance", "The Bear", "Succession", "Mindhunter"):
        expect(page.get_by_role("link", name=show, exact=True)).to_be_visible()

    page.get_by_role("link", name="Partner Track", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Partner Track")
    expect(page.locator(".board-meta")).to_contain_text("cancelled")
    expect(page.locator(".facts")).to_contain_text("Georgia Lee")

    page.get_by_role("link", name=SEASON_TWO_THREAD, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(SEASON_TWO_THREAD)
    posts = page.locator("article.post")
    expect(posts.first).to_contain_text("ingrid_stan")
    expect(posts.first.locator(".post-body strong")).to_have_text("Top 10")
    expect(page.locator(".post-body blockquote").first).to_contain_text(
        "it was never billed as a limited series"
    )
    # Visitors read everything but get no forms: they're invited to log in instead.
    expect(page.locator(".reply-section")).to_contain_text("to join the conversation")
    expect(page.get_by_role("textbox", name="Your reply")).to_have_count(0)
    expect(page.get_by_role("link", name="Edit")).to_have_count(0)
    expect(page.get_by_role("navigation", name="Breadcrumb")).to_contain_text("Partner Track")


def test_visitors_see_new_replies_at_once_and_never_someone_elses_page(
    page: Page, new_page: PageFactory
) -> None:
    """Anonymous pages are cached: a reply must still show on the visitor's next load, and a
    member must never be served the visitors' copy (nor visitors the member's)."""
    member = new_page()
    name = unique_name("chef")
    register(member, name, PASSWORD)
    thread_url = start_thread(member, "the-bear", f"Yes, chef {name}", "Which episode first?")

    visitor = page
    account = visitor.get_by_role("navigation", name="Account")
    visitor.goto(thread_url)
    expect(visitor.locator("article.post")).to_have_count(1)
    visitor.reload()  # served from the cache or revalidated: still the same, complete page
    expect(visitor.locator("article.post")).to_have_count(1)
    expect(account.get_by_role("link", name="Log in")).to_be_visible()

    member.goto(thread_url)
    expect(member.get_by_role("navigation", name="Account")).to_contain_text(name)
    member.get_by_label("Your reply").fill("The one-take kitchen episode, no contest.")
    member.get_by_role("button", name="Post reply").click()
    expect(member.locator("article.post")).to_have_count(2)

    visitor.reload()
    expect(visitor.locator("article.post")).to_have_count(2)
    expect(visitor.locator("article.post").last).to_contain_text("one-take kitchen episode")
    expect(account).not_to_contain_text(name)
    expect(visitor.get_by_role("link", name="Edit")).to_have_count(0)
    visitor.goto("/")
    expect(visitor.locator(".board-card", has_text="The Bear")).to_contain_text(name)


def test_empty_reply_shows_an_error(
    new_page: PageFactory, demo_login_state: dict[str, Any], season_two_path: str
) -> None:
    page = new_page(storage_state=demo_login_state)
    page.goto(season_two_path)
    posts_before = page.locator("article.post").count()
    page.get_by_role("button", name="Post reply").click()
    alert = page.get_by_role("alert")
    expect(alert).to_have_text("Write something first.")
    reply = page.get_by_label("Your reply")
    expect(reply).to_have_attribute("aria-invalid", "true")
    expect(reply).to_have_attribute("aria-describedby", "body-hint body-error")
    expect(page.locator("article.post")).to_have_count(posts_before)


def test_too_short_title_keeps_the_typed_body(
    new_page: PageFactory, demo_login_state: dict[str, Any]
) -> None:
    page = new_page(storage_state=demo_login_state)
    page.goto("/b/partner-track/new")
    body = "A long, careful opening post\n\nthat nobody wants to **type twice**."
    page.get_by_label("Title").fill("S2")
    page.get_by_label("Message").fill(body)
    page.get_by_role("button", name="Post thread").click()
    expect(page.get_by_role("alert")).to_have_text("Titles are 3 to 150 characters long.")
    expect(page.get_by_label("Title")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Title")).to_have_value("S2")
    expect(page.get_by_label("Message")).to_have_value(body)
    expect(page.get_by_role("heading", level=1)).to_have_text("Start a thread in Partner Track")


def test_unknown_board_is_a_friendly_404(page: Page) -> None:
    response = page.goto("/b/no-such-show")
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("We couldn't find that page")
    expect(page.locator("main")).to_contain_text("isn't here")
    expect(page.locator("main")).not_to_contain_text("Traceback")
    page.get_by_role("link", name="Back to the show boards").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Show boards")
    for missing in ("/t/987654321", "/u/nobody_by_that_name", "/p/987654321"):
        response = page.goto(missing)
        assert response is not None and response.status == 404, missing
        expect(page.get_by_role("heading", level=1)).to_have_text("We couldn't find that page")
        expect(page.get_by_role("link", name="Back to the show boards")).to_be_visible()


AFTER_RENDERING = "new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))"


def test_member_opening_a_thread_starts_at_the_first_post(
    new_page: PageFactory, demo_login_state: dict[str, Any], season_two_path: str
) -> None:
    """Regression: the reply box once carried autofocus="None", which scrolled members down to
    the reply form on every thread."""
    page = new_page(storage_state=demo_login_state)
    page.goto(season_two_path)
    page.evaluate(AFTER_RENDERING)  # autofocus is applied on a rendering step after load
    expect(page.get_by_label("Your reply")).not_to_be_focused(timeout=1_000)
    expect(page.get_by_role("heading", level=1)).to_be_in_viewport(timeout=1_000)
    expect(page.locator("article.post").first).to_be_in_viewport(timeout=1_000)


def test_live_preview_renders_while_typing(
    new_page: PageFactory, demo_login_state: dict[str, Any], season_two_path: str
) -> None:
    page = new_page(storage_state=demo_login_state)
    page.goto(season_two_path)
    posts_before = page.locator("article.post").count()
    preview = page.locator(".reply-form .preview-body")
    expect(preview).to_be_empty()

    page.get_by_label("Your reply").press_sequentially("**hi**")
    expect(preview.locator("strong")).to_have_text("hi")
    expect(preview).not_to_contain_text("**")
    expect(page.locator(".reply-form .preview")).not_to_have_class(re.compile(r"\bis-empty\b"))
    # Nothing was sent: same page, same posts, the text still in the box.
    assert page.url.endswith(season_two_path)
    expect(page.locator("article.post")).to_have_count(posts_before)
    expect(page.get_by_label("Your reply")).to_have_value("**hi**")
