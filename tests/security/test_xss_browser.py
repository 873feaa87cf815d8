"""A sample of the hostile-input corpus in a real chromium: posted to a live server, then the
pages opened. Nothing may open a JavaScript dialog, and a DOM scan of every `.post-body` must
find no script element, event handler attribute or javascript:/vbscript:/data: URL.

The Content-Security-Policy would stop inline script even if the sanitizer let some through,
so pages are opened with CSP bypassed: what is under test is the sanitizer, as any browser
(and any future CSP) would meet it. The live preview is exercised through the page's own
JavaScript, which inserts the server's HTML with innerHTML: parsing differences there are
exactly what mutation XSS feeds on.

Only the live server is contacted: every other request (images on ok.example and so on) is
aborted, so nothing leaves the machine and no page waits on the network.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Browser, BrowserContext, Dialog, Page, Route
from werkzeug.serving import make_server

from forum import create_app
from forum.accounts.membership import create_user
from forum.db import db_session
from forum.models import Board
from tests.conftest import FAST_HASHING, PASSWORD, migrated_database_url
from tests.security.xss_corpus import CORPUS

pytestmark = pytest.mark.browser

SAMPLE = CORPUS[::4]  # about 40 inputs, spread over every family in the corpus
PREVIEWED = CORPUS[1::33]  # a handful through the live preview's innerHTML
AUTHOR = "xss_author"

# Everything in a post body that could run script, as "where: what" strings.
SCAN = """() => {
  const urlAttributes = new Set(["href", "src", "xlink:href", "action", "formaction", "srcset",
                                 "poster", "background", "data", "srcdoc", "lowsrc", "dynsrc"]);
  const dangerousTags = new Set(["script", "iframe", "frame", "object", "embed", "base", "form",
                                 "meta", "link", "style", "svg", "math", "template", "portal"]);
  const found = [];
  const bodies = document.querySelectorAll(".post-body");
  bodies.forEach((body, index) => {
    for (const el of body.querySelectorAll("*")) {
      const tag = el.tagName.toLowerCase();
      const where = `post-body #${index} <${tag}>`;
      if (dangerousTags.has(tag)) found.push(`${where}: element`);
      if (el.shadowRoot) found.push(`${where}: shadow root`);
      for (const attr of el.attributes) {
        const name = attr.name.toLowerCase();
        // Browsers ignore controls and spaces around, and tabs and newlines inside, a scheme.
        const value = attr.value.replace(/[\\u0000-\\u0020\\u007f-\\u009f]/g, "").toLowerCase();
        if (name.startsWith("on")) found.push(`${where}: ${name}="${attr.value}"`);
        if (name === "style") found.push(`${where}: style="${attr.value}"`);
        if (urlAttributes.has(name) && /^(javascript|vbscript|data):/.test(value)) {
          found.push(`${where}: ${name}="${attr.value}"`);
        }
      }
    }
  });
  return {bodies: bodies.length, found};
}"""


@dataclass(frozen=True)
class LiveForum:
    url: str
    board: str


@pytest.fixture(scope="module")
def live_forum(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveForum]:
    """The app on a real socket, on a fresh database of its own, with one member and board."""
    url = migrated_database_url(tmp_path_factory.getbasetemp(), "xssbrowser")
    app: Flask = create_app(
        {
            "DATABASE_URL": url,
            "SECRET_KEY": "xss-browser",
            "RATE_LIMITS": "off",
            "POSTS_PER_PAGE": 200,
            "THREADS_PER_PAGE": 200,
            **FAST_HASHING,
        }
    )
    with app.app_context():
        session = db_session()
        create_user(session, AUTHOR, "xss_author@example.org", PASSWORD)
        session.add(Board(slug="xss-lab", name="XSS Lab"))
        session.commit()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="xss-server", daemon=True)
    thread.start()
    try:
        yield LiveForum(f"http://127.0.0.1:{server.server_port}", "xss-lab")
    finally:
        server.shutdown()
        thread.join(timeout=10)
        app.extensions["forum.engine"].dispose()


@dataclass
class Watch:
    """The JavaScript dialogs a page opened (alert, confirm, prompt), with where."""

    dialogs: list[str]


@pytest.fixture
def context(browser: Browser, live_forum: LiveForum) -> Iterator[tuple[BrowserContext, Watch]]:
    context = browser.new_context(base_url=live_forum.url, bypass_csp=True)
    watch = Watch([])

    def local_only(route: Route) -> None:
        if route.request.url.startswith(live_forum.url):
            route.continue_()
        else:
            route.abort()

    context.route("**/*", local_only)

    def on_dialog(dialog: Dialog) -> None:
        watch.dialogs.append(
            f"{dialog.type}: {dialog.message!r} on {dialog.page.url}"
            if dialog.page
            else f"{dialog.type}: {dialog.message!r}"
        )
        dialog.dismiss()

    context.on("page", lambda page: page.on("dialog", on_dialog))
    yield context, watch
    context.close()


def log_in(page: Page) -> None:
    page.goto("/login")
    page.get_by_label("Username").fill(AUTHOR)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/$"))


def token_on(page: Page, path: str) -> str:
    html = page.request.get(path).text()
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def settle(page: Page) -> None:
    """Let handlers that fire after load (onerror of aborted images, autofocus, ontoggle) run:
    two animation frames and a task turn, then a short real window for error events."""
    page.wait_for_load_state("load")
    page.evaluate(
        "() => new Promise(r => requestAnimationFrame(() => "
        "requestAnimationFrame(() => setTimeout(r, 0))))"
    )
    page.wait_for_timeout(150)


def scan(page: Page) -> dict[str, Any]:
    return page.evaluate(SCAN)


def test_hostile_posts_stay_inert_in_chromium(
    context: tuple[BrowserContext, Watch], live_forum: LiveForum
) -> None:
    browser_context, watch = context
    page = browser_context.new_page()
    log_in(page)
    new = f"/b/{live_forum.board}/new"
    token = token_on(page, new)

    # Each sample as a thread's title and opening post, through the real form's endpoint.
    thread_urls = []
    for name, text in SAMPLE:
        title = text if 3 <= len(text.strip()) <= 150 else f"{text[:140]} ({name})"
        response = page.request.post(
            new, form={"csrf_token": token, "title": title, "body": text}, max_redirects=0
        )
        assert response.status == 302, f"{name}: HTTP {response.status}"
        thread_urls.append(response.headers["location"])
    # ... and all of them as replies in one thread, so one page holds every body.
    first = re.search(r"/t/(\d+)", thread_urls[0])
    assert first
    for name, text in SAMPLE:
        response = page.request.post(
            f"/t/{first.group(1)}/reply", form={"csrf_token": token, "body": text}, max_redirects=0
        )
        assert response.status == 302, f"reply {name}: HTTP {response.status}"

    found: list[str] = []
    for url in [thread_urls[0], *thread_urls[1::8], f"/b/{live_forum.board}", "/", f"/u/{AUTHOR}"]:
        page.goto(url)
        settle(page)
        result = scan(page)
        found += [f"{url}: {finding}" for finding in result["found"]]
        if url == thread_urls[0]:
            assert result["bodies"] >= len(SAMPLE) + 1, "the replies are not all on the page"

    print(
        f"XSS in chromium: {len(SAMPLE)} hostile inputs posted as titles, posts and "
        f"replies; {len(found)} DOM findings, {len(watch.dialogs)} dialogs"
    )
    assert watch.dialogs == [], f"JavaScript ran: {watch.dialogs}"
    assert found == [], f"live markup in post bodies: {found}"


def test_hostile_live_previews_stay_inert_in_chromium(
    context: tuple[BrowserContext, Watch], live_forum: LiveForum
) -> None:
    browser_context, watch = context
    page = browser_context.new_page()
    log_in(page)
    page.goto(f"/b/{live_forum.board}/new")
    box = page.get_by_label("Message")
    found: list[str] = []

    for name, text in PREVIEWED:
        with page.expect_response(lambda r: r.url.endswith("/preview")) as answer:
            box.fill(text)  # the page's script posts it to /preview and sets innerHTML
        assert answer.value.status == 200, name
        page.wait_for_function(
            "() => !document.querySelector('.preview').classList.contains('is-empty')"
        )
        settle(page)
        found += [f"{name}: {finding}" for finding in scan(page)["found"]]

    print(
        f"XSS in chromium's live preview: {len(PREVIEWED)} hostile inputs, "
        f"{len(found)} DOM findings, {len(watch.dialogs)} dialogs"
    )
    assert watch.dialogs == [], f"JavaScript ran: {watch.dialogs}"
    assert found == []


def test_the_scan_and_the_dialog_watch_can_fail(
    context: tuple[BrowserContext, Watch], live_forum: LiveForum
) -> None:
    """Guards the two checks above: planted live markup is found, and an alert is caught."""
    browser_context, watch = context
    page = browser_context.new_page()
    page.goto("/")
    with page.expect_event("dialog"):
        page.evaluate("""() => {
            const body = document.createElement("div");
            body.className = "post-body";
            body.innerHTML = '<a href=" java\\tscript:x">x</a><img src=x onerror="alert(7)">';
            document.querySelector("main").append(body);
        }""")

    assert len(scan(page)["found"]) == 2
    assert watch.dialogs and "alert" in watch.dialogs[0]
