"""The anonymous page cache (forum/platform/pagecache.py): what a write invalidates, and what it
leaves.

A reply, a new thread or an edit of one's own post makes exactly the pages that show it miss
(its thread, its board, the board index, its author's profile); every other cached page stays
a hit. A login or logout changes no page. Anything else (here a moderator's lock) empties it.
"""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, sessionmaker

from forum import create_app
from forum.models import Board, Post, Role, Thread, User
from forum.platform.pagecache import LocalStore
from tests.conftest import Browserish, Factory


def url_of(thread: Thread) -> str:
    return f"/t/{thread.id}/{thread.slug}"


class Forum:
    """Two boards with a thread each, and every cacheable page of them."""

    def __init__(self, make: Factory) -> None:
        self.author = make.user("writer_wes")
        self.bystander = make.user("bystander_bo")
        self.board = make.board("partner-track", name="Partner Track")
        self.other_board = make.board("the-bear", name="The Bear")
        self.thread = make.thread(board=self.board, author=self.bystander, title="Finale")
        self.other_thread = make.thread(
            board=self.board, author=self.bystander, title="Casting news"
        )
        self.elsewhere = make.thread(board=self.other_board, author=self.bystander, title="Fishes")

    def pages(self) -> dict[str, str]:
        return {
            "thread": url_of(self.thread),
            "other thread": url_of(self.other_thread),
            "thread on the other board": url_of(self.elsewhere),
            "board": "/b/partner-track",
            "other board": "/b/the-bear",
            "index": "/",
            "author's profile": "/u/writer_wes",
            "bystander's profile": "/u/bystander_bo",
        }


@pytest.fixture
def forum(make: Factory) -> Forum:
    return Forum(make)


@pytest.fixture
def visitor(app: Flask) -> Browserish:
    return Browserish(app.test_client())


def warm(visitor: Browserish, forum: Forum) -> None:
    """Visit every page twice: the second visit of each must be a cache hit."""
    for name, url in forum.pages().items():
        visitor.get(url)
        assert visitor.get(url).headers["X-Cache"] == "hit", name


def cache_states(visitor: Browserish, forum: Forum) -> dict[str, str]:
    return {name: visitor.get(url).headers["X-Cache"] for name, url in forum.pages().items()}


def writer(app: Flask, user: User) -> Browserish:
    browser = Browserish(app.test_client())
    browser.login(user.username)
    return browser


def test_a_reply_misses_only_the_pages_that_show_it(
    app: Flask, visitor: Browserish, forum: Forum
) -> None:
    wes = writer(app, forum.author)
    warm(visitor, forum)

    reply = wes.post(
        f"/t/{forum.thread.id}/reply", {"body": "Sydney deserves better"}, page=url_of(forum.thread)
    )
    assert reply.status_code == 302

    assert cache_states(visitor, forum) == {
        "thread": "miss",
        "other thread": "hit",
        "thread on the other board": "hit",
        "board": "miss",
        "other board": "hit",
        "index": "miss",
        "author's profile": "miss",
        "bystander's profile": "hit",
    }
    assert "Sydney deserves better" in visitor.get(url_of(forum.thread)).get_data(as_text=True)
    assert "Sydney deserves better" in visitor.get("/u/writer_wes").get_data(as_text=True)


def test_a_new_thread_shows_on_its_board_and_the_index_at_once(
    app: Flask, visitor: Browserish, forum: Forum
) -> None:
    wes = writer(app, forum.author)
    warm(visitor, forum)

    started = wes.post(
        "/b/partner-track/new",
        {"title": "Season two cast list", "body": "Who is back?"},
        page="/b/partner-track/new",
    )
    assert started.status_code == 302

    states = cache_states(visitor, forum)
    assert [name for name, state in states.items() if state == "miss"] == [
        "board",
        "index",
        "author's profile",
    ]
    assert "Season two cast list" in visitor.get("/b/partner-track").get_data(as_text=True)


def test_editing_ones_own_post_misses_its_thread_and_profile_only(
    app: Flask, visitor: Browserish, forum: Forum, db: Session
) -> None:
    wes = writer(app, forum.author)
    wes.post(f"/t/{forum.thread.id}/reply", {"body": "First take"}, page=url_of(forum.thread))
    post = db.scalar(
        select(Post).where(Post.thread_id == forum.thread.id, Post.author_id == forum.author.id)
    )
    assert post is not None
    warm(visitor, forum)

    edited = wes.post(f"/p/{post.id}/edit", {"body": "Second take"}, page=f"/p/{post.id}/edit")
    assert edited.status_code == 302

    states = cache_states(visitor, forum)
    assert [name for name, state in states.items() if state == "miss"] == [
        "thread",
        "author's profile",
    ]
    assert "Second take" in visitor.get(url_of(forum.thread)).get_data(as_text=True)


def test_logging_in_and_out_leaves_every_cached_page_valid(
    app: Flask, visitor: Browserish, forum: Forum
) -> None:
    warm(visitor, forum)

    wes = writer(app, forum.author)
    wes.logout()

    assert set(cache_states(visitor, forum).values()) == {"hit"}


def test_a_moderators_action_empties_the_cache(
    app: Flask, visitor: Browserish, forum: Forum, make: Factory
) -> None:
    moderator = writer(app, make.user("mod_maria", role=Role.MODERATOR))
    warm(visitor, forum)

    locked = moderator.post(
        f"/mod/threads/{forum.thread.id}", {"action": "lock"}, page=url_of(forum.thread)
    )
    assert locked.status_code == 302

    assert set(cache_states(visitor, forum).values()) == {"miss"}
    assert "badge-locked" in visitor.get(url_of(forum.thread)).get_data(as_text=True)


def test_a_reply_to_a_hidden_thread_leaves_its_board_and_the_index_cached(
    app: Flask, visitor: Browserish, forum: Forum, make: Factory, db: Session
) -> None:
    """A hidden thread is outside its board's listing and counts, so a moderator's reply in it
    changes neither."""
    moderator = make.user("mod_maria", role=Role.MODERATOR)
    hidden = db.get(Thread, forum.other_thread.id)
    assert hidden is not None
    hidden.is_hidden = True
    db.commit()
    maria = writer(app, moderator)
    for url in ("/b/partner-track", "/", "/b/partner-track", "/"):
        visitor.get(url)

    replied = maria.post(f"/t/{hidden.id}/reply", {"body": "Noted"}, page=url_of(hidden))
    assert replied.status_code == 302

    assert visitor.get("/b/partner-track").headers["X-Cache"] == "hit"
    assert visitor.get("/").headers["X-Cache"] == "hit"
    board = db.get(Board, forum.board.id)
    assert board is not None and board.post_count == 2  # the two visible threads' posts


# ------------------------------------------------------------------------------ memory


def test_made_up_query_strings_add_no_entries(
    app: Flask, visitor: Browserish, make: Factory
) -> None:
    """The key holds the page number the view reads and nothing else from the query string:
    thirty ?x=N visits of a thread are one stored page, served from the cache."""
    thread = make.thread(title="Long posts", body="Words " * 5000)
    page = url_of(thread)
    assert visitor.get(page).headers["X-Cache"] == "miss"

    attack = [visitor.get(f"{page}?x={n}").headers["X-Cache"] for n in range(30)]
    variants = [
        visitor.get(f"{page}{query}").headers["X-Cache"]
        for query in ("?page=1", "?page=01", "?page=1&utm_source=spam", "?page=abc")
    ]

    assert attack == ["hit"] * 30
    assert variants == ["hit"] * 4
    pages, _bytes = app.extensions["forum.pagecache"].size
    assert pages == 1


def test_other_page_numbers_are_other_pages(app: Flask, visitor: Browserish, make: Factory) -> None:
    app.config["POSTS_PER_PAGE"] = 2
    author = make.user("paged_author")
    thread = make.thread(author=author, title="Paged", replies=3)

    first = visitor.get(url_of(thread)).get_data(as_text=True)
    second = visitor.get(f"{url_of(thread)}?page=2")

    assert second.headers["X-Cache"] == "miss"
    assert "Reply number 3" in second.get_data(as_text=True)
    assert "Reply number 3" not in first
    assert visitor.get(f"{url_of(thread)}?page=02").headers["X-Cache"] == "hit"


def test_page_numbers_past_the_end_are_the_last_page(
    app: Flask, visitor: Browserish, make: Factory
) -> None:
    """Past the end the view shows the last page; so does the cache, instead of storing one
    copy of it per number asked for."""
    app.config["POSTS_PER_PAGE"] = 2
    thread = make.thread(title="Short", replies=2)  # 3 posts: pages 1 and 2
    last = visitor.get(f"{url_of(thread)}?page=2")
    assert last.headers["X-Cache"] == "miss"

    beyond = [visitor.get(f"{url_of(thread)}?page={n}") for n in (3, 50, 10**12)]

    assert [r.headers["X-Cache"] for r in beyond] == ["hit"] * 3
    assert all(r.get_data() == last.get_data() for r in beyond)
    pages, _bytes = app.extensions["forum.pagecache"].size
    assert pages == 1


def test_the_local_store_is_capped_in_bytes() -> None:
    store = LocalStore(max_bytes=10_000)

    for n in range(20):
        store.set(f"page-{n}", bytes(3_000))
    store.set("too-big", bytes(20_000))

    pages, size = store.size
    assert size <= 10_000
    assert pages == 3
    assert store.get("page-19") is not None, "the newest pages stay"
    assert store.get("page-0") is None, "the oldest go first"
    assert store.get("too-big") is None


def test_a_page_replaced_under_its_key_is_counted_once() -> None:
    store = LocalStore(max_bytes=10_000)

    for _ in range(10):
        store.set("same-page", bytes(3_000))

    assert store.size == (1, len("same-page") + 3_000)


def test_the_apps_store_holds_no_more_than_its_byte_cap(
    database_url: str, connection: Connection, make: Factory
) -> None:
    app = create_app(
        {
            "DATABASE_URL": database_url,
            "SECRET_KEY": "test",
            "TESTING": True,
            "RATE_LIMITS": "off",
            "PAGE_CACHE_MAX_BYTES": 200_000,
        }
    )
    app.extensions["forum.sessionmaker"] = sessionmaker(
        bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
    )
    visitor = Browserish(app.test_client())
    threads = [make.thread(title=f"Big thread {n}", body="Spoilers " * 6_000) for n in range(8)]

    for thread in threads:
        assert visitor.get(url_of(thread)).status_code == 200

    pages, size = app.extensions["forum.pagecache"].size
    assert size <= 200_000
    assert 1 <= pages < len(threads)
    app.extensions["forum.engine"].dispose()


@pytest.mark.parametrize(("setting", "second_visit"), [("off", "miss"), ("on", "hit")])
def test_the_page_cache_setting_turns_lookup_and_storing_off(
    database_url: str,
    connection: Connection,
    make: Factory,
    monkeypatch: pytest.MonkeyPatch,
    setting: str,
    second_visit: str,
) -> None:
    # Set as an operator would (the environment): `python -m bench` relies on this to measure
    # real renders, since made-up query strings no longer miss.
    monkeypatch.setenv("FORUM_PAGE_CACHE", setting)
    app = create_app(
        {"DATABASE_URL": database_url, "SECRET_KEY": "test", "TESTING": True, "RATE_LIMITS": "off"}
    )
    app.extensions["forum.sessionmaker"] = sessionmaker(
        bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
    )
    visitor = Browserish(app.test_client())
    thread = make.thread(title="Finale")

    first, second = visitor.get(url_of(thread)), visitor.get(url_of(thread))

    assert (first.status_code, second.status_code) == (200, 200)
    assert [first.headers["X-Cache"], second.headers["X-Cache"]] == ["miss", second_visit]
    assert b"Finale" in second.data
    app.extensions["forum.engine"].dispose()
