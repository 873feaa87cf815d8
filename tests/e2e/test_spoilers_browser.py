"""Spoiler protection as a fan meets it in Chromium: masked rows, the warning page, withheld
spoilers revealed in place (and, without JavaScript, on their own page), click-to-show
spoilers by mouse and keyboard, axe in light and dark, and screenshots to look at.

The demo member (watched up to S1E6) is only read with; a test that moves progress registers a
member of its own, because the live server's database is shared by the whole session.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Locator, Page, expect

from tests.e2e.conftest import (
    PHONE,
    SCREENSHOTS,
    SEASON_TWO_THREAD,
    PageFactory,
    register,
    screenshot,
    unique_name,
)
from tests.e2e.test_accessibility import BLOCKING, describe
from tests.e2e.test_screens import TOO_WIDE

pytestmark = pytest.mark.browser

BOARD = "/b/partner-track"
GUIDE = "/b/partner-track/episodes"
DESKTOP_TALL = {"width": 1280, "height": 900}
DEVICES = {"phone": PHONE, "desktop": DESKTOP_TALL}
SCHEMES = ("light", "dark")

# The spoilers the demo posts carry (forum/platform/demo.py).
WITHHELD_TEXT = "with Jeff"  # >!S1E10: with Jeff!< in the season-2 thread's first post
GENERIC_TEXT = "a straight answer to the question the finale leaves hanging"


def episode_title(number: int) -> str:
    return f"S1E{number} discussion: Episode {number}"


def masked_title(number: int, progress: str) -> str:
    return f"Episode thread for S1E{number} · you're at {progress}"


def visibility(locator: Locator) -> str:
    return str(locator.evaluate("(element) => getComputedStyle(element).visibility"))


def episode_thread_path(page: Page, number: int) -> str:
    """An episode's official thread, found the way a fan finds it: in the episode guide."""
    page.goto(GUIDE)
    link = page.get_by_role("link", name=f"Discussion of S1E{number}", exact=True)
    href = link.get_attribute("href")
    assert href, f"the guide has no thread for S1E{number}"
    return href


def demo_page(new_page: PageFactory, state: dict[str, Any], **options: Any) -> Page:
    """A page signed in as the demo member (progress S1E6), in a context of its own."""
    return new_page(storage_state=state, **options)


def generic_spoiler(page: Page) -> Locator:
    return page.locator("label.spoiler:not([data-episode])").filter(has_text=GENERIC_TEXT)


# ------------------------------------------------------------------------------ reading


def test_the_board_masks_titles_past_the_demo_members_progress(
    new_page: PageFactory, demo_login_state: dict[str, Any]
) -> None:
    page = demo_page(new_page, demo_login_state)
    page.goto(BOARD)
    for number in range(1, 7):
        expect(page.get_by_role("link", name=episode_title(number), exact=True)).to_be_visible()
    for number in range(7, 11):
        row = page.locator(".thread-row.is-masked").filter(
            has=page.get_by_role("link", name=masked_title(number, "S1E6"), exact=True)
        )
        expect(row).to_have_count(1)
        expect(row.locator(".badge-spoiler")).to_have_text("spoiler")
        expect(page.get_by_text(f"Episode {number}", exact=False)).to_have_count(0)
    expect(page.locator(".watch-progress summary")).to_have_text("You're at S1E6 · change")


def test_a_withheld_spoiler_is_revealed_in_place_with_focus_on_it(
    new_page: PageFactory, demo_login_state: dict[str, Any], season_two_path: str
) -> None:
    page = demo_page(new_page, demo_login_state)
    page.goto(season_two_path)
    opener = page.locator("article.post").first
    withheld = opener.locator(".spoiler-withheld[data-episode='S1E10']")
    expect(withheld).to_have_text("Spoiler for S1E10 · reveal")
    expect(opener).not_to_contain_text(WITHHELD_TEXT)  # not hidden: not in the page at all

    # A reload or a navigation would drop this mark.
    page.evaluate("window.stillThisDocument = true")
    url_before = page.url
    withheld.get_by_role("link").click()

    revealed = opener.locator(".post-body")
    expect(revealed).to_contain_text(WITHHELD_TEXT)
    text = revealed.locator(".spoiler[data-episode='S1E10'] .spoiler-text").first
    expect(text).to_have_text(WITHHELD_TEXT)
    expect(text).to_be_visible()  # the reader asked for it: not another click away
    assert page.evaluate("window.stillThisDocument === true"), "the page was reloaded"
    assert page.url == url_before
    expect(opener.locator(".spoiler-withheld")).to_have_count(0)
    # Keyboard and screen-reader users land on what they asked for.
    assert revealed.evaluate("(body) => body === document.activeElement")
    # The other posts' withheld spoilers are still withheld.
    expect(page.locator(".spoiler-withheld").first).to_be_visible()


def test_a_generic_spoiler_is_hidden_until_clicked(
    new_page: PageFactory, demo_login_state: dict[str, Any], season_two_path: str
) -> None:
    page = demo_page(new_page, demo_login_state)
    page.goto(season_two_path)
    spoiler = generic_spoiler(page)
    text = spoiler.locator(".spoiler-text")
    assert visibility(text) == "hidden"
    expect(text).to_be_hidden()
    spoiler.click()
    expect(spoiler.locator(".spoiler-toggle")).to_be_checked()
    expect(text).to_be_visible()
    assert visibility(text) == "visible"


def test_without_javascript_spoilers_still_open(
    new_page: PageFactory, demo_login_state: dict[str, Any], season_two_path: str
) -> None:
    page = demo_page(new_page, demo_login_state, java_script_enabled=False)
    page.goto(season_two_path)

    spoiler = generic_spoiler(page)
    text = spoiler.locator(".spoiler-text")
    assert visibility(text) == "hidden"
    spoiler.click()
    assert visibility(text) == "visible"

    opener = page.locator("article.post").first
    opener.locator(".spoiler-withheld a").click()
    expect(page).to_have_url(re.compile(r"/p/\d+/reveal$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Post #1, spoilers shown")
    shown = page.locator("article.post .spoiler[data-episode='S1E10'] .spoiler-text")
    expect(shown).to_have_text(WITHHELD_TEXT)
    expect(shown).to_be_visible()
    expect(page.get_by_role("link", name="Back to the thread")).to_be_visible()


def test_space_on_a_focused_spoiler_shows_it(
    new_page: PageFactory, demo_login_state: dict[str, Any], season_two_path: str
) -> None:
    page = demo_page(new_page, demo_login_state)
    page.goto(season_two_path)
    spoiler = generic_spoiler(page)
    post = page.locator("article.post").filter(has=spoiler)
    # The last focusable thing before the post's text is its time link: one Tab from there.
    post.locator(".post-time").focus()
    page.keyboard.press("Tab")
    toggle = spoiler.locator(".spoiler-toggle")
    expect(toggle).to_be_focused()
    expect(toggle).to_have_accessible_name("Show spoiler")
    text = spoiler.locator(".spoiler-text")
    assert visibility(text) == "hidden"
    page.keyboard.press("Space")
    expect(toggle).to_be_checked()
    assert visibility(text) == "visible"
    # A visible focus ring on the spoiler while its box has focus.
    outline = spoiler.evaluate("(label) => getComputedStyle(label).outlineStyle")
    assert outline == "solid"


# ------------------------------------------------------------------------------ progress


def test_moving_progress_unmasks_episodes_and_show_anyway_does_not(
    new_page: PageFactory,
) -> None:
    page = new_page()
    register(page, unique_name("binger"), "long enough password 1")

    page.goto(BOARD)
    page.locator(".watch-progress summary").click()
    page.get_by_label("Watched up to").select_option("S1E8")
    page.get_by_role("button", name="Save progress").click()
    expect(page.locator(".watch-progress summary")).to_have_text("You're at S1E8 · change")
    for number in (7, 8):
        expect(page.get_by_role("link", name=episode_title(number), exact=True)).to_be_visible()
    for number in (9, 10):
        expect(
            page.get_by_role("link", name=masked_title(number, "S1E8"), exact=True)
        ).to_be_visible()

    # S1E9: the warning, then "I've watched up to S1E9" shows the thread.
    page.get_by_role("link", name=masked_title(9, "S1E8"), exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(masked_title(9, "S1E8"))
    expect(page.locator("article.post")).to_have_count(0)
    page.get_by_role("button", name="I've watched up to S1E9").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(episode_title(9))
    expect(page.locator("article.post").first).to_contain_text("The official discussion thread")

    # S1E10: "Show anyway" shows it this once and leaves progress at S1E9.
    page.goto(BOARD)
    expect(page.locator(".watch-progress summary")).to_have_text("You're at S1E9 · change")
    page.get_by_role("link", name=masked_title(10, "S1E9"), exact=True).click()
    page.get_by_role("link", name="Show anyway").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(episode_title(10))
    expect(page.locator("article.post").first).to_contain_text("The official discussion thread")
    page.goto(BOARD)
    expect(page.get_by_role("link", name=masked_title(10, "S1E9"), exact=True)).to_be_visible()
    expect(page.get_by_role("link", name=episode_title(10), exact=True)).to_have_count(0)


# ------------------------------------------------------------------------------ axe


def _open_warning(page: Page) -> None:
    page.goto(episode_thread_path(page, 8))
    expect(page.get_by_role("heading", level=1)).to_have_text(masked_title(8, "S1E6"))


def _open_thread(page: Page, season_two_path: str) -> None:
    page.goto(season_two_path)
    expect(page.get_by_role("heading", level=1)).to_have_text(SEASON_TWO_THREAD)


def _open_thread_revealed(page: Page, season_two_path: str) -> None:
    """The thread with every click-to-show spoiler open and a withheld one fetched."""
    _open_thread(page, season_two_path)
    page.locator("article.post").first.locator(".spoiler-withheld a").first.click()
    expect(page.locator("article.post").first.locator(".spoiler-withheld")).to_have_count(0)
    for toggle in page.locator(".spoiler-toggle:not(:checked)").all():
        toggle.check(force=True)  # the box is invisible on purpose: its label is the target


def _open_board(page: Page) -> None:
    page.goto(BOARD)
    expect(page.locator(".thread-row.is-masked")).to_have_count(4)


def _open_guide(page: Page) -> None:
    page.goto(GUIDE)
    expect(page.get_by_role("heading", level=1)).to_have_text("Partner Track: episode guide")
    expect(page.locator(".episode-guide .title-hidden")).to_have_count(4)


SPOILER_PAGES = ("board-masked", "episode-guide", "spoiler-warning", "thread-spoilers")


def _open(name: str, page: Page, season_two_path: str) -> None:
    if name == "board-masked":
        _open_board(page)
    elif name == "episode-guide":
        _open_guide(page)
    elif name == "spoiler-warning":
        _open_warning(page)
    elif name == "thread-spoilers":
        _open_thread(page, season_two_path)
    elif name == "thread-spoilers-revealed":
        _open_thread_revealed(page, season_two_path)
    else:
        raise AssertionError(f"no such spoiler page: {name}")


@pytest.fixture(scope="module")
def axe() -> Axe:
    return Axe()


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("name", [*SPOILER_PAGES, "thread-spoilers-revealed"])
def test_spoiler_pages_have_no_serious_axe_violations(
    name: str,
    scheme: str,
    axe: Axe,
    new_page: PageFactory,
    demo_login_state: dict[str, Any],
    season_two_path: str,
) -> None:
    page = demo_page(new_page, demo_login_state, color_scheme=scheme)
    _open(name, page, season_two_path)
    violations: list[dict[str, Any]] = axe.run(page).response["violations"]
    blocking = [v for v in violations if v.get("impact") in BLOCKING]
    assert not blocking, f"{name} ({scheme}):\n{describe(blocking)}"


# ------------------------------------------------------------------------------ screenshots


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("device", list(DEVICES))
@pytest.mark.parametrize("name", [*SPOILER_PAGES, "thread-spoilers-revealed"])
def test_spoiler_screens(
    name: str,
    device: str,
    scheme: str,
    new_page: PageFactory,
    demo_login_state: dict[str, Any],
    season_two_path: str,
) -> None:
    page = demo_page(new_page, demo_login_state, viewport=DEVICES[device], color_scheme=scheme)
    _open(name, page, season_two_path)
    assert page.evaluate(f"matchMedia('(prefers-color-scheme: {scheme})').matches")
    sizes = page.evaluate(
        "({scroll: document.documentElement.scrollWidth, inner: window.innerWidth})"
    )
    assert sizes["scroll"] <= sizes["inner"] + 1, (
        f"{name} scrolls sideways on {device}: {sizes}; too wide: {page.evaluate(TOO_WIDE)}"
    )
    if name == "thread-spoilers":
        # Collapsed: every spoiler's text is hidden, and each still looks like a box to click.
        for text in page.locator(".spoiler-text").all():
            assert visibility(text) == "hidden"
    saved = screenshot(page, f"spoilers-{name}-{device}-{scheme}")
    assert saved.stat().st_size > 1_000
    if name.startswith("thread-spoilers"):
        # Close-ups of the posts with spoilers, at full size: whole pages come out too small to
        # judge a spoiler bar by.
        posts = page.locator("article.post")
        closeups = {"withheld": posts.first, "generic": posts.filter(has_text="Mine is simple")}
        for what, post in closeups.items():
            path = SCREENSHOTS / f"spoilers-{name}-{what}-closeup-{device}-{scheme}.png"
            post.screenshot(path=path)
            assert path.stat().st_size > 1_000
