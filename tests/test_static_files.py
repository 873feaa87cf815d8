"""Static files are the same for every visitor: no Vary: Cookie, whoever asks, and a year's
cache lifetime when the URL is fingerprinted."""

from __future__ import annotations

import pytest

from forum.models import User
from tests.conftest import Browserish


@pytest.mark.parametrize("logged_in", [False, True])
def test_static_files_do_not_vary_on_cookies(
    client: Browserish, member: User, logged_in: bool
) -> None:
    if logged_in:
        client.login(member.username)
    plain = client.get("/static/css/app.css")
    fingerprinted = client.get("/static/css/app.css?v=0123456789ab")
    for response in (plain, fingerprinted):
        assert response.status_code == 200
        assert "Cookie" not in response.vary
        assert "Set-Cookie" not in response.headers
    assert fingerprinted.cache_control.max_age == 31_536_000
    assert fingerprinted.cache_control.public


def test_pages_still_vary_on_cookies(client: Browserish) -> None:
    assert "Cookie" in client.get("/login").vary
