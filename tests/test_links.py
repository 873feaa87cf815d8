"""forum/platform/links.py must give exactly what url_for gives."""

from __future__ import annotations

import pytest
from flask import Flask, url_for

from forum.platform.links import link

CASES = [
    ("threads.permalink", {"post_id": 1}),
    ("threads.permalink", {"post_id": 918_273_645}),
    ("threads.thread", {"thread_id": 42, "slug": "will-partner-track-get-a-season-2"}),
    ("users.profile", {"username": "fan_0023"}),
    ("users.profile", {"username": "Zoë-ünïcode_名前"}),
    ("users.profile", {"username": "a b/c?d#e%f"}),
    ("history.revisions", {"post_id": 7}),
    ("boards.board", {"slug": "partner-track", "page": 3}),
]


@pytest.mark.parametrize(("endpoint", "values"), CASES)
@pytest.mark.parametrize("script_root", ["", "/forum"])
def test_link_is_what_url_for_gives(
    app: Flask, endpoint: str, values: dict[str, int | str], script_root: str
) -> None:
    with app.test_request_context("/", base_url=f"http://localhost{script_root}"):
        assert link(endpoint, **values) == url_for(endpoint, **values)
        assert link(endpoint, **values).startswith(f"{script_root}/")
