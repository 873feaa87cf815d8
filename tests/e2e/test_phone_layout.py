"""The header and the staff tables at phone width (issue 11, defect 13): the header takes two rows
at most, whoever is signed in (an admin has the most links); on a desktop it takes one. A table
wider than the phone scrolls inside its box, never the page, and has a shadow on the side that
holds more (the hint that it scrolls)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from tests.e2e.conftest import DEMO_PASSWORD, DESKTOP, PHONE, PageFactory, log_in

pytestmark = pytest.mark.browser

# The rows the header's parts sit on: a part starts a new row when it begins below the bottom of
# everything on the rows so far.
HEADER_ROWS = """() => {
  const boxes = [...document.querySelector('.header-row').children]
    .map((el) => el.getBoundingClientRect()).filter((box) => box.height > 0)
    .sort((a, b) => a.top - b.top);
  let rows = 0, bottom = -Infinity;
  for (const box of boxes) {
    if (box.top >= bottom - 1) { rows += 1; bottom = box.bottom; }
    else { bottom = Math.max(bottom, box.bottom); }
  }
  return rows;
}"""

TABLE_BOX = """(box) => ({
  scrolls: box.scrollWidth > box.clientWidth + 1,
  overflow: getComputedStyle(box).overflowX,
  shadows: (getComputedStyle(box).backgroundImage.match(/radial-gradient/g) || []).length,
  pageScrolls: document.scrollingElement.scrollWidth > window.innerWidth + 1,
})"""


def header_rows(page: Page) -> int:
    return int(page.evaluate(HEADER_ROWS))


@pytest.mark.parametrize("who", [None, "demo", "mod_maria", "admin"])
def test_the_header_takes_two_rows_on_a_phone_and_one_on_a_desktop(
    new_page: PageFactory, who: str | None
) -> None:
    for viewport, most in ((PHONE, 2), (DESKTOP, 1)):
        page = new_page(viewport=viewport)
        if who:
            log_in(page, who, DEMO_PASSWORD)
        page.goto("/")
        assert header_rows(page) <= most, (who, viewport)


# /mod/log draws its table with the same .table-scroll box (mod/_log.html); the shared e2e
# database may have no log rows yet, while the boards and users are always there.
@pytest.mark.parametrize("path", ["/admin", "/admin/users"])
def test_wide_tables_scroll_in_their_box_with_a_shadow_on_a_phone(
    new_page: PageFactory, path: str
) -> None:
    page = new_page(viewport=PHONE)
    log_in(page, "admin", DEMO_PASSWORD)
    page.goto(path)

    box = page.locator(".table-scroll").first
    state = box.evaluate(TABLE_BOX)

    assert state["overflow"] == "auto"
    assert state["scrolls"], "the table fits: nothing to hint at"
    assert state["shadows"] == 2
    assert not state["pageScrolls"]
