"""The Atom feeds (forum/views/feeds.py, forum/sharing/feed_reading.py): valid Atom as a
maintained parser (feedparser) reads it, absolute links on FORUM_PUBLIC_URL, stable ids, dates,
authors, order, the 20-post cap, the stored sanitised HTML as content, conditional GET, and a
fixed number of statements."""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from datetime import UTC, datetime

import feedparser
import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.http import http_date

from forum.discussion import posting
from forum.models import Board, Post, Thread, User
from forum.staff import moderation
from tests.conftest import AppBuilder, Browserish, Factory, StatementLog, browser_for

PUBLIC = "https://fans.example.org"
ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def site(build_app: AppBuilder) -> Flask:
    return build_app(PUBLIC_URL=PUBLIC)


@pytest.fixture
def reader(site: Flask) -> Browserish:
    return browser_for(site)


def parsed(response: object) -> feedparser.FeedParserDict:
    body = response.get_data()  # type: ignore[attr-defined]
    feed = feedparser.parse(body)
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == "atom10"
    return feed


def opener_of(db: Session, thread: Thread) -> Post:
    return db.scalars(select(Post).where(Post.thread_id == thread.id, Post.number == 1)).one()


def contents(response: object) -> dict[str, str]:
    """Entry id -> the content element's text, exactly as sent (unescaped by the XML parser
    once, as a feed reader does): feedparser sanitises HTML itself, so it can't tell."""
    root = ET.fromstring(response.get_data())  # type: ignore[attr-defined]
    found = {}
    for entry in root.iter(f"{ATOM}entry"):
        content = entry.find(f"{ATOM}content")
        found[entry.findtext(f"{ATOM}id") or ""] = content.text if content is not None else None
    return found  # type: ignore[return-value]


def test_the_site_feed_lists_the_newest_threads_with_absolute_links(
    reader: Browserish, make: Factory, db: Session
) -> None:
    author = make.user("writer_wes")
    board = make.board("partner-track", name="Partner Track")
    older = make.thread(board=board, author=author, title="Season 2 talk", body="*Renewal* soon?")
    newer = make.thread(board=board, author=author, title="Casting news", body="Arden Cho!")

    response = reader.get("/feed.atom")

    assert response.status_code == 200
    assert response.mimetype == "application/atom+xml"
    feed = parsed(response)
    assert feed.feed.id == f"{PUBLIC}/feed.atom"
    assert feed.feed.title == "Showboard: latest threads"
    links = {link.rel: link.href for link in feed.feed.links}
    assert links == {"self": f"{PUBLIC}/feed.atom", "alternate": f"{PUBLIC}/"}
    assert feed.feed.updated_parsed is not None
    assert [entry.title for entry in feed.entries] == ["Casting news", "Season 2 talk"]
    first, second = feed.entries
    assert first.id == f"{PUBLIC}/t/{newer.id}"
    assert second.id == f"{PUBLIC}/t/{older.id}"
    assert first.link == f"{PUBLIC}/t/{newer.id}/{newer.slug}"
    assert first.author == "writer_wes"
    assert first.author_detail.href == f"{PUBLIC}/u/writer_wes"
    published = datetime(*first.published_parsed[:6], tzinfo=UTC)
    assert abs((published - newer.created_at).total_seconds()) < 1
    assert first.updated_parsed is not None
    assert contents(response)[second.id] == opener_of(db, older).html
    assert "<em>Renewal</em>" in contents(response)[second.id]


def test_markup_in_a_post_is_escaped_as_atom_wants_it(
    reader: Browserish, make: Factory, db: Session
) -> None:
    thread = make.thread(title="Tags & <things>", body="<script>alert(1)</script> **bold** & co")

    response = reader.get("/feed.atom")

    raw = response.get_data()
    assert b"<script>" not in raw
    assert b"Tags &amp; &lt;things&gt;" in raw
    stored = opener_of(db, thread).html
    assert "<strong>bold</strong>" in stored
    assert contents(response)[f"{PUBLIC}/t/{thread.id}"] == stored
    assert parsed(response).entries[0].title == "Tags & <things>"


def test_a_board_feed_lists_only_its_board(reader: Browserish, make: Factory) -> None:
    board, other = make.board("partner-track"), make.board("the-bear")
    here = make.thread(board=board, title="Here")
    make.thread(board=other, title="Elsewhere")

    feed = parsed(reader.get("/b/partner-track/feed.atom"))

    assert feed.feed.id == f"{PUBLIC}/b/partner-track/feed.atom"
    links = {link.rel: link.href for link in feed.feed.links}
    assert links["alternate"] == f"{PUBLIC}/b/partner-track"
    assert [entry.id for entry in feed.entries] == [f"{PUBLIC}/t/{here.id}"]
    assert reader.get("/b/no-such-board/feed.atom").status_code == 404


def test_a_thread_feed_has_its_latest_twenty_posts_newest_first(
    reader: Browserish, make: Factory, db: Session
) -> None:
    fan = make.user("fan_fay")
    thread = make.thread(author=fan, title="Finale", body="Opening", replies=24)
    posts = db.scalars(select(Post).where(Post.thread_id == thread.id).order_by(Post.number)).all()

    response = reader.get(f"/t/{thread.id}/feed.atom")

    feed = parsed(response)
    assert feed.feed.id == f"{PUBLIC}/t/{thread.id}/feed.atom"
    links = {link.rel: link.href for link in feed.feed.links}
    assert links["alternate"] == f"{PUBLIC}/t/{thread.id}/{thread.slug}"
    newest = list(reversed(posts))[:20]
    assert [entry.id for entry in feed.entries] == [f"{PUBLIC}/p/{post.id}" for post in newest]
    assert feed.entries[0].title == "Re: Finale (#25)"
    assert feed.entries[0].link == f"{PUBLIC}/p/{newest[0].id}"
    assert {entry.author for entry in feed.entries} == {"fan_fay"}
    sent = contents(response)
    assert all(sent[f"{PUBLIC}/p/{post.id}"] == post.html for post in newest)


def test_a_thread_feed_of_a_missing_thread_is_not_found(reader: Browserish) -> None:
    assert reader.get("/t/987654/feed.atom").status_code == 404
    assert reader.get("/t/99999999999/feed.atom").status_code == 404


def test_a_deleted_authors_entries_say_so(reader: Browserish, deleted_account: object) -> None:
    feed = parsed(reader.get("/feed.atom"))

    assert [entry.author for entry in feed.entries] == ["deleted user"]


def test_members_get_the_same_feed(
    site: Flask, reader: Browserish, make: Factory, member: User
) -> None:
    make.thread(title="Shared")
    as_visitor = reader.get("/feed.atom").get_data()

    as_member = browser_for(site, member).get("/feed.atom")

    assert as_member.get_data() == as_visitor


# ------------------------------------------------------------------------------ conditional GET


@pytest.mark.parametrize("url", ["/feed.atom", "/b/partner-track/feed.atom", "thread"])
def test_an_unchanged_feed_is_not_sent_again(
    reader: Browserish, make: Factory, sql: StatementLog, url: str
) -> None:
    thread = make.thread(board=make.board("partner-track"), title="Finale", replies=2)
    url = f"/t/{thread.id}/feed.atom" if url == "thread" else url
    first = reader.get(url)
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]

    sql.clear()
    by_etag = reader.get(url, headers={"If-None-Match": etag})
    statements = len(sql)
    by_date = reader.get(url, headers={"If-Modified-Since": modified})

    assert by_etag.status_code == 304 and by_etag.get_data() == b""
    assert by_etag.headers["ETag"] == etag
    assert statements == 1  # the version read, nothing rendered
    # This worker's own store: its dates are not shared, so a date proves nothing (below).
    assert by_date.status_code == 200 and by_date.get_data() == first.get_data()


def test_a_date_from_another_workers_copy_never_passes_for_current(
    build_app: AppBuilder, make: Factory, db: Session, global_moderator: User
) -> None:
    """Two workers with their own stores: one served the feed with a reply in it, a moderator
    hid the reply, the other renders the feed in the same second. A reader holding the first
    copy asks by its date: only a shared store (Redis) dates copies apart, so the answer is the
    new feed, not 304."""
    first, second = (build_app(PUBLIC_URL=PUBLIC) for _ in range(2))
    thread = make.thread(title="Finale")
    reply = make.reply(thread, make.user(), "Words a moderator hides")
    old = browser_for(first).get(f"/t/{thread.id}/feed.atom")
    assert b"Words a moderator hides" in old.get_data()

    moderation.set_post_hidden(db, global_moderator, reply, True, "off topic")
    db.commit()
    since = {"If-Modified-Since": old.headers["Last-Modified"]}
    again = browser_for(second).get(f"/t/{thread.id}/feed.atom", headers=since)

    assert again.status_code == 200
    assert b"Words a moderator hides" not in again.get_data()


@pytest.mark.parametrize("url", ["/feed.atom", "/b/partner-track/feed.atom", "thread"])
def test_a_new_post_changes_the_etag(reader: Browserish, make: Factory, url: str) -> None:
    thread = make.thread(board=make.board("partner-track"), title="Finale")
    url = f"/t/{thread.id}/feed.atom" if url == "thread" else url
    first = reader.get(url)
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]

    make.reply(thread, make.user(), "A new reply")
    make.thread(board=make.session.get_one(Board, thread.board_id), title="A new thread")
    by_etag = reader.get(url, headers={"If-None-Match": etag})
    by_date = reader.get(url, headers={"If-Modified-Since": modified})

    assert by_etag.status_code == 200
    assert by_etag.headers["ETag"] != etag
    assert by_date.status_code == 200
    assert by_date.get_data() == by_etag.get_data()


def test_an_edited_opening_post_changes_the_site_and_board_feeds(
    reader: Browserish, make: Factory, db: Session
) -> None:
    author = make.user("writer_wes")
    thread = make.thread(board=make.board("partner-track"), author=author, body="Before edit")
    before = {url: reader.get(url) for url in ("/feed.atom", "/b/partner-track/feed.atom")}

    posting.edit_post(db, opener_of(db, thread), "After edit", editor=author)
    db.commit()

    for url, first in before.items():
        again = reader.get(url, headers={"If-None-Match": first.headers["ETag"]})
        assert again.status_code == 200, url
        assert b"After edit" in again.get_data() and b"Before edit" not in again.get_data()


def test_a_deleted_opening_post_leaves_the_site_and_board_feeds(
    reader: Browserish, make: Factory, db: Session
) -> None:
    author = make.user("writer_wes")
    thread = make.thread(board=make.board("partner-track"), author=author, body="Regretted words")
    before = {url: reader.get(url) for url in ("/feed.atom", "/b/partner-track/feed.atom")}
    assert all(b"Regretted words" in first.get_data() for first in before.values())

    posting.delete_post(opener_of(db, thread))
    db.commit()

    for url, first in before.items():
        again = reader.get(url, headers={"If-None-Match": first.headers["ETag"]})
        assert again.status_code == 200, url
        assert b"Regretted words" not in again.get_data()


def test_a_date_from_a_clock_ahead_is_ignored(reader: Browserish, make: Factory) -> None:
    make.thread(title="Finale")
    reader.get("/feed.atom")

    future = http_date(datetime(2999, 1, 1, tzinfo=UTC))

    assert reader.get("/feed.atom", headers={"If-Modified-Since": future}).status_code == 200


# ------------------------------------------------------------------------------ statements

# The site feed: the threads with their authors, boards and opening posts, one statement.
SITE_FEED_QUERIES = 1
# A board's: the board, then its threads likewise.
BOARD_FEED_QUERIES = 2
# A thread's: the thread with its board, then its posts with their authors.
THREAD_FEED_QUERIES = 2
VERSION_READ = 1


@pytest.mark.parametrize("count", [1, 30])
def test_feeds_cost_a_fixed_number_of_statements(
    reader: Browserish, make: Factory, sql: StatementLog, count: int
) -> None:
    board = make.board("partner-track")
    fans = [make.user() for _ in range(count)]
    threads = [make.thread(board=board, author=fan) for fan in fans]
    for fan in fans:
        make.reply(threads[0], fan)
    reader.get("/search")  # the settings, read once per process every few seconds
    costs = {}
    for url in ("/feed.atom", "/b/partner-track/feed.atom", f"/t/{threads[0].id}/feed.atom"):
        sql.clear()
        assert reader.get(url).headers["X-Cache"] == "miss"
        costs[url] = len(sql)
        sql.clear()
        assert reader.get(url).headers["X-Cache"] == "hit"
        assert len(sql) == VERSION_READ, url

    assert costs == {
        "/feed.atom": VERSION_READ + SITE_FEED_QUERIES,
        "/b/partner-track/feed.atom": VERSION_READ + BOARD_FEED_QUERIES,
        f"/t/{threads[0].id}/feed.atom": VERSION_READ + THREAD_FEED_QUERIES,
    }


REDIS_URL = os.environ.get("FORUM_TEST_REDIS_URL", "")


@pytest.mark.skipif(not REDIS_URL, reason="FORUM_TEST_REDIS_URL is not set")
def test_feeds_are_shared_through_redis(build_app: AppBuilder, make: Factory) -> None:
    """Two workers (apps) on one Redis: what one rendered the other serves, with the same
    Last-Modified, so If-Modified-Since works whichever worker answers."""
    first, second = (build_app(PUBLIC_URL=PUBLIC, REDIS_URL=REDIS_URL) for _ in range(2))
    thread = make.thread(title=f"Shared {os.getpid()} {datetime.now(UTC).timestamp()}")

    rendered = browser_for(first).get(f"/t/{thread.id}/feed.atom")
    served = browser_for(second).get(f"/t/{thread.id}/feed.atom")
    again = browser_for(second).get(
        f"/t/{thread.id}/feed.atom",
        headers={"If-Modified-Since": rendered.headers["Last-Modified"]},
    )

    assert (rendered.headers["X-Cache"], served.headers["X-Cache"]) == ("miss", "hit")
    assert served.get_data() == rendered.get_data()
    assert served.headers["Last-Modified"] == rendered.headers["Last-Modified"]
    assert again.status_code == 304


def test_without_the_page_cache_only_the_etag_revalidates(
    build_app: AppBuilder, make: Factory
) -> None:
    """Nothing remembers when a copy was rendered, so a date can't prove a copy unchanged."""
    reader = browser_for(build_app(PUBLIC_URL=PUBLIC, PAGE_CACHE=False))
    make.thread(title="Finale")
    first = reader.get("/feed.atom")

    by_etag = reader.get("/feed.atom", headers={"If-None-Match": first.headers["ETag"]})
    since = {"If-Modified-Since": first.headers["Last-Modified"]}
    by_date = reader.get("/feed.atom", headers=since)

    assert first.headers["X-Cache"] == "miss"
    assert by_etag.status_code == 304
    assert by_date.status_code == 200 and by_date.get_data() == first.get_data()
