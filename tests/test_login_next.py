"""The header's "Log in" link brings a visitor back to the very page they were on,
page number included."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

from flask import Flask
from markupsafe import Markup

from tests.conftest import PASSWORD, Browserish, Factory
from tests.html_scan import form_page

LOGIN_LINK = re.compile(r'<a href="(/login[^"]*)">Log in</a>')


def login_link(html: str) -> str:
    match = LOGIN_LINK.search(html)
    assert match, "no Log in link in the header"
    return Markup(match.group(1)).unescape()


def test_log_in_link_keeps_the_page_number_and_login_returns_there(
    app: Flask,
    client: Browserish,
    make: Factory,
) -> None:
    app.config["POSTS_PER_PAGE"] = 2
    thread = make.thread(replies=3)
    page_two = f"/t/{thread.id}/{thread.slug}?page=2"
    fan = make.user()

    link = login_link(client.get(page_two).get_data(as_text=True))
    assert parse_qs(urlsplit(link).query)["next"] == [page_two]

    login_page = form_page(client.get(link))
    assert login_page.values["next"] == page_two
    back = client.post(
        "/login",
        {"username": fan.username, "password": PASSWORD, "next": login_page.values["next"]},
    )
    assert back.status_code == 302
    assert back.headers["Location"].endswith(page_two)


def test_log_in_link_on_a_page_without_a_query_has_no_stray_question_mark(
    client: Browserish,
    make: Factory,
) -> None:
    board = make.board()
    link = login_link(client.get(f"/b/{board.slug}").get_data(as_text=True))
    assert parse_qs(urlsplit(link).query)["next"] == [f"/b/{board.slug}"]
