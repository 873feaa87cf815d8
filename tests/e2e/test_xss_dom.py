"""Hostile post bodies, sent through the real forms, must reach the DOM as inert text.

The Content-Security-Policy would block inline handlers even if the sanitizer let one through,
so these pages run with CSP bypassed: what's under test is forum/discussion/markup.py, the first
line of
defence, as every browser (and every future CSP tweak) would meet it. Two independent checks:
no JavaScript dialog ever opens, and no `.post-body` holds a script, an event handler or a
javascript:/data: URL.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Dialog, Page, expect

from tests.e2e.conftest import (
    PageFactory,
    click_and_reload,
    register,
    start_thread,
    unique_name,
)

pytestmark = pytest.mark.browser

HOSTILE = [
    "<img src=x onerror=alert(1)>",
    "[x](javascript:alert(1))",
    "<script>alert(1)</script>",
    "![a](javascript:alert(1))",
    "<svg onload=alert(1)>",
    # Variations, one paragraph each, in a single post to keep the test quick.
    "\n\n".join(
        [
            "[mixed case](JaVaScRiPt:alert(1))",
            "[spaced](  javascript:alert(1)  )",
            "[data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
            "![data image](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
            '<a href="javascript:alert(1)">raw link</a>',
            "<details open ontoggle=alert(1)>",
            "<javascript:alert(1)>",
            "[ref link][evil]\n\n[evil]: javascript:alert(1)",
        ]
    ),
]

# Every element inside a post body that can run script, as "what: where" strings.
SCAN = """() => {
  const urlAttributes = new Set(["href", "src", "xlink:href", "action", "formaction",
                                 "srcset", "poster", "background", "data", "srcdoc"]);
  const dangerousTags = new Set(["script", "iframe", "object", "embed", "frame", "base",
                                 "form", "meta", "link", "style", "svg", "math"]);
  const found = [];
  const bodies = document.querySelectorAll(".post-body");
  bodies.forEach((body, index) => {
    for (const el of body.querySelectorAll("*")) {
      const tag = el.tagName.toLowerCase();
      const where = `post-body #${index} <${tag}>`;
      if (dangerousTags.has(tag)) found.push(`${where}: element`);
      for (const attr of el.attributes) {
        const name = attr.name.toLowerCase();
        // Browsers ignore spaces and control characters around (and tabs inside) a scheme.
        const value = attr.value.replace(/[\\u0000-\\u0020]/g, "").toLowerCase();
        if (name.startsWith("on")) found.push(`${where}: ${name}="${attr.value}"`);
        if (urlAttributes.has(name) &&
            /^(javascript|data|vbscript):/.test(value)) {
          found.push(`${where}: ${name}="${attr.value}"`);
        }
      }
    }
  });
  return {bodies: bodies.length, found};
}"""


def assert_inert(page: Page, at_least: int) -> None:
    # Titles and names are outside the post bodies: nowhere on the page may script hide.
    expect(page.locator("script:not([src]), [onerror], [onload], [onclick]")).to_have_count(0)
    result: dict[str, Any] = page.evaluate(SCAN)
    assert result["bodies"] >= at_least, (
        f"expected at least {at_least} post bodies on {page.url}, found {result['bodies']}"
    )
    assert not result["found"], f"live markup in post bodies on {page.url}: {result['found']}"


def test_hostile_posts_render_inert(new_page: PageFactory) -> None:
    page = new_page(bypass_csp=True)
    dialogs: list[str] = []

    def record(dialog: Dialog) -> None:
        dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", record)
    name = unique_name("mallory")
    register(page, name, "e2e hostile password")

    # Out of Partner Track, so the screenshots there stay about the show.
    title = "<img src=x onerror=alert(1)> theories"
    thread_url = start_thread(page, "mindhunter", title, HOSTILE[0])
    for number, body in enumerate(HOSTILE[1:], start=2):
        page.get_by_label("Your reply").fill(body)
        page.get_by_role("button", name="Post reply").click()
        expect(page.locator("article.post .post-number").last).to_have_text(f"#{number}")

    response = page.goto(thread_url)
    assert response is not None
    # The second line of defence is still there, even though this page ignores it.
    assert "script-src 'self'" in response.headers.get("content-security-policy", "")
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    expect(page.locator("article.post")).to_have_count(len(HOSTILE))
    # Raw HTML is shown as the text that was typed, not dropped and not run.
    expect(page.locator("article.post").first.locator(".post-body")).to_contain_text(
        "<img src=x onerror=alert(1)>"
    )
    expect(page.locator("article.post").nth(2).locator(".post-body")).to_contain_text(
        "<script>alert(1)</script>"
    )
    assert_inert(page, at_least=len(HOSTILE))

    # The live preview (fetched and put in with innerHTML) and the server-side Preview button.
    everything = "\n\n".join(HOSTILE)
    preview = page.locator(".reply-form .preview-body")
    page.get_by_label("Your reply").fill(everything)
    expect(preview).to_contain_text("<svg onload=alert(1)>")
    assert_inert(page, at_least=len(HOSTILE) + 1)
    click_and_reload(page, page.get_by_role("button", name="Preview"))
    expect(page).to_have_url(re.compile(r"/reply$"))
    expect(preview).to_contain_text("<svg onload=alert(1)>")
    expect(page.get_by_label("Your reply")).to_have_value(everything)
    assert_inert(page, at_least=len(HOSTILE) + 1)

    # Where else the posts and title show up: the author's profile and the board.
    page.goto(f"/u/{name}")
    expect(page.get_by_role("heading", level=1)).to_have_text(name)
    assert_inert(page, at_least=len(HOSTILE))
    page.goto("/b/mindhunter")
    expect(page.get_by_role("link", name=title)).to_be_visible()
    assert_inert(page, at_least=0)
    page.goto("/")
    expect(page.locator(".board-card", has_text="Mindhunter")).to_contain_text(title)
    assert_inert(page, at_least=0)

    assert not dialogs, f"a hostile post ran script: {dialogs}"
