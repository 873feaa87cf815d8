"""Quotes and @mentions in Chromium (static/js/quoting.js): the Quote button puts the quote
into the reply box at the cursor without losing typed text, a text selection gets its own
Quote button (and never copies a spoiler the reader hasn't reached, nor a hidden post's text,
and keeps links and @mentions), and the @ autocomplete is a combobox the keyboard drives, on
the reply, new-thread and edit forms. Screenshots: test-artifacts/screenshots/quoting-*.png.

Each test registers its own member and starts its own thread (the server is shared).
"""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from forum.platform import demo
from tests.e2e.conftest import (
    DEMO_USER,
    PageFactory,
    log_in,
    register,
    screenshot,
    start_thread,
    unique_name,
)
from tests.e2e.test_accessibility import BLOCKING, describe

pytestmark = pytest.mark.browser

PASSWORD = "quote me on that please"
BOARD = "partner-track"


def member_with_thread(new_page: PageFactory, body: str) -> tuple[Page, str]:
    page = new_page()
    name = unique_name("quoter")
    register(page, name, PASSWORD)
    start_thread(page, BOARD, f"Quotes by {name}", body)
    return page, name


def reply_box(page: Page) -> object:
    return page.locator("#reply textarea[name=body]")


def test_quote_button_inserts_at_the_cursor_and_the_reply_posts(new_page: PageFactory) -> None:
    page, name = member_with_thread(new_page, "The goats were the best part of the finale.")
    opener = page.locator("article.post").first
    post_id = (opener.get_attribute("id") or "").removeprefix("post-")
    box = page.locator("#reply textarea[name=body]")
    box.fill("I typed this first.")

    opener.locator("a.quote-link").click()

    expected = (
        f"I typed this first.\n\n> [@{name} said](/p/{post_id}):\n>\n"
        "> The goats were the best part of the finale.\n\n"
    )
    expect(box).to_have_value(expected)
    expect(box).to_be_focused()
    # The cursor is after the quote: what is typed next is the answer, not part of the quote.
    box.press_sequentially("Agreed.")
    expect(box).to_have_value(expected + "Agreed.")

    page.get_by_role("button", name="Post reply").click()
    reply = page.locator("article.post").last
    expect(reply.locator("blockquote")).to_contain_text("The goats were the best part")
    expect(reply.locator(f'blockquote a[href="/p/{post_id}"]')).to_have_text(f"@{name} said")
    expect(reply.locator(".post-body")).to_contain_text("Agreed.")


def test_a_selection_is_quoted_and_unreached_spoilers_are_not_copied(
    new_page: PageFactory,
) -> None:
    page, name = member_with_thread(
        new_page,
        "Plain words here. Then >!S9E9: the twist nobody saw!< and >!a plain secret!< end.",
    )
    body = page.locator("article.post").first.locator(".post-body")
    # S9E9 is beyond everyone: the page itself doesn't hold its text.
    expect(body).not_to_contain_text("the twist nobody saw")
    body.evaluate(
        """(element) => {
            const range = document.createRange();
            range.selectNodeContents(element);
            const selection = window.getSelection();
            selection.removeAllRanges();
            selection.addRange(range);
        }"""
    )
    button = page.get_by_role("button", name="Quote the selected text")
    expect(button).to_be_visible()
    screenshot(page, "quoting-selection-desktop-light")

    button.click()

    box = page.locator("#reply textarea[name=body]")
    value = box.input_value()
    assert value.startswith(f"> [@{name} said](/p/"), value
    assert "> Plain words here." in value
    assert "the twist nobody saw" not in value
    assert ">!S9E9: (spoiler not copied: you haven't watched it yet)!<" in value
    assert ">!a plain secret!<" in value  # a spoiler still, for the reply's readers
    expect(button).to_be_hidden()
    expect(box).to_be_focused()


def test_mention_autocomplete_is_a_keyboard_combobox(new_page: PageFactory) -> None:
    page, _name = member_with_thread(new_page, "Who else watched it?")
    box = page.locator("#reply textarea[name=body]")
    expect(box).to_have_attribute("role", "combobox")
    expect(box).to_have_attribute("aria-expanded", "false")

    box.press_sequentially("Thanks @DEM", delay=40)
    listbox = page.get_by_role("listbox", name="Members")
    expect(listbox).to_be_visible()
    expect(box).to_have_attribute("aria-expanded", "true")
    assert box.get_attribute("aria-controls") == listbox.get_attribute("id")
    demo = listbox.get_by_role("option", name=f"@{DEMO_USER}", exact=True)
    expect(demo).to_be_visible()
    expect(listbox.get_by_role("option").first).to_have_attribute("aria-selected", "true")
    screenshot(page, "quoting-mentions-desktop-light")
    violations = Axe().run(page).response["violations"]
    blocking = [v for v in violations if v.get("impact") in BLOCKING]
    assert not blocking, describe(blocking)

    # Arrow to the demo member, whichever place the list gives it.
    options = listbox.get_by_role("option")
    for _ in range(options.all_inner_texts().index(f"@{DEMO_USER}")):
        box.press("ArrowDown")
    expect(demo).to_have_attribute("aria-selected", "true")
    assert box.get_attribute("aria-activedescendant") == demo.get_attribute("id")
    box.press("Enter")
    expect(box).to_have_value(f"Thanks @{DEMO_USER} ")
    expect(listbox).to_be_hidden()
    expect(box).to_have_attribute("aria-expanded", "false")

    # Escape closes the list and keeps the text; Enter is a new line again.
    box.press_sequentially("and @de", delay=40)
    expect(listbox).to_be_visible()
    box.press("Escape")
    expect(listbox).to_be_hidden()
    box.press("Enter")
    expect(box).to_have_value(f"Thanks @{DEMO_USER} and @de\n")

    # Posted, the mention links to the profile.
    box.press_sequentially("Tab picks too: @dem", delay=40)
    expect(demo).to_be_visible()
    box.press("Tab")
    expect(box).to_have_value(f"Thanks @{DEMO_USER} and @de\nTab picks too: @{DEMO_USER} ")
    page.get_by_role("button", name="Post reply").click()
    mention = page.locator("article.post").last.locator("a.mention").first
    expect(mention).to_have_attribute("href", f"/u/{DEMO_USER}")
    screenshot(page, "quoting-posted-mention-desktop-light")


def test_the_new_thread_form_has_the_autocomplete(new_page: PageFactory) -> None:
    page = new_page(color_scheme="dark")
    register(page, unique_name("starter"), PASSWORD)
    page.goto(f"/b/{BOARD}/new")
    box = page.get_by_label("Message")

    box.press_sequentially("Hello @dem", delay=40)

    expect(page.get_by_role("listbox", name="Members")).to_be_visible()
    screenshot(page, "quoting-mentions-new-thread-desktop-dark")


SELECT_CONTENTS = """(element) => {
    const range = document.createRange();
    range.selectNodeContents(element);
    const selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
}"""


def test_a_hidden_post_offers_no_quote_even_to_its_moderators(new_page: PageFactory) -> None:
    page, _name = member_with_thread(new_page, "Opening words anyone may quote.")
    thread_url = page.url
    reply_box(page).fill("Hidden words for moderators only.")
    page.get_by_role("button", name="Post reply").click()
    expect(page.locator("article.post")).to_have_count(2)

    moderator = new_page()
    log_in(moderator, "mod_maria", demo.DEMO_PASSWORD)
    moderator.goto(thread_url)
    moderator.locator("article.post").nth(1).get_by_role("link", name="Hide…").click()
    moderator.get_by_label("Reason").fill("Off topic")
    moderator.get_by_role("button", name="Hide post").click()
    moderator.goto(thread_url)
    opener, hidden = (
        moderator.locator("article.post").first,
        moderator.locator("article.post").nth(1),
    )
    hidden_body = hidden.locator(".post-body.is-hidden-text")
    expect(hidden_body).to_contain_text("Hidden words for moderators only.")
    expect(hidden.locator("a.quote-link")).to_have_count(0)
    expect(opener.locator("a.quote-link")).to_have_count(1)
    # Even with a Quote link on it (a page from before the post was hidden), the selection
    # quote leaves the hidden text alone.
    hidden.evaluate(
        """(article) => {
            const link = document.createElement("a");
            link.className = "quote-link";
            link.dataset.quote = article.id.replace("post-", "");
            link.href = `/p/${link.dataset.quote}/quote`;
            link.textContent = "Quote";
            article.append(link);
        }"""
    )
    button = moderator.get_by_role("button", name="Quote the selected text")
    opener.locator(".post-body").evaluate(SELECT_CONTENTS)
    expect(button).to_be_visible()

    hidden_body.evaluate(SELECT_CONTENTS)

    expect(button).to_be_hidden()
    expect(reply_box(moderator)).to_have_value("")


def test_a_selection_keeps_its_links_and_mentions(new_page: PageFactory) -> None:
    page, _name = member_with_thread(
        new_page,
        f"See [the recap](https://example.org/recap) and [the board](/b/{BOARD}), "
        f"ask @{DEMO_USER}, or [mail me](mailto:fan@example.org).",
    )
    body = page.locator("article.post").first.locator(".post-body")
    expect(body.locator("a.mention")).to_have_text(f"@{DEMO_USER}")
    # No post makes one (markup drops it), but a script address must never be copied as one.
    body.locator("p").evaluate(
        """(paragraph) => {
            const link = document.createElement("a");
            link.setAttribute("href", "javascript:alert(1)");
            link.textContent = "click here";
            paragraph.append(" Or ", link, ".");
        }"""
    )
    button = page.get_by_role("button", name="Quote the selected text")
    box = reply_box(page)

    body.evaluate(SELECT_CONTENTS)
    button.click()

    value = box.input_value()
    assert "[the recap](https://example.org/recap)" in value, value
    assert f"[the board](/b/{BOARD})" in value, value
    assert f"ask @{DEMO_USER}, or mail me." in value, value
    assert "Or click here." in value, value
    assert "mailto:" not in value and "javascript:" not in value, value

    # A selection inside one link is still that link.
    box.fill("")
    body.get_by_role("link", name="the recap").evaluate(SELECT_CONTENTS)
    button.click()
    assert "> [the recap](https://example.org/recap)\n" in box.input_value(), box.input_value()


def test_the_edit_page_has_the_autocomplete(new_page: PageFactory) -> None:
    page, _name = member_with_thread(new_page, "Words to edit later.")
    page.locator("article.post").first.get_by_role("link", name="Edit").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Edit post")
    box = page.locator(".editor textarea[name=body]")
    box.press("End")

    box.press_sequentially(" Thanks @dem", delay=40)

    listbox = page.get_by_role("listbox", name="Members")
    expect(listbox).to_be_visible()
    expect(listbox.get_by_role("option", name=f"@{DEMO_USER}", exact=True)).to_be_visible()
    box.press("Enter")
    expect(box).to_have_value(f"Words to edit later. Thanks @{DEMO_USER} ")
