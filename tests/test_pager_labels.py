"""The pager's words match the order of what it pages: a thread reads oldest post first, so
its later pages are newer; a board lists newest thread first, so its later pages are older."""

from __future__ import annotations

import re

from flask import Flask

from tests.conftest import Browserish, Factory

PAGER_LINK = re.compile(r'<a rel="(prev|next)" href="[^"]*">([^<]*)</a>')


def pager_links(html: str) -> dict[str, str]:
    return dict(PAGER_LINK.findall(html))


def forward(label: str) -> bool:
    """Later posts on a thread: either "Newer" or the neutral "Next" is right."""
    return "Newer" in label or "Next" in label


def test_a_threads_later_pages_are_not_called_older(
    app: Flask, client: Browserish, make: Factory
) -> None:
    app.config["POSTS_PER_PAGE"] = 2
    thread = make.thread(replies=4)  # five posts: three pages
    url = f"/t/{thread.id}/{thread.slug}"

    first = pager_links(client.get(url).get_data(as_text=True))
    assert forward(first["next"]) and "Older" not in first["next"]
    middle = pager_links(client.get(f"{url}?page=2").get_data(as_text=True))
    assert "Newer" not in middle["prev"] and "Older" not in middle["next"]
    assert forward(middle["next"])


def test_a_boards_later_pages_are_still_called_older(
    app: Flask, client: Browserish, make: Factory
) -> None:
    app.config["THREADS_PER_PAGE"] = 1
    board = make.board()
    for _ in range(3):
        make.thread(board=board)

    first = pager_links(client.get(f"/b/{board.slug}").get_data(as_text=True))
    assert "Older" in first["next"]
    middle = pager_links(client.get(f"/b/{board.slug}?page=2").get_data(as_text=True))
    assert "Newer" in middle["prev"] and "Older" in middle["next"]
