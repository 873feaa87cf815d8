"""axe-core on the pages fans use most, in light and dark: no "serious" or "critical" violations.

Minor and moderate findings are printed (run with -s) but don't fail the build; the failure
message lists each violation's rule, help link and the elements it found, so it can be fixed
without rerunning anything.
"""

from __future__ import annotations

from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from tests.e2e.conftest import PageFactory

pytestmark = pytest.mark.browser

BLOCKING = {"serious", "critical"}


# name -> (path, or None for the demo thread; log in as demo?; the page's main heading)
PAGES: dict[str, tuple[str | None, bool, str]] = {
    "board-index": ("/", False, "Show boards"),
    "board": ("/b/partner-track", False, "Partner Track"),
    "thread": (None, False, "Will Partner Track get a season 2?"),
    "thread-logged-in": (None, True, "Will Partner Track get a season 2?"),
    "login": ("/login", False, "Log in"),
    "register": ("/register", False, "Join Showboard"),
    "new-thread": ("/b/partner-track/new", True, "Start a thread in Partner Track"),
    "profile": ("/u/ingrid_stan", False, "ingrid_stan"),
}


@pytest.fixture(scope="module")
def axe() -> Axe:
    return Axe()


def describe(violations: list[dict[str, Any]]) -> str:
    lines = []
    for violation in violations:
        lines.append(
            f"- {violation['id']} ({violation['impact']}): {violation['help']} "
            f"[{violation['helpUrl']}]"
        )
        for node in violation["nodes"][:8]:
            summary = " ".join(node.get("failureSummary", "").split())
            lines.append(f"    {', '.join(map(str, node['target']))}: {summary}")
            lines.append(f"      {node['html'][:160]}")
        if len(violation["nodes"]) > 8:
            lines.append(f"    ... and {len(violation['nodes']) - 8} more")
    return "\n".join(lines)


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("name", list(PAGES))
def test_no_serious_axe_violations(
    name: str,
    scheme: str,
    axe: Axe,
    new_page: PageFactory,
    demo_login_state: dict[str, Any],
    season_two_path: str,
) -> None:
    path, logged_in, heading = PAGES[name]
    options: dict[str, Any] = {"color_scheme": scheme}
    if logged_in:
        options["storage_state"] = demo_login_state
    page: Page = new_page(**options)
    page.goto(path or season_two_path)
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    if logged_in:
        expect(page.get_by_role("navigation", name="Account")).to_contain_text("demo")

    violations: list[dict[str, Any]] = axe.run(page).response["violations"]
    blocking = [v for v in violations if v.get("impact") in BLOCKING]
    others = [v for v in violations if v.get("impact") not in BLOCKING]
    if others:
        print(f"\n{name} ({scheme}): minor axe findings\n{describe(others)}")
    assert not blocking, (
        f"axe found {len(blocking)} serious/critical problem(s) on {name} ({scheme}):\n"
        f"{describe(blocking)}"
    )


def test_form_fields_carry_only_meaningful_aria(page: Page) -> None:
    """A field without errors has no aria-invalid, describes itself only by elements that
    exist, and only the first field of the form asks for focus. (Regression: the field macro
    once printed aria-invalid="None", aria-describedby="None" and autofocus="None".)"""
    page.goto("/register")
    expect(page.get_by_label("Username")).to_be_focused()
    # The honeypot field (.hp-field) is off-screen and aria-hidden: not one of the form's fields.
    fields = page.locator("main form input:not([type=hidden]):not(.hp-field *), main form textarea")
    expect(fields).to_have_count(4)
    problems: list[str] = fields.evaluate_all(
        """(fields) => fields.flatMap((field) => {
          const found = [];
          if (field.hasAttribute("aria-invalid")) {
            found.push(`#${field.id} aria-invalid="${field.getAttribute("aria-invalid")}"`);
          }
          for (const id of (field.getAttribute("aria-describedby") || "").split(" ")) {
            if (id && !document.getElementById(id)) {
              found.push(`#${field.id} aria-describedby points at missing #${id}`);
            }
          }
          return found;
        })"""
    )
    autofocus = page.locator("[autofocus]")
    assert not problems, problems
    expect(autofocus).to_have_count(1)
    expect(autofocus).to_have_id("username")
