"""Feeds, sitemaps and link-preview tags leak nothing a visitor may not see: asserted on the raw
bytes sent (status line, headers and body) for every feed and sitemap, and on every preview
tag of the index, board and thread pages, whoever asks (a visitor, a member who has seen
everything, a moderator who reads hidden posts), since these are built as a visitor sees the
site and shared by all.

The show: S1E1-S1E7 aired a month ago, S1E8 two days ago (inside the 7-day visitor grace
period), S1E9 not yet. Each thing that must stay out carries a unique marker.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from forum.discussion import posting
from forum.discussion.episode_codes import key_of
from forum.discussion.episodes import EpisodeEntry, upsert_episodes
from forum.models import Post, Thread, User, utcnow
from forum.staff import moderation
from tests.conftest import AppBuilder, Factory, browser_for, moderator_of
from tests.html_scan import head_tags

TITLE = "TITLE-S1E8-MARKER"  # the S1E8 thread's title
THREAD_BODY = "THREADBODY-S1E8-MARKER"  # its opening post
LATER_TITLE = "TITLE-S1E9-MARKER"  # a thread tied to S1E9, not aired
POST = "POST-S1E8-MARKER"  # a reply discussing S1E8 in the S1E3 thread
SPAN = "SPAN-S1E8-MARKER"  # a >!S1E8: ...!< span in an S1E3 post
OPENER_SPAN = "OPENERSPAN-S1E8-MARKER"  # the same in an opening post
HIDDEN_POST = "HIDDENPOST-MARKER"
HIDDEN_THREAD = "HIDDENTHREAD-MARKER"
HIDDEN_OPENER = "HIDDENOPENER-MARKER"
DELETED_POST = "DELETEDPOST-MARKER"
DELETED_OPENER = "DELETEDOPENER-MARKER"
GENERIC = "GENERIC-SPOILER-MARKER"  # a >!generic!< spoiler in an opening post
NEVER = (
    TITLE,
    THREAD_BODY,
    LATER_TITLE,
    POST,
    SPAN,
    OPENER_SPAN,
    HIDDEN_POST,
    HIDDEN_THREAD,
    HIDDEN_OPENER,
    DELETED_POST,
    DELETED_OPENER,
    GENERIC,
)


def raw(response: TestResponse) -> bytes:
    headers = "".join(f"{name}: {value}\n" for name, value in response.headers.items())
    return (f"{response.status}\n{headers}\n").encode() + response.get_data()


def leaked(sent: bytes | str, markers: Iterable[str] = NEVER) -> list[str]:
    text = sent.lower() if isinstance(sent, bytes) else sent.lower().encode()
    return [marker for marker in markers if marker.lower().encode() in text]


@dataclass
class Show:
    app: Flask
    threads: list[Thread]
    hidden_thread: Thread
    moderator: User
    fan: User  # sees everything


@pytest.fixture
def show(build_app: AppBuilder, make: Factory, db: Session) -> Show:
    app = build_app(PUBLIC_URL="https://fans.example.org")
    board = make.board("spoiler-show", name="Spoiler Show")
    month_ago, two_days_ago = utcnow().date() - timedelta(30), utcnow().date() - timedelta(2)
    entries = [EpisodeEntry(1, n, f"Episode {n}", month_ago) for n in range(1, 8)]
    entries += [
        EpisodeEntry(1, 8, "Episode 8", two_days_ago),
        EpisodeEntry(1, 9, "Episode 9", None),
    ]
    upsert_episodes(db, board, entries)
    author = make.user("writer_wes")
    moderator = moderator_of(make, db, board, name="mod_max")

    early = posting.create_thread(
        db, board, author, "Episode three chat", "Opening words", episode_key=key_of(1, 3)
    )
    posting.add_post(db, early, author, f"Big reveal: {POST}", episode_key=key_of(1, 8))
    posting.add_post(db, early, author, f"Careful: >!S1E8: {SPAN}!< ok")
    hidden_post = posting.add_post(db, early, author, f"{HIDDEN_POST} text")
    deleted_post = posting.add_post(db, early, author, f"{DELETED_POST} text")
    plain = posting.create_thread(
        db,
        board,
        author,
        "Season 2 talk",
        f"Renewal? >!{GENERIC}!< and >!S1E8: {OPENER_SPAN}!< maybe.",
    )
    s1e8 = posting.create_thread(
        db, board, author, TITLE, f"It was {THREAD_BODY}", episode_key=key_of(1, 8)
    )
    posting.add_post(db, s1e8, author, "Second post")
    s1e9 = posting.create_thread(
        db, board, author, LATER_TITLE, "Not aired", episode_key=key_of(1, 9)
    )
    hidden_thread = posting.create_thread(db, board, author, HIDDEN_THREAD, "Hidden body")
    hidden_opener = posting.create_thread(db, board, author, "Quiet thread", HIDDEN_OPENER)
    deleted_opener = posting.create_thread(db, board, author, "Gone thread", DELETED_OPENER)
    db.commit()

    def opener(thread: Thread) -> Post:
        return db.scalars(select(Post).where(Post.thread_id == thread.id, Post.number == 1)).one()

    moderation.set_post_hidden(db, moderator, hidden_post, True, "spoiler")
    moderation.set_post_hidden(db, moderator, opener(hidden_opener), True, "spoiler")
    moderation.set_thread_hidden(db, moderator, hidden_thread, True, "spam")
    posting.delete_post(deleted_post)
    posting.delete_post(opener(deleted_opener))
    fan = make.user("fan_fay")
    fan.sees_all_spoilers = True
    db.commit()
    threads = [early, plain, s1e8, s1e9, hidden_opener, deleted_opener]
    return Show(app, threads, hidden_thread, moderator, fan)


def documents(show: Show) -> list[str]:
    urls = ["/feed.atom", "/b/spoiler-show/feed.atom", "/robots.txt"]
    urls += [f"/t/{thread.id}/feed.atom" for thread in [*show.threads, show.hidden_thread]]
    urls += ["/sitemap.xml", "/sitemap-boards.xml", "/sitemap-threads-1.xml"]
    return urls


@pytest.mark.parametrize("who", ["visitor", "fan who sees everything", "moderator"])
def test_no_feed_or_sitemap_carries_what_a_visitor_may_not_see(show: Show, who: str) -> None:
    user = {"visitor": None, "fan who sees everything": show.fan, "moderator": show.moderator}
    browser = browser_for(show.app, user[who])

    for url in documents(show):
        for _ in range(2):  # rendered, then from the store
            response = browser.get(url)
            assert response.status_code in (200, 404), url
            assert leaked(raw(response)) == [], url


def test_a_hidden_threads_feed_is_not_found(show: Show) -> None:
    for user in (None, show.moderator):
        response = browser_for(show.app, user).get(f"/t/{show.hidden_thread.id}/feed.atom")
        assert response.status_code == 404


def test_the_feeds_do_carry_what_visitors_may_read(show: Show) -> None:
    """The checks above can fail: the same feeds carry the visible text around the markers."""
    visitor = browser_for(show.app)
    early, plain = show.threads[0], show.threads[1]

    site = visitor.get("/feed.atom").get_data()
    assert b"Season 2 talk" in site and b"Renewal?" in site and b"maybe." in site
    assert b"Spoiler for S1E8 \xc2\xb7 reveal" in site
    thread = visitor.get(f"/t/{early.id}/feed.atom").get_data()
    assert b"Careful:" in thread and b"Opening words" in thread
    assert f"/t/{plain.id}/".encode() in visitor.get("/sitemap-threads-1.xml").get_data()


def preview_values(page: str) -> str:
    tags = head_tags(page)
    return " ".join([*(" ".join(v) for v in tags.meta.values()), *map(str, tags.links)])


@pytest.mark.parametrize("who", ["visitor", "fan who sees everything", "moderator"])
def test_no_preview_tag_carries_what_a_visitor_may_not_see(show: Show, who: str) -> None:
    user = {"visitor": None, "fan who sees everything": show.fan, "moderator": show.moderator}
    browser = browser_for(show.app, user[who])
    pages = ["/", "/b/spoiler-show"]
    pages += [f"/t/{thread.id}/{thread.slug}" for thread in show.threads]

    for url in pages:
        response = browser.get(url)
        assert response.status_code == 200, url
        assert leaked(preview_values(response.get_data(as_text=True))) == [], url


def test_a_generic_spoiler_never_reaches_an_og_description(show: Show) -> None:
    plain = show.threads[1]
    for user in (None, show.fan):
        page = browser_for(show.app, user).get(f"/t/{plain.id}/{plain.slug}")
        tags = head_tags(page.get_data(as_text=True))
        assert tags.one("og:description") == "Renewal? and maybe."
        assert GENERIC.encode() not in page.get_data().split(b"</head>")[0]
