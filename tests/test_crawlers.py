"""robots.txt and the sitemaps (forum/views/crawlers.py): private pages disallowed, a sitemap
index whose thread pages are ranges of thread ids, valid XML with absolute URLs on
FORUM_PUBLIC_URL and lastmod dates, only what a visitor may see, cheap to serve."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from forum.discussion.episode_codes import key_of
from forum.models import Thread, User
from forum.sharing import sitemap_reading
from forum.staff import moderation
from tests.conftest import AppBuilder, Browserish, Factory, StatementLog, browser_for

PUBLIC = "https://fans.example.org"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


@pytest.fixture
def site(build_app: AppBuilder) -> Flask:
    return build_app(PUBLIC_URL=PUBLIC)


@pytest.fixture
def crawler(site: Flask) -> Browserish:
    return browser_for(site)


def xml_of(response: object) -> ET.Element:
    assert response.status_code == 200  # type: ignore[attr-defined]
    assert response.mimetype == "application/xml"  # type: ignore[attr-defined]
    return ET.fromstring(response.get_data())  # type: ignore[attr-defined]


def locs(root: ET.Element, kind: str) -> dict[str, str | None]:
    return {
        element.findtext(f"{SITEMAP}loc") or "": element.findtext(f"{SITEMAP}lastmod")
        for element in root.iter(f"{SITEMAP}{kind}")
    }


def test_robots_txt_keeps_crawlers_out_of_private_pages(crawler: Browserish) -> None:
    response = crawler.get("/robots.txt")

    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    lines = response.get_data(as_text=True).splitlines()
    assert lines[0] == "User-agent: *"
    for path in ("/search", "/login", "/register", "/settings", "/mod", "/admin", "/p/"):
        assert f"Disallow: {path}" in lines
    assert "Disallow: /" not in lines  # the boards and threads stay open
    assert f"Sitemap: {PUBLIC}/sitemap.xml" in lines
    assert "max-age=86400" in response.headers["Cache-Control"]


def test_robots_txt_reads_no_database(crawler: Browserish, sql: StatementLog) -> None:
    sql.clear()
    crawler.get("/robots.txt")

    assert len(sql) == 0


def test_the_sitemap_lists_boards_and_threads_with_lastmod(
    crawler: Browserish, make: Factory
) -> None:
    board = make.board("partner-track")
    archived = make.board("old-show", is_archived=True)
    thread = make.thread(board=board, title="Season 2 talk", replies=1)

    index = xml_of(crawler.get("/sitemap.xml"))

    assert index.tag == f"{SITEMAP}sitemapindex"
    pages = locs(index, "sitemap")
    assert list(pages) == [f"{PUBLIC}/sitemap-boards.xml", f"{PUBLIC}/sitemap-threads-1.xml"]
    page_lastmod = pages[f"{PUBLIC}/sitemap-threads-1.xml"]
    assert page_lastmod is not None
    assert datetime.fromisoformat(page_lastmod) == thread.last_post_at.replace(microsecond=0)
    boards = locs(xml_of(crawler.get("/sitemap-boards.xml")), "url")
    assert set(boards) == {
        f"{PUBLIC}/",
        f"{PUBLIC}/b/{board.slug}",
        f"{PUBLIC}/b/{archived.slug}",
    }
    threads = locs(xml_of(crawler.get("/sitemap-threads-1.xml")), "url")
    assert list(threads) == [f"{PUBLIC}/t/{thread.id}/season-2-talk"]
    lastmod = threads[f"{PUBLIC}/t/{thread.id}/season-2-talk"]
    assert lastmod is not None
    assert datetime.fromisoformat(lastmod) == thread.last_post_at.replace(microsecond=0)
    assert all(boards[url] for url in boards if url != f"{PUBLIC}/b/{archived.slug}")


def test_hidden_threads_are_left_out(
    crawler: Browserish, make: Factory, db: Session, global_moderator: User
) -> None:
    shown = make.thread(title="Shown thread")
    hidden = make.thread(title="Hidden thread")
    moderation.set_thread_hidden(db, global_moderator, hidden, True, "spam")
    db.commit()

    sent = crawler.get("/sitemap-threads-1.xml").get_data()

    assert f"/t/{shown.id}/".encode() in sent
    assert f"/t/{hidden.id}/".encode() not in sent
    assert b"hidden-thread" not in sent


def test_episode_threads_are_listed_by_their_code(crawler: Browserish, make: Factory) -> None:
    board = make.board("partner-track")
    thread = make.thread(board=board, title="Ingrid quits the firm")
    thread.episode_key, thread.slug = key_of(1, 8), "s1e8"
    make.session.commit()

    sent = crawler.get("/sitemap-threads-1.xml").get_data()

    assert f"/t/{thread.id}/s1e8".encode() in sent
    assert b"quits" not in sent


def test_thread_pages_are_ranges_of_ids(
    crawler: Browserish, make: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sitemap_reading, "SITEMAP_THREADS_PER_PAGE", 2)
    board = make.board()
    threads = [make.thread(board=board) for _ in range(5)]
    first_page = (threads[0].id - 1) // 2 + 1
    last_page = (threads[-1].id - 1) // 2 + 1

    index = locs(xml_of(crawler.get("/sitemap.xml")), "sitemap")

    assert len(index) == 1 + last_page
    dated = [url for url, lastmod in index.items() if lastmod and "threads" in url]
    assert dated == [f"{PUBLIC}/sitemap-threads-{n}.xml" for n in range(first_page, last_page + 1)]
    listed: list[str] = []
    for page in range(1, last_page + 1):
        urls = locs(xml_of(crawler.get(f"/sitemap-threads-{page}.xml")), "url")
        assert len(urls) <= 2
        listed += urls
    assert listed == [f"{PUBLIC}/t/{thread.id}/{thread.slug}" for thread in threads]
    assert first_page >= 1
    assert crawler.get(f"/sitemap-threads-{last_page + 1}.xml").status_code == 404
    assert crawler.get("/sitemap-threads-0.xml").status_code == 404


def test_an_empty_site_has_a_valid_sitemap(crawler: Browserish) -> None:
    assert list(locs(xml_of(crawler.get("/sitemap.xml")), "sitemap")) == [
        f"{PUBLIC}/sitemap-boards.xml"
    ]
    assert locs(xml_of(crawler.get("/sitemap-threads-1.xml")), "url") == {}


def test_sitemaps_are_served_from_the_cache_until_something_changes(
    crawler: Browserish, make: Factory, sql: StatementLog
) -> None:
    board = make.board("partner-track")
    thread = make.thread(board=board, title="Finale")
    crawler.get("/search")  # the settings, read once per process every few seconds
    for url in ("/sitemap.xml", "/sitemap-boards.xml", "/sitemap-threads-1.xml"):
        first = crawler.get(url)
        sql.clear()
        again = crawler.get(url)
        assert (again.headers["X-Cache"], len(sql)) == ("hit", 1), url
        assert crawler.get(url, headers={"If-None-Match": first.headers["ETag"]}).status_code == 304

    make.reply(thread, make.user(), "News!")

    assert crawler.get("/sitemap-threads-1.xml").headers["X-Cache"] == "miss"


def test_a_renamed_thread_has_its_new_address_at_once(
    crawler: Browserish, make: Factory, db: Session, global_moderator: User
) -> None:
    thread = make.thread(title="Old name")
    crawler.get("/sitemap-threads-1.xml")

    moderation.rename_thread(db, global_moderator, thread, "New name")
    db.commit()

    sent = crawler.get("/sitemap-threads-1.xml").get_data()
    assert b"new-name" in sent and b"old-name" not in sent
    assert isinstance(thread, Thread)
