"""Ids past what the id columns hold are 404s, not 500s: the driver can't bind them (OverflowError
past 2**63 on SQLite, out of range past 2**31 - 1 on PostgreSQL's INTEGER), so the router refuses
them first."""

from __future__ import annotations

import re

import pytest
from flask import Flask

from forum.models import Role
from tests.conftest import Browserish, Factory

TOO_BIG = (2**31, 2**63, 10**20)

# Every route taking an integer id, with the methods it answers; `{}` is the id.
ROUTES: list[tuple[str, str]] = [
    ("POST", "/notifications/{0}/read"),
    ("GET", "/notifications/{0}/go"),
    ("POST", "/t/{0}/watch"),
    ("GET", "/t/{0}/unread"),
    ("GET", "/p/{0}/quote"),
    ("GET", "/t/{0}/live"),
    ("GET", "/t/{0}/after/{0}"),
    ("POST", "/t/{}/episode"),
    ("GET", "/p/{}/reveal"),
    ("GET", "/t/{}/feed.atom"),
    ("GET", "/sitemap-threads-{}.xml"),
    ("GET", "/t/{}"),
    ("GET", "/t/{}/some-slug"),
    ("POST", "/t/{}/reply"),
    ("GET", "/p/{}"),
    ("GET", "/p/{}/edit"),
    ("POST", "/p/{}/edit"),
    ("POST", "/p/{}/delete"),
    ("GET", "/p/{}/report"),
    ("POST", "/p/{}/report"),
    ("GET", "/p/{}/revisions"),
    ("POST", "/mod/reports/{}"),
    ("POST", "/mod/threads/{}"),
    ("GET", "/mod/threads/{}/hide/confirm"),
    ("POST", "/mod/threads/{}/hide"),
    ("POST", "/mod/threads/{}/move"),
    ("GET", "/mod/threads/{}/rename"),
    ("POST", "/mod/threads/{}/rename"),
    ("GET", "/mod/posts/{}/hide/confirm"),
    ("POST", "/mod/posts/{}/hide"),
    ("POST", "/mod/posts/{}/restore"),
    ("GET", "/admin/posts/{}/purge/confirm"),
    ("POST", "/admin/posts/{}/purge"),
]


def request(browser: Browserish, method: str, url: str) -> int:
    if method == "GET":
        return browser.get(url).status_code
    # With a valid CSRF token, so a refusal can only come from routing or the view.
    return browser.post(url, {"body": "x", "reason": "x", "title": "x"}, page="/").status_code


@pytest.mark.parametrize("number", TOO_BIG, ids=["2**31", "2**63", "10**20"])
@pytest.mark.parametrize(("method", "route"), ROUTES, ids=[f"{m} {r}" for m, r in ROUTES])
def test_ids_too_big_for_the_database_are_not_found(
    app: Flask, make: Factory, method: str, route: str, number: int
) -> None:
    admin = make.user("admin_big_ids", role=Role.ADMIN)  # allowed everywhere: only the id matters
    visitor = Browserish(app.test_client())
    staff = Browserish(app.test_client())
    staff.login(admin.username)
    url = route.format(number)
    assert request(staff, method, url) == 404
    if method == "GET":
        assert request(visitor, method, url) == 404


def test_the_largest_id_still_routes(client: Browserish) -> None:
    # 2**31 - 1 fits the column: it reaches the view, which finds no such post.
    assert client.get(f"/p/{2**31 - 1}").status_code == 404
    assert client.get(f"/t/{2**31 - 1}").status_code == 404


def test_every_integer_route_is_in_the_list(app: Flask) -> None:
    """A new route with an id must join ROUTES, so it is checked too."""
    listed = {(method, re.sub(r"\{\d*\}", "", route)) for method, route in ROUTES}
    for rule in app.url_map.iter_rules():
        if "int" not in rule.rule:
            continue
        pattern = rule.rule
        for name in rule.arguments:
            pattern = pattern.replace(f"<int:{name}>", "")
        pattern = pattern.replace("<slug>", "some-slug")
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            assert (method, pattern) in listed, f"{method} {rule.rule} is missing from ROUTES"
