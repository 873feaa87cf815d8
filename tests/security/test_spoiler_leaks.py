"""Spoilers never reach a viewer who hasn't watched the episode: asserted on the raw bytes sent
(body and headers), on every page and response kind, for members (their progress), visitors
(the grace period, through the page cache) and a member on two devices.

The show: episodes S1E1-S1E7 aired a month ago, S1E8 two days ago (inside the visitor grace
period of 7 days), S1E9 not yet. Each thing that must stay hidden carries a unique marker:

- TITLE: the title of the thread tied to S1E8;
- THREAD_BODY: that thread's opening post;
- POST: a reply marked as discussing S1E8, in the S1E3 thread;
- SPAN: a `>!S1E8: ...!<` span in an S1E3 post;
- EPISODE_TITLE: S1E8's own title (the episode guide hides it).

A member at S1E6 and a visitor (boundary S1E7) must get none of them; the checks are
case-insensitive so a slug ("title-s1e8-marker") counts as a leak too.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from forum.discussion import posting
from forum.discussion.episode_codes import key_of
from forum.discussion.episodes import EpisodeEntry, upsert_episodes
from forum.models import Board, Episode, Post, Role, Thread, User, utcnow
from forum.platform import freshness
from forum.staff import moderation
from tests.conftest import AppBuilder, Browserish, Factory, browser_for, moderator_of
from tests.html_scan import scan

TITLE = "TITLE-S1E8-MARKER"
THREAD_BODY = "THREADBODY-S1E8-MARKER"
POST = "POST-S1E8-MARKER"
SPAN = "SPAN-S1E8-MARKER"
EPISODE_TITLE = "EPNAME-S1E8-MARKER"
RENAMED = "RENAMED-S1E8-MARKER"
HIDDEN = "HIDDENPOST-S1E8-MARKER"
DELETED = "DELETEDPOST-S1E8-MARKER"
NEWS_TITLE = "NEWSTITLE-MARKER"
# What the issue lists: thread titles, tagged posts and spans. Episode titles have a test of
# their own (test_episode_titles_beyond_progress_stay_out_of_every_page).
SPOILERS = (TITLE, THREAD_BODY, POST, SPAN)
EVERY_SPOILER = (*SPOILERS, EPISODE_TITLE)
S1E8 = key_of(1, 8)


def raw(response: TestResponse) -> bytes:
    """Everything the client received: status line, headers and body."""
    headers = "".join(f"{name}: {value}\n" for name, value in response.headers.items())
    return (f"{response.status}\n{headers}\n").encode() + response.get_data()


def leaked(response: TestResponse, markers: Iterable[str] = SPOILERS) -> list[str]:
    sent = raw(response).lower()
    return [marker for marker in markers if marker.lower().encode() in sent]


def shown(response: TestResponse, markers: Iterable[str]) -> list[str]:
    """The markers that are in the response (for the tests that expect them)."""
    sent = raw(response).lower()
    return [marker for marker in markers if marker.lower().encode() in sent]


@dataclass
class Show:
    app: Flask
    board: Board
    author: User
    fan: User  # a member at S1E6
    moderator: User
    episode_thread: Thread  # tied to S1E8, its title TITLE
    early_thread: Thread  # tied to S1E3
    opening_post: Post  # the S1E8 thread's first post (THREAD_BODY)
    tagged_post: Post  # discusses S1E8 (POST), in the S1E3 thread
    span_post: Post  # an S1E3 post with an S1E8 span (SPAN)
    hidden_post: Post  # hidden by a moderator, S1E8 spoiler inside (HIDDEN)
    deleted_post: Post  # deleted by its author (DELETED)

    @property
    def slug(self) -> str:
        return self.board.slug

    def thread_url(self, thread: Thread, page: int | None = None) -> str:
        return f"/t/{thread.id}/{thread.slug}" + (f"?page={page}" if page else "")


def set_progress(db: Session, user: User, board: Board, key: int | None) -> None:
    db.refresh(user)
    user.watch_progress = {} if key is None else {str(board.id): key}
    db.commit()


@pytest.fixture
def show(build_app: AppBuilder, make: Factory, db: Session) -> Show:
    # Two posts and two threads a page, so every list has a page 2.
    app = build_app(POSTS_PER_PAGE=2, THREADS_PER_PAGE=2)
    board = make.board("spoiler-show", name="Spoiler Show")
    today = utcnow().date()
    month_ago, two_days_ago = today - timedelta(days=30), today - timedelta(days=2)
    entries = [EpisodeEntry(1, n, f"Episode {n}", month_ago) for n in range(1, 8)]
    entries += [
        EpisodeEntry(1, 8, EPISODE_TITLE, two_days_ago),
        EpisodeEntry(1, 9, "Episode 9", None),
    ]
    upsert_episodes(db, board, entries)
    db.commit()
    author = make.user("writer_wes")
    fan = make.user("fan_fay")
    moderator = moderator_of(make, db, board, name="mod_max")

    for n in range(3):
        posting.create_thread(db, board, author, f"General talk {n}", "Nothing to hide")
    early = posting.create_thread(
        db, board, author, "Episode three chat", "Opening words", episode_key=key_of(1, 3)
    )
    tagged = posting.add_post(db, early, author, f"Big reveal: {POST}", episode_key=S1E8)
    span_post = posting.add_post(db, early, author, f"Careful: >!S1E8: {SPAN}!< ok")
    hidden = posting.add_post(db, early, author, f">!S1E8: {HIDDEN}!< and {HIDDEN}")
    deleted = posting.add_post(db, early, author, f">!S1E8: {DELETED}!< and {DELETED}")
    posting.add_post(db, early, author, "A harmless last word")
    episode_thread = posting.create_thread(
        db, board, author, f"{TITLE} what a twist", f"It was {THREAD_BODY}", episode_key=S1E8
    )
    posting.add_post(db, episode_thread, author, "Second post")
    posting.add_post(db, episode_thread, author, "Third post, page 2")
    db.commit()
    # The episode guide links each episode's official thread.
    episode = db.query(Episode).filter_by(board_id=board.id, season=1, number=8).one()
    episode.thread_id = episode_thread.id
    # Edited, so the edit histories exist.
    posting.edit_post(db, span_post, f"Careful: >!S1E8: {SPAN}!< ok (edited)", editor=author)
    posting.edit_post(db, tagged, f"Big reveal: {POST} (edited)", editor=author)
    opening = db.scalars(
        select(Post).where(Post.thread_id == episode_thread.id, Post.number == 1)
    ).one()
    posting.edit_post(db, opening, f"It was {THREAD_BODY} (edited)", editor=author)
    moderation.set_post_hidden(db, moderator, hidden, True, "spoiler")
    posting.delete_post(deleted)
    freshness.changed(db, site=True)
    db.commit()
    set_progress(db, fan, board, key_of(1, 6))
    for thread in (early, episode_thread):
        db.refresh(thread)
    return Show(
        app,
        board,
        author,
        fan,
        moderator,
        episode_thread,
        early,
        opening,
        tagged,
        span_post,
        hidden,
        deleted,
    )


def read_pages(show: Show) -> dict[str, str]:
    """Every GET page where the S1E8 material could show, by a name for the failure message."""
    s8, s3 = show.episode_thread, show.early_thread
    return {
        "index": "/",
        "board": f"/b/{show.slug}",
        "board page 2": f"/b/{show.slug}?page=2",
        "S1E8 thread (warning)": show.thread_url(s8),
        "S1E8 thread page 2 (warning)": show.thread_url(s8, 2),
        "S1E3 thread": show.thread_url(s3),
        "S1E3 thread page 2": show.thread_url(s3, 2),
        "S1E3 thread page 3": show.thread_url(s3, 3),
        "profile": f"/u/{show.author.username}",
        "episode guide": f"/b/{show.slug}/episodes",
        "history of the span post": f"/p/{show.span_post.id}/revisions",
        "history of the tagged post": f"/p/{show.tagged_post.id}/revisions",
        "history of the S1E8 opening": f"/p/{show.opening_post.id}/revisions",
        "public mod log": "/mod/log",
        "404 page": "/t/987654321/nothing",
        "never edited: 404": f"/p/{s8.last_post_id}/revisions",
    }


def redirects(show: Show) -> dict[str, str]:
    s8 = show.episode_thread
    return {
        "permalink of the S1E8 opening": f"/p/{show.opening_post.id}",
        "permalink of the tagged post": f"/p/{show.tagged_post.id}",
        "permalink of the span post": f"/p/{show.span_post.id}",
        "S1E8 thread without slug": f"/t/{s8.id}",
        "S1E8 thread, wrong slug": f"/t/{s8.id}/wrong",
        "S1E8 thread page 2, wrong slug": f"/t/{s8.id}/wrong?page=2",
    }


def leaks_on(
    browser: Browserish, urls: dict[str, str], markers: Iterable[str] = SPOILERS
) -> dict[str, list[str]]:
    found = {}
    for name, url in urls.items():
        response = browser.get(url)
        assert response.status_code in (200, 301, 302, 404), (name, response.status_code)
        if leaks := leaked(response, markers):
            found[f"{name} {url}"] = leaks
    return found


# ------------------------------------------------------------------------------ a member at S1E6


def test_a_member_at_s1e6_gets_no_s1e8_material_on_any_page(show: Show) -> None:
    fan = browser_for(show.app, show.fan)

    assert leaks_on(fan, read_pages(show)) == {}
    assert leaks_on(fan, redirects(show)) == {}


def test_episode_titles_beyond_progress_stay_out_of_every_page(show: Show) -> None:
    fan = browser_for(show.app, show.fan)
    pages = {**read_pages(show), "new thread form": f"/b/{show.slug}/new"}

    assert leaks_on(fan, pages, [EPISODE_TITLE]) == {}


def test_the_pages_checked_do_show_it_to_a_member_who_watched_s1e8(show: Show, db: Session) -> None:
    """The same pages, for the same member at S1E8: the markers are there, so the checks above
    look in the right places."""
    set_progress(db, show.fan, show.board, S1E8)
    fan = browser_for(show.app, show.fan)
    pages = read_pages(show)

    def markers_on(name: str) -> list[str]:
        return shown(fan.get(pages[name]), EVERY_SPOILER)

    assert TITLE in markers_on("board") + markers_on("board page 2")
    assert TITLE in markers_on("index")
    assert {TITLE, THREAD_BODY} <= set(markers_on("S1E8 thread (warning)"))
    assert POST in markers_on("S1E3 thread")
    assert SPAN in markers_on("S1E3 thread page 2")
    assert {TITLE, POST, SPAN} <= set(markers_on("profile"))
    assert EPISODE_TITLE in markers_on("episode guide")
    assert SPAN in markers_on("history of the span post")
    assert POST in markers_on("history of the tagged post")
    assert THREAD_BODY in markers_on("history of the S1E8 opening")


def test_permalinks_carry_no_title_words(show: Show) -> None:
    fan = browser_for(show.app, show.fan)
    s8 = show.episode_thread

    response = fan.get(f"/p/{show.opening_post.id}")

    assert response.status_code == 302
    assert response.headers["Location"].startswith(f"/t/{s8.id}/s1e8")
    assert fan.get(f"/t/{s8.id}").headers["Location"] == f"/t/{s8.id}/s1e8"


def test_a_refused_reply_re_renders_without_the_spoilers(show: Show, db: Session) -> None:
    # The form comes back under the thread's last page: put both spoilers there.
    early = db.get_one(Thread, show.early_thread.id)
    posting.add_post(db, early, show.author, f"Again: >!S1E8: {SPAN}!<")
    posting.add_post(db, early, show.author, f"Again: {POST}", episode_key=S1E8)
    db.commit()
    fan = browser_for(show.app, show.fan)
    reply_url = f"/t/{show.early_thread.id}/reply"
    page = show.thread_url(show.early_thread)

    empty = fan.post(reply_url, {"body": ""}, page=page)
    preview = fan.post(reply_url, {"body": "My harmless draft", "preview": "1"}, page=page)
    bad_episode = fan.post(reply_url, {"body": "Hello there", "episode": "S9E9"}, page=page)

    for response in (empty, preview, bad_episode):
        assert response.status_code in (200, 400)
        assert b"reply-form" in response.data or b"<textarea" in response.data
        assert leaked(response) == []


def test_a_reply_to_a_masked_thread_needs_show_anyway(show: Show) -> None:
    """The reply form of a masked thread is on its "show anyway" page, which posts reveal=1.
    A reply refused without it (crafted: the warning page has no form) gets the warning back,
    with the typed text kept; with it, the page the member asked for."""
    fan = browser_for(show.app, show.fan)
    reply_url = f"/t/{show.episode_thread.id}/reply"
    page = f"/t/{show.episode_thread.id}/s1e8?reveal=1"

    crafted = fan.post(reply_url, {"body": "", "episode": "S9E9"}, page=page)
    assert leaked(crafted) == []
    assert b"Show anyway" in crafted.data

    kept = fan.post(reply_url, {"body": "TYPED-TEXT", "episode": "S9E9"}, page=page)
    assert leaked(kept) == [] and b"TYPED-TEXT" in kept.data

    asked = fan.post(reply_url, {"body": "", "reveal": "1"}, page=page)
    assert shown(asked, [TITLE]) == [TITLE]  # the form comes back under its last page


def test_the_edit_history_shows_spoilers_only_when_asked(show: Show) -> None:
    fan = browser_for(show.app, show.fan)
    url = f"/p/{show.span_post.id}/revisions"

    assert leaked(fan.get(url)) == []
    assert SPAN in shown(fan.get(f"{url}?reveal=1"), [SPAN])


def test_the_report_form_shows_no_spoilers(show: Show) -> None:
    fan = browser_for(show.app, show.fan)

    for post in (show.span_post, show.tagged_post, show.opening_post):
        response = fan.get(f"/p/{post.id}/report")
        assert response.status_code == 200
        assert leaked(response) == [], post.id


def test_the_public_mod_log_names_the_thread_by_its_episode(
    show: Show, db: Session, visitor: Browserish
) -> None:
    moderator = browser_for(show.app, show.moderator)
    thread = db.get_one(Thread, show.episode_thread.id)
    moderation.rename_thread(db, show.moderator, thread, f"{RENAMED} new name")
    moderation.set_locked(db, show.moderator, thread, True, "cooling down")
    db.commit()
    fan = browser_for(show.app, show.fan)
    visitor = browser_for(show.app)

    for browser in (fan, visitor, moderator):
        log = browser.get("/mod/log")
        assert b"S1E8" in log.data  # the log does name the thread, by its episode
        assert leaked(log, [TITLE, RENAMED, HIDDEN, DELETED]) == []
    # The rename reached the pages, still masked for the fan.
    assert leaked(fan.get(f"/b/{show.slug}"), [TITLE, RENAMED]) == []
    assert leaked(fan.get(show.thread_url(thread)), [TITLE, RENAMED]) == []


def test_error_pages_show_no_spoilers(show: Show) -> None:
    fan = browser_for(show.app, show.fan)
    s8 = show.episode_thread
    refusals = {
        "edit someone else's post": f"/p/{show.opening_post.id}/edit",
        "reveal a hidden post": f"/p/{show.hidden_post.id}/reveal",
        "reveal a deleted post": f"/p/{show.deleted_post.id}/reveal",
        "history of a deleted post": f"/p/{show.deleted_post.id}/revisions",
        "no such page of the S1E8 thread": f"/t/{s8.id}/s1e8?page=99",
    }
    for name, url in refusals.items():
        response = fan.get(url)
        assert response.status_code in (200, 403, 404), name
        assert leaked(response, [*EVERY_SPOILER, HIDDEN, DELETED]) == [], name


# ------------------------------------------------------------------------------ reveal


def test_reveal_returns_a_visible_posts_spoilers(show: Show) -> None:
    fan = browser_for(show.app, show.fan)

    for post, marker in ((show.span_post, SPAN), (show.tagged_post, POST)):
        for url in (f"/p/{post.id}/reveal", f"/p/{post.id}/reveal?partial=1"):
            response = fan.get(url)
            assert response.status_code == 200
            assert marker in shown(response, [marker])
            assert response.headers["X-Robots-Tag"] == "noindex"


def test_hidden_and_deleted_posts_never_leak_even_for_those_who_see_everything(
    show: Show, db: Session
) -> None:
    db.refresh(show.fan)
    show.fan.sees_all_spoilers = True
    db.commit()
    fan = browser_for(show.app, show.fan)
    visitor = browser_for(show.app)
    early = show.early_thread
    urls = [
        f"/p/{show.hidden_post.id}/reveal",
        f"/p/{show.deleted_post.id}/reveal",
        f"/p/{show.hidden_post.id}/reveal?partial=1",
        f"/p/{show.deleted_post.id}/reveal?partial=1",
        f"/p/{show.deleted_post.id}/revisions",
        f"/p/{show.hidden_post.id}/report",
        f"/p/{show.deleted_post.id}/report",
    ]
    for page in (1, 2, 3):
        urls += [show.thread_url(early, page), show.thread_url(early, page) + "&reveal=1"]
    urls += [f"/u/{show.author.username}", "/"]

    for browser in (fan, visitor):
        for url in urls:
            response = browser.get(url)
            assert leaked(response, [HIDDEN, DELETED]) == [], url
            if "/reveal" in url:
                assert response.status_code == 404, url


# ------------------------------------------------------------------------------ visitors


def test_visitors_pages_through_the_cache_follow_the_grace_period(show: Show) -> None:
    """S1E8 aired two days ago: within the 7-day grace, visitors don't get it, neither from a
    rendered page nor from the cache. Once it leaves the grace (grace set to 0, standing in
    for the days passing: same database, same cache), the next request shows it: the cache key
    moved with the visitor boundary."""
    visitor = browser_for(show.app)
    s8, s3 = show.episode_thread, show.early_thread
    cached = {
        "index": ("/", [TITLE]),
        "board": (f"/b/{show.slug}", [TITLE]),
        "board page 2": (f"/b/{show.slug}?page=2", []),
        "S1E8 thread": (show.thread_url(s8), [TITLE, THREAD_BODY]),
        "S1E3 thread": (show.thread_url(s3), [POST]),
        "S1E3 thread page 2": (show.thread_url(s3, 2), [SPAN]),
        "profile": (f"/u/{show.author.username}", [TITLE, POST, SPAN]),
    }
    for name, (url, _markers) in cached.items():
        first, second = visitor.get(url), visitor.get(url)
        assert (first.headers.get("X-Cache"), second.headers.get("X-Cache")) == ("miss", "hit")
        assert leaked(first) == [] and leaked(second) == [], name
    assert leaks_on(visitor, read_pages(show)) == {}
    assert leaks_on(visitor, redirects(show)) == {}

    show.app.config["SPOILER_GRACE_DAYS"] = 0

    for name, (url, markers) in cached.items():
        response = visitor.get(url)
        assert response.headers.get("X-Cache") == "miss", name
        assert set(shown(response, markers)) == set(markers), name


def test_a_visitors_show_anyway_is_never_cached_for_another(show: Show) -> None:
    first_visitor, second_visitor = browser_for(show.app), browser_for(show.app)
    url = show.thread_url(show.episode_thread)

    revealed = first_visitor.get(f"{url}?reveal=1")
    assert {TITLE, THREAD_BODY} <= set(shown(revealed, [TITLE, THREAD_BODY]))
    assert "X-Cache" not in revealed.headers
    assert first_visitor.get(f"{url}?reveal=1").headers.get("X-Cache") is None

    for _ in range(2):
        assert leaked(second_visitor.get(url)) == []
        assert leaked(first_visitor.get(url)) == []


# ------------------------------------------------------------------------------ two devices


def test_progress_moved_on_one_device_shows_on_the_other_at_once(show: Show) -> None:
    phone, laptop = browser_for(show.app, show.fan), browser_for(show.app, show.fan)
    pages = [
        "/",
        f"/b/{show.slug}",
        f"/b/{show.slug}?page=2",
        show.thread_url(show.early_thread),
        show.thread_url(show.early_thread, 2),
        show.thread_url(show.episode_thread),
    ]
    for device in (phone, laptop):
        assert leaks_on(device, {url: url for url in pages}) == {}

    moved = phone.post(f"/b/{show.slug}/progress", {"watched": "S1E8"}, page=f"/b/{show.slug}")
    assert moved.status_code == 302

    seen = b"".join(raw(laptop.get(url)) for url in pages).lower()
    for marker in (TITLE, THREAD_BODY, POST, SPAN):
        assert marker.lower().encode() in seen, marker


def test_show_me_everything_shows_all(show: Show) -> None:
    fan = browser_for(show.app, show.fan)
    saved = fan.post("/settings/spoilers", {"sees_all_spoilers": "y"}, page="/settings")
    assert saved.status_code == 302

    seen = b"".join(
        raw(fan.get(url))
        for url in (
            f"/b/{show.slug}",
            f"/b/{show.slug}?page=2",
            show.thread_url(show.early_thread),
            show.thread_url(show.early_thread, 2),
            show.thread_url(show.episode_thread),
            f"/b/{show.slug}/episodes",
        )
    ).lower()
    for marker in EVERY_SPOILER:
        assert marker.lower().encode() in seen, marker


# ------------------------------------------------------------------------------ show news


def test_a_member_who_hides_show_news_gets_no_news_title_or_status(
    make: Factory, db: Session, app: Flask
) -> None:
    board = make.board("news-show", name="News Show", status="cancelled")
    author = make.user("newsy_ned")
    posting.create_thread(db, board, author, "Ordinary chat", "Hello")
    posting.create_thread(db, board, author, f"{NEWS_TITLE} it's over", "Sad", is_news=True)
    db.commit()
    hider, reader = make.user("hider_hal"), make.user("reader_rae")
    db.refresh(hider)
    hider.hides_show_news = True
    db.commit()
    hiding, reading = browser_for(app, hider), browser_for(app, reader)

    for url in ("/", f"/b/{board.slug}"):
        hidden = hiding.get(url)
        assert leaked(hidden, [NEWS_TITLE, "cancelled"]) == [], url
        assert b"status hidden" in hidden.data, url
        assert set(shown(reading.get(url), [NEWS_TITLE, "cancelled"])) == {
            NEWS_TITLE,
            "cancelled",
        }, url
    # The board's status is there when the member asks for it.
    assert "cancelled" in shown(hiding.get(f"/b/{board.slug}?news=show"), ["cancelled"])


# ------------------------------------------------------------------------------ the page scanner


def test_spoiler_markup_passes_the_post_body_scan_and_nothing_more(show: Show, db: Session) -> None:
    """tests/html_scan.py admits the spoiler format (both as stored and as withheld) in post
    bodies, and still flags anything else on those elements."""
    posting.add_post(db, db.get_one(Thread, show.early_thread.id), show.author, "A >!plain!< one")
    db.commit()
    fan = browser_for(show.app, show.fan)
    for page in (1, 2, 3, 4):
        found = scan(fan.get(show.thread_url(show.early_thread, page)).get_data(as_text=True))
        assert found.post_bodies > 0
        assert found.findings == [], page
    assert b"spoiler-withheld" in fan.get(show.thread_url(show.early_thread, 2)).data

    hostile = [
        '<input class="spoiler-toggle" type="text">',
        '<input class="spoiler-toggle" type="checkbox" name="x">',
        '<input type="checkbox">',
        '<label class="spoiler" data-episode="javascript">x</label>',
        '<span class="spoiler-text" aria-label="x">x</span>',
        '<p class="spoiler">x</p>',
        '<span class="badge">x</span>',
    ]
    for fragment in hostile:
        assert scan(fragment, fragment_is_post_body=True).body_findings, fragment


# ------------------------------------------------------------------------------ review findings


def test_an_episode_saved_on_the_web_is_logged_without_its_title(
    show: Show, db: Session, make: Factory
) -> None:
    """The public log names an episode by code: the guide hides its title from the fan."""
    admin = make.user("admin_ada", role=Role.ADMIN)
    browser_for(show.app, admin).post(
        f"/b/{show.slug}/episodes",
        {"season": "1", "number": "8", "title": f"{EPISODE_TITLE} again", "aired": ""},
        page=f"/b/{show.slug}/episodes",
    )
    assert db.scalar(select(Episode.title).where(Episode.number == 8)) == (f"{EPISODE_TITLE} again")
    for reader in (browser_for(show.app, show.fan), browser_for(show.app)):
        assert leaked(reader.get("/mod/log"), [EPISODE_TITLE]) == []


def test_a_thread_tied_to_an_episode_later_leaves_no_title_in_earlier_log_rows(
    show: Show, db: Session
) -> None:
    general = posting.create_thread(db, show.board, show.author, "Plain talk", "Hello")
    db.commit()
    moderator = browser_for(show.app, show.moderator)
    moderator.post(f"/mod/threads/{general.id}/rename", {"title": f"{TITLE} renamed"}, page="/")
    moderator.post(f"/mod/threads/{general.id}", {"action": "lock"}, page="/")
    assert TITLE in shown(browser_for(show.app).get("/mod/log"), [TITLE])

    moderator.post(f"/t/{general.id}/episode", {"episode": "S1E8"}, page="/")

    for reader in (browser_for(show.app, show.fan), browser_for(show.app)):
        log = reader.get("/mod/log")
        assert leaked(log, [TITLE, "Plain talk"]) == []
        assert b"S1E8 thread" in log.data


def test_an_edit_that_quotes_a_later_episode_post_discusses_that_episode(
    show: Show, db: Session
) -> None:
    general = posting.create_thread(db, show.board, show.author, "Plain talk", "Hello")
    harmless = posting.add_post(db, general, show.author, "Nothing here")
    db.commit()
    quote = f"> Big reveal: {POST}\n> [said](/p/{show.tagged_post.id})\n\nWow."
    browser_for(show.app, show.author).post(
        f"/p/{harmless.id}/edit", {"body": quote}, page=f"/p/{harmless.id}/edit"
    )
    db.expire_all()
    assert db.get_one(Post, harmless.id).episode_key == S1E8
    fan = browser_for(show.app, show.fan)
    assert leaked(fan.get(f"/t/{general.id}/{general.slug}"), [POST]) == []


def test_quoting_another_shows_spoilers_is_refused_with_the_text_kept(
    show: Show, db: Session, make: Factory
) -> None:
    """Episodes compare within one show: S1E8 of this show says nothing about another's."""
    elsewhere = make.board("other-show")
    there = posting.create_thread(db, elsewhere, show.author, "Other show talk", "Hi")
    db.commit()
    writer = browser_for(show.app, show.author)
    body = f"> Careful: {SPAN}\n> [said](/p/{show.span_post.id})\n\nAgreed."
    response = writer.post(
        f"/t/{there.id}/reply", {"body": body}, page=f"/t/{there.id}/{there.slug}"
    )
    assert response.status_code == 200
    assert b"another show" in response.data and b"Agreed." in response.data
    assert db.scalar(select(func.count(Post.id)).where(Post.thread_id == there.id)) == 1


def test_authors_get_no_exemption(show: Show, db: Session, make: Factory) -> None:
    """What an author's thread or post shows may not be theirs: a moderator renames and edits,
    and the site opens episode threads as an admin. So an author behind S1E8 (no progress set:
    S1E8 aired two days ago) gets the same masks as anyone."""
    author = browser_for(show.app, show.author)
    assert leaked(author.get(show.thread_url(show.early_thread)), [POST]) == []
    assert leaked(author.get(show.thread_url(show.early_thread, 2)), [SPAN]) == []
    assert leaked(author.get(f"/b/{show.slug}"), [TITLE]) == []


def test_quotes_of_hidden_posts_elsewhere_are_neither_refused_nor_counted(
    show: Show, db: Session, make: Factory
) -> None:
    """Refusing a quote of another board's hidden post would tell the quoter it exists."""
    elsewhere = make.board("other-show")
    there = posting.create_thread(db, elsewhere, show.author, "Other show talk", "Hi")
    db.commit()
    body = f"> something\n> [said](/p/{show.hidden_post.id})\n\nHm."
    writer = browser_for(show.app, show.fan)
    response = writer.post(
        f"/t/{there.id}/reply", {"body": body}, page=f"/t/{there.id}/{there.slug}"
    )
    assert response.status_code == 302
    assert db.scalar(select(func.count(Post.id)).where(Post.thread_id == there.id)) == 2


def test_an_edit_keeps_a_quote_it_already_had(show: Show, db: Session, make: Factory) -> None:
    """An old post quoting another show's spoilers (allowed before the rule) can still be
    edited, by its author or a moderator redacting it: only quotes an edit adds are judged."""
    elsewhere = make.board("other-show")
    there = posting.create_thread(db, elsewhere, show.author, "Other show talk", "Hi")
    old = posting.add_post(
        db, there, show.author, f"> Careful\n> [said](/p/{show.span_post.id})\n\nAgreed."
    )
    db.commit()
    response = browser_for(show.app, show.author).post(
        f"/p/{old.id}/edit",
        {"body": f"> Careful\n> [said](/p/{show.span_post.id})\n\nAgreed, typo fixed."},
        page=f"/p/{old.id}/edit",
    )
    assert response.status_code == 302
    db.expire_all()
    assert "typo fixed" in db.get_one(Post, old.id).source


def test_my_reports_and_the_edit_page_mask_the_thread_title(show: Show, db: Session) -> None:
    moderator = browser_for(show.app, show.moderator)
    set_progress(db, show.moderator, show.board, key_of(1, 6))
    fan = browser_for(show.app, show.fan)
    fan.post(
        f"/p/{show.opening_post.id}/report",
        {"reason": "spoiler"},
        page=f"/p/{show.opening_post.id}/report",
    )
    assert leaked(fan.get("/reports/mine"), [TITLE]) == []
    assert leaked(moderator.get(f"/p/{show.opening_post.id}/edit"), [TITLE]) == []


def test_a_hidden_thread_gives_visitors_no_slug_through_the_episode_form(
    show: Show, db: Session
) -> None:
    secret = posting.create_thread(db, show.board, show.author, f"{TITLE} hidden", "x")
    moderation.set_thread_hidden(db, show.moderator, secret, True, "no")
    db.commit()
    visitor = browser_for(show.app)
    response = visitor.post(f"/t/{secret.id}/episode", {"episode": ""}, page="/login")
    assert response.status_code == 404
    assert leaked(response, [TITLE]) == []  # case-insensitive: the slug would carry it
