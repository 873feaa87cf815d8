"""A query string with bytes that aren't UTF-8 (sent raw in the request line) gets the page,
never a 500: forum/platform/querystring.py encodes those bytes as a browser would."""

from __future__ import annotations

import pytest

from tests.conftest import Browserish, Factory

RAW = "q=\xb2&page=2"  # WSGI carries the request's bytes as latin-1: b"q=\xb2&page=2"


@pytest.mark.parametrize("path", ["/", "/search", "/login", "/b/{slug}", "/t/{thread}"])
def test_pages_answer_a_query_string_that_is_not_utf8(
    client: Browserish, make: Factory, path: str
) -> None:
    thread = make.thread()
    url = path.format(slug=make.board().slug, thread=f"{thread.id}/{thread.slug}")

    response = client.client.get(url, environ_overrides={"QUERY_STRING": RAW})

    assert response.status_code in (200, 301, 302), response.status_code


def test_the_login_link_comes_back_to_the_same_query(client: Browserish) -> None:
    page = client.client.get("/search", environ_overrides={"QUERY_STRING": RAW})

    assert page.status_code == 200
    # /search?q=%B2&page=2, encoded once more as the link's `next`.
    assert b"login?next=/search?q%3D%25B2%26page%3D2" in page.data


def test_valid_utf8_bytes_are_left_alone(client: Browserish) -> None:
    text = "q=caf\u00c3\u00a9"  # b"q=caf\xc3\xa9": UTF-8 for "café", as latin-1 characters

    page = client.client.get("/search", environ_overrides={"QUERY_STRING": text})

    assert page.status_code == 200
    assert "café" in page.get_data(as_text=True)
