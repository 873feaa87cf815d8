"""Two members hold a conversation in two browsers without reloading (issue 13): a reply by one
shows up on the other's open thread page as "1 new reply" within seconds, a click adds it in
place, and the half-typed reply in the other's box is untouched; a mention rings the bell.
Screenshots of the "new replies" bar on a desktop and a phone, light and dark.

These run on a server of their own whose jobs run at once (FORUM_JOBS_IMMEDIATE: the shared
e2e server queues them for a worker nobody runs), so a mention's notification is written by
the time the reply's redirect comes back.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect
from werkzeug.serving import make_server

from forum import create_app
from forum.db import db_session
from forum.platform import demo
from forum.staff import showfile
from tests.conftest import migrated_database_url
from tests.e2e.conftest import (
    DESKTOP,
    PHONE,
    SHOW_FILE,
    register,
    screenshot,
    start_thread,
    unique_name,
)

pytestmark = pytest.mark.browser

PASSWORD = "conversation-pass-1"
BLOCKING = {"serious", "critical"}
# The page polls every 5 s and the server's memo is at most 1.5 s old: the bar shows within
# 7 s of a reply; the rest is margin for a busy machine.
LIVE_WAIT_MS = 20_000


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = migrated_database_url(tmp_path_factory.getbasetemp(), "e2e-conversation")
    jobs = tmp_path_factory.mktemp("conversation-jobs") / "jobs.sqlite3"
    app = create_app(
        {
            "DATABASE_URL": url,
            "SECRET_KEY": "e2e-conversation",
            "RATE_LIMITS": "off",
            "JOBS_IMMEDIATE": "on",
            "JOBS_PATH": str(jobs),
        }
    )
    with app.app_context():
        session = db_session()
        showfile.upsert(session, showfile.parse(SHOW_FILE.read_text(encoding="utf-8")))
        demo.seed_demo(session)
        session.commit()
    served = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=served.serve_forever, name="e2e-live", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{served.server_port}"
    finally:
        served.shutdown()
        thread.join(timeout=10)
        app.extensions["forum.engine"].dispose()


@pytest.fixture
def open_page(browser: Browser, server: str) -> Iterator[object]:
    contexts = []

    def factory(**options: object) -> Page:
        options.setdefault("viewport", DESKTOP)
        context = browser.new_context(base_url=server, **options)  # type: ignore[arg-type]
        contexts.append(context)
        return context.new_page()

    yield factory
    for context in contexts:
        context.close()


def _member(open_page: object, prefix: str, **options: object) -> tuple[Page, str]:
    page: Page = open_page(**options)  # type: ignore[operator]
    name = unique_name(prefix)
    register(page, name, PASSWORD)
    return page, name


def _reply(page: Page, text: str) -> None:
    page.locator("#reply textarea[name=body]").fill(text)
    page.get_by_role("button", name="Post reply").click()
    expect(page.locator("article.post").last).to_contain_text(text)


def _axe_blocking(page: Page) -> list[str]:
    """axe-core's serious and critical findings on the page as it is now."""
    violations = Axe().run(page).response["violations"]
    return [
        f"{v['id']}: {v['help']} {[n['target'] for n in v['nodes'][:3]]}"
        for v in violations
        if v.get("impact") in BLOCKING
    ]


def _bell_count(page: Page) -> int:
    badge = page.locator("a.bell .count-badge")
    if badge.count() == 0:
        return 0
    return int(badge.inner_text().split()[0].rstrip("+"))


def test_two_members_see_each_others_replies_live(open_page: object) -> None:
    ann, ann_name = _member(open_page, "ann")
    ben, ben_name = _member(open_page, "ben")
    thread_url = start_thread(ann, "partner-track", "Live finale night", "Who else is watching?")
    ben.goto(thread_url)
    bar = ben.locator(".live-bar")
    expect(bar).to_be_hidden()
    # Ben starts a reply and is still typing when Ann's reply comes in.
    box = ben.locator("#reply textarea[name=body]")
    box.click()
    box.type("I think the partner vote goes")
    _reply(ann, "ANN-LIVE-REPLY: the vote is rigged")

    button = ben.get_by_role("button", name="1 new reply")
    expect(button).to_be_visible(timeout=LIVE_WAIT_MS)
    # Nothing moved under his fingers: the text and the focus are where he left them.
    assert box.input_value() == "I think the partner vote goes"
    assert ben.evaluate("document.activeElement.name") == "body"
    box.type(" to Jason")
    assert ben.locator("article.post").count() == 1  # not added until asked

    button.click()
    new_post = ben.locator("article.post").last
    expect(new_post).to_contain_text("ANN-LIVE-REPLY")
    expect(new_post).to_contain_text(ann_name)
    expect(bar).to_be_hidden()
    # The button he pressed is gone: focus went on to what it showed.
    assert ben.evaluate("document.activeElement.matches('article.post')")
    assert box.input_value() == "I think the partner vote goes to Jason"
    expect(ben.locator(".thread-meta")).to_contain_text("1 reply")
    assert ben.url == thread_url  # no reload

    # Ben finishes his reply, mentioning Ann: her bell rings (after a reload).
    before = _bell_count(ann)
    box.fill(f"@{ann_name} I think the partner vote goes to Jason")
    ben.get_by_role("button", name="Post reply").click()
    expect(ben.locator("article.post").last).to_contain_text("goes to Jason")
    # Ann's open page learns of it too.
    expect(ann.get_by_role("button", name="1 new reply")).to_be_visible(timeout=LIVE_WAIT_MS)
    ann.reload()
    assert _bell_count(ann) > before, "the mention did not reach Ann's bell"
    del ben_name


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_the_new_replies_bar_screenshots(open_page: object, device: str, scheme: str) -> None:
    viewport = DESKTOP if device == "desktop" else PHONE
    author, _ = _member(open_page, "cat")
    reader, _ = _member(open_page, "dan", viewport=viewport, color_scheme=scheme)
    thread_url = start_thread(author, "partner-track", "Bar screenshot", "Opening words")
    _reply(author, "First reply")
    reader.goto(thread_url)
    _reply(author, "Second reply")
    _reply(author, "Third reply")
    button = reader.get_by_role("button", name="2 new replies")
    expect(button).to_be_visible(timeout=LIVE_WAIT_MS)
    # The region announces politely and is not a second status on the page.
    region = reader.locator(".live-region")
    assert region.get_attribute("aria-live") == "polite"
    assert region.get_attribute("role") is None
    # The bar slides in: wait until it has (a screenshot mid-way shows it faded).
    # (evaluate, not wait_for_function: the page's CSP forbids the eval that one uses).
    reader.evaluate("() => Promise.all(document.getAnimations().map((a) => a.finished))")
    path: Path = screenshot(reader, f"live-bar-{device}-{scheme}")
    assert path.exists()
    assert _axe_blocking(reader) == []
    # On a phone, nothing sticks out sideways.
    wide = reader.evaluate("document.documentElement.scrollWidth > window.innerWidth + 1")
    assert not wide
    button.click()
    expect(reader.locator("article.post")).to_have_count(4)
    # Focus went to the first new post (outlined), which scrolled to it; the full-page
    # capture is taken from the top, as the page is read.
    assert reader.evaluate("document.activeElement.dataset.number") == "3"
    reader.evaluate("window.scrollTo(0, 0)")
    screenshot(reader, f"live-bar-after-{device}-{scheme}")
    assert _axe_blocking(reader) == []
