"""Search as a fan meets it in Chromium: suggestions under the header's box (a combobox the
keyboard drives, asked for once typing pauses), the results page on a phone and a desktop in
light and dark (screenshots in test-artifacts/screenshots/search-*.png, no sideways scroll),
axe clean, and the header box without JavaScript.

Reads the demo content only (the live server's database is shared by the session).
"""

from __future__ import annotations

from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, Request, Route, expect

from tests.e2e.conftest import (
    DESKTOP,
    PHONE,
    SEASON_TWO_THREAD,
    PageFactory,
    screenshot,
)
from tests.e2e.test_accessibility import BLOCKING, describe
from tests.e2e.test_screens import TOO_WIDE

pytestmark = pytest.mark.browser

DEVICES = {"desktop": DESKTOP, "phone": PHONE}
SCHEMES = ("light", "dark")
RESULTS = "/search?q=season+2"


@pytest.fixture(scope="module")
def axe() -> Axe:
    return Axe()


def header_box(page: Page) -> Any:
    return page.get_by_role("combobox", name="Search the forum")


def suggestion_requests(page: Page) -> list[str]:
    asked: list[str] = []

    def record(request: Request) -> None:
        if "/search/suggest" in request.url:
            asked.append(request.url)

    page.on("request", record)
    return asked


def test_suggestions_appear_and_the_keyboard_picks_one(page: Page) -> None:
    page.goto("/")
    asked = suggestion_requests(page)
    box = header_box(page)
    expect(box).to_have_attribute("aria-expanded", "false")

    # Typed like a person (one key every 40 ms).
    box.press_sequentially("season 2", delay=40)
    listbox = page.get_by_role("listbox", name="Suggestions")
    expect(listbox).to_be_visible()
    expect(box).to_have_attribute("aria-expanded", "true")
    assert box.get_attribute("aria-controls") == listbox.get_attribute("id")
    options = listbox.get_by_role("option")
    # Other tests on this server may have added newer "season 2" threads, listed first.
    wanted = options.filter(has_text=SEASON_TWO_THREAD)
    expect(wanted).to_have_count(1)
    # Eight keys, one request after the pause (two if the machine stalled 250 ms mid-word).
    assert 1 <= len(asked) <= 2, asked
    announced = page.locator(".suggest-status[aria-live=polite]").filter(has_text="suggestion")
    expect(announced).to_have_count(1)
    # The page's own status (a flash message) stays the only role="status".
    expect(page.get_by_role("status")).to_have_count(0)

    box.press("ArrowDown")
    expect(options.first).to_have_attribute("aria-selected", "true")
    assert box.get_attribute("aria-activedescendant") == options.first.get_attribute("id")
    expect(box).to_be_focused()  # focus stays in the box; the option is only "active"
    position = options.all_inner_texts().index(wanted.inner_text())
    for _ in range(position):
        box.press("ArrowDown")
    expect(wanted).to_have_attribute("aria-selected", "true")

    box.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text(SEASON_TWO_THREAD)


def test_arrows_wrap_back_to_the_box_and_escape_closes(page: Page) -> None:
    page.goto("/")
    box = header_box(page)
    box.press_sequentially("partner", delay=30)
    listbox = page.get_by_role("listbox", name="Suggestions")
    expect(listbox).to_be_visible()
    options = listbox.get_by_role("option")
    expect(options.first).to_contain_text("Partner Track")  # the board comes first
    count = options.count()
    assert 3 <= count <= 9  # up to 8 suggestions, then "Search for ..."

    box.press("ArrowUp")  # from the box, up goes to the last option
    expect(options.nth(count - 1)).to_have_attribute("aria-selected", "true")
    expect(options.nth(count - 1)).to_have_text("Search for “partner”")
    box.press("ArrowDown")  # past the end: back to the box, nothing active
    assert box.get_attribute("aria-activedescendant") is None
    box.press("Escape")
    expect(listbox).to_be_hidden()
    expect(box).to_have_attribute("aria-expanded", "false")
    expect(box).to_have_value("partner")  # Escape closed the list, it didn't clear the box

    box.press("Enter")  # nothing chosen: the plain search
    expect(page).to_have_url("/search?q=partner", ignore_case=True)
    expect(page.get_by_role("heading", name="Boards")).to_be_visible()


def test_the_last_option_runs_the_full_search(page: Page) -> None:
    page.goto("/")
    box = header_box(page)
    box.press_sequentially("season 2", delay=30)
    options = page.get_by_role("listbox", name="Suggestions").get_by_role("option")
    last = options.last
    expect(last).to_have_text("Search for “season 2”")
    expect(options.filter(has_text=SEASON_TWO_THREAD)).to_have_count(1)

    # Reached by the keyboard: down through every suggestion to the last option.
    for _ in range(options.count()):
        box.press("ArrowDown")
    expect(last).to_have_attribute("aria-selected", "true")
    assert box.get_attribute("aria-activedescendant") == last.get_attribute("id")
    box.press("Enter")

    expect(page).to_have_url("/search?q=season+2")
    expect(page.get_by_role("heading", level=1)).to_have_text("Search")
    expect(page.locator(".result").first).to_be_visible()


def test_a_failed_suggestion_is_asked_again_at_the_next_key(page: Page) -> None:
    answered: list[str] = []

    def fail_the_first(route: Route) -> None:
        answered.append(route.request.url)
        if len(answered) == 1:
            route.fulfill(status=503, body="busy")
        else:
            route.continue_()

    page.goto("/")
    page.route("**/search/suggest?*", fail_the_first)
    box = header_box(page)
    box.press_sequentially("partner", delay=30)
    page.wait_for_timeout(600)  # past the 250 ms pause: the one fetch was answered 503
    assert len(answered) == 1, answered
    listbox = page.get_by_role("listbox", name="Suggestions")
    expect(listbox).to_be_hidden()

    # The same text, asked again at the next key (before, it was never asked again).
    box.press("End")
    expect(listbox).to_be_visible()
    assert len(answered) == 2 and answered[0] == answered[1], answered


def test_a_click_on_a_suggestion_opens_it(page: Page) -> None:
    page.goto("/")
    header_box(page).press_sequentially("petition", delay=30)
    page.get_by_role("option").filter(has_text="Petition to revive the show").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Petition to revive the show: sign and share"
    )


def test_the_header_box_works_without_javascript(new_page: PageFactory) -> None:
    page = new_page(java_script_enabled=False)
    page.goto("/")
    box = page.get_by_role("searchbox", name="Search the forum")
    box.fill("Arden Cho")
    box.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Search")
    expect(page.get_by_role("link", name=SEASON_TWO_THREAD).first).to_be_visible()


def test_the_thread_page_searches_its_thread(page: Page, season_two_path: str) -> None:
    page.goto(season_two_path)
    thread_box = page.get_by_role("searchbox", name="Search this thread")
    page.screenshot(
        path=screenshot(page, "search-thread-box-desktop-light"),
        clip={"x": 0, "y": 0, "width": DESKTOP["width"], "height": 400},
    )
    thread_box.fill("Arden")
    thread_box.press("Enter")
    expect(page.locator(".search-scope")).to_contain_text(SEASON_TWO_THREAD)
    results = page.locator(".result")
    expect(results).to_have_count(1)
    results.first.get_by_role("link").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(SEASON_TWO_THREAD)


# ------------------------------------------------------------------------------ screens and axe


def open_results(page: Page, path: str = RESULTS) -> None:
    page.goto(path)
    expect(page.get_by_role("heading", level=1)).to_have_text("Search")
    expect(page.locator(".result").first).to_be_visible()
    expect(page.locator(".result mark").first).to_be_visible()


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("device", list(DEVICES))
def test_results_page_screens(new_page: PageFactory, device: str, scheme: str) -> None:
    page = new_page(viewport=DEVICES[device], color_scheme=scheme)
    open_results(page, "/search?q=season+2&board=partner-track&sort=relevance")
    assert page.evaluate(f"matchMedia('(prefers-color-scheme: {scheme})').matches")
    sizes = page.evaluate(
        "({scroll: document.documentElement.scrollWidth, inner: window.innerWidth})"
    )
    assert sizes["scroll"] <= sizes["inner"] + 1, (
        f"the results scroll sideways on {device}: {sizes}; too wide: {page.evaluate(TOO_WIDE)}"
    )
    saved = screenshot(page, f"search-results-{device}-{scheme}")
    assert saved.stat().st_size > 1_000


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("device", list(DEVICES))
def test_suggestions_screens(new_page: PageFactory, device: str, scheme: str) -> None:
    page = new_page(viewport=DEVICES[device], color_scheme=scheme)
    page.goto("/")
    box = header_box(page)
    box.press_sequentially("partner", delay=30)
    expect(page.get_by_role("listbox", name="Suggestions")).to_be_visible()
    box.press("ArrowDown")
    box.press("ArrowDown")
    page.screenshot(
        path=screenshot(page, f"search-suggestions-{device}-{scheme}"),
        clip={"x": 0, "y": 0, "width": DEVICES[device]["width"], "height": 520},
    )


def test_form_errors_screen(new_page: PageFactory) -> None:
    page = new_page(viewport=PHONE)
    page.goto("/search?q=renewal&since=31/12/2022&author=nobody_here")
    expect(page.locator(".error").first).to_be_visible()
    # A date box can't hold "31/12/2022": the refused date comes back in a text box, as typed.
    expect(page.get_by_label("From")).to_have_value("31/12/2022")
    expect(page.get_by_label("Posted by")).to_have_value("nobody_here")
    screenshot(page, "search-errors-phone-light")


def run_axe(axe: Axe, page: Page, name: str) -> None:
    violations: list[dict[str, Any]] = axe.run(page).response["violations"]
    blocking = [v for v in violations if v.get("impact") in BLOCKING]
    assert not blocking, f"{name}:\n{describe(blocking)}"


@pytest.mark.parametrize("scheme", SCHEMES)
def test_search_pages_are_axe_clean(
    axe: Axe, new_page: PageFactory, demo_login_state: dict[str, Any], scheme: str
) -> None:
    page = new_page(color_scheme=scheme)
    open_results(page)
    run_axe(axe, page, f"results ({scheme})")

    page.goto("/search?q=renewal&since=nonsense&sort=sideways")
    run_axe(axe, page, f"form errors ({scheme})")

    member = new_page(color_scheme=scheme, storage_state=demo_login_state)
    open_results(member, "/search?q=season+2&threads_only=1")
    run_axe(axe, member, f"member's results ({scheme})")

    member.goto("/")
    header_box(member).press_sequentially("partner", delay=30)
    expect(member.get_by_role("listbox", name="Suggestions")).to_be_visible()
    header_box(member).press("ArrowDown")
    run_axe(axe, member, f"suggestions open ({scheme})")


@pytest.mark.parametrize("scheme", SCHEMES)
def test_name_groups_screen(new_page: PageFactory, scheme: str) -> None:
    page = new_page(color_scheme=scheme)
    open_results(page, "/search?q=ingrid+partner")
    expect(page.get_by_role("heading", name="Boards")).to_be_visible()
    expect(page.get_by_role("heading", name="Members")).to_be_visible()
    expect(page.get_by_role("link", name="ingrid_stan").first).to_be_visible()
    page.screenshot(
        path=screenshot(page, f"search-groups-desktop-{scheme}"),
        clip={"x": 0, "y": 0, "width": DESKTOP["width"], "height": 800},
    )


def test_a_members_posts_and_a_page_past_the_end(axe: Axe, new_page: PageFactory) -> None:
    """`@demo` alone lists the demo member's newest posts under "Posts by demo"; a page past
    the last says how many there are and links to the last one."""
    page = new_page()
    page.goto("/search?q=%40demo")
    expect(page.get_by_role("heading", level=2, name="Posts by demo")).to_be_visible()
    expect(page.locator(".result").first).to_be_visible()
    expect(page.get_by_text("Type a word to search")).to_have_count(0)
    run_axe(axe, page, "a member's posts")
    screenshot(page, "search-member-posts-desktop-light")

    phone = new_page(viewport=PHONE)
    phone.goto("/search?q=season+2&page=9")
    expect(phone.get_by_text("All the results fit on one page.")).to_be_visible()
    run_axe(axe, phone, "past the last page")
    screenshot(phone, "search-past-end-phone-light")
    phone.get_by_role("link", name="Go to the results").click()
    expect(phone.locator(".result").first).to_be_visible()
