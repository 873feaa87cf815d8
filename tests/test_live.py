"""Live threads (forum/conversation/live.py, forum/views/live.py): the poll answers "no news"
without a single SQL statement once its memo knows the thread, tells of news with a count,
never confirms that a hidden thread exists, and the new posts' HTML shows each viewer only what
the thread page would (raw bytes)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from flask import Flask
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from forum.conversation.live import MAX_NEW_POSTS, ThreadCounts
from forum.discussion import posting
from forum.discussion.episode_codes import key_of
from forum.discussion.episodes import EpisodeEntry, upsert_episodes
from forum.models import Board, MemberMute, Thread, ThreadState, User, WatchLevel, utcnow
from forum.staff import moderation
from tests.conftest import Browserish, Factory, StatementLog, browser_for, moderator_of
from tests.notification_helpers import bell, reply


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    text: str = ""
    classes: set[str] = field(default_factory=set)


class _Elements(HTMLParser):
    """Every element of a page with its attributes and the text inside it (html.parser)."""

    VOID = frozenset({"br", "img", "input", "hr", "meta", "link", "source", "wbr"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[Element] = []
        self._open: list[Element] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        element = Element(tag, values, classes=set(values.get("class", "").split()))
        self.found.append(element)
        if tag not in self.VOID:
            self._open.append(element)

    def handle_endtag(self, tag: str) -> None:
        while self._open:
            if self._open.pop().tag == tag:
                break

    def handle_data(self, data: str) -> None:
        for element in self._open:
            element.text += data


def find(page: str | bytes, tag: str, cls: str | None = None) -> list[Element]:
    """The `tag` elements (with class `cls`) of `page`."""
    parser = _Elements()
    parser.feed(page.decode() if isinstance(page, bytes) else page)
    return [e for e in parser.found if e.tag == tag and (cls is None or cls in e.classes)]


def one(page: str | bytes, tag: str, cls: str | None = None) -> Element:
    found = find(page, tag, cls)
    assert len(found) == 1, f"{len(found)} <{tag} class={cls}> in the page"
    return found[0]


class Clock:
    """A clock the test moves, for the memo's age."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(app: Flask) -> Clock:
    clock = Clock()
    counts: ThreadCounts = app.extensions["forum.live"]
    counts.clock = clock
    return clock


def poll(browser: Browserish, thread: Thread, after: int | None = None) -> TestResponse:
    number = thread.post_count if after is None else after
    answer: TestResponse = browser.get(f"/t/{thread.id}/live?after={number}")
    return answer


def fragment(browser: Browserish, thread: Thread, after: int, query: str = "") -> TestResponse:
    answer: TestResponse = browser.get(f"/t/{thread.id}/after/{after}{query}")
    return answer


# ------------------------------------------------------------------------------ the poll


@pytest.mark.parametrize("who", ["visitor", "member"])
def test_no_news_is_a_204_without_a_statement_once_the_memo_knows_the_thread(
    who: str, make: Factory, member: User, app: Flask, clock: Clock, sql: StatementLog
) -> None:
    thread = make.thread(replies=2)
    browser = browser_for(app, member if who == "member" else None)
    first = poll(browser, thread)  # primes the memo: one read of the count
    assert first.status_code == 204
    sql.clear()
    clock.now += 1.0
    again = poll(browser, thread)
    assert again.status_code == 204
    assert again.get_data() == b""
    assert sql.statements == []
    # Nothing about the viewer was read or written: no session cookie, no Vary: Cookie.
    assert "Set-Cookie" not in again.headers
    assert "Cookie" not in again.headers.get("Vary", "")
    assert again.headers["Cache-Control"] == "no-store"


def test_the_memo_reads_the_database_again_once_it_is_old(
    make: Factory, app: Flask, clock: Clock, sql: StatementLog
) -> None:
    thread = make.thread()
    visitor = browser_for(app)
    assert poll(visitor, thread).status_code == 204
    sql.clear()
    clock.now += 5
    assert poll(visitor, thread).status_code == 204
    assert len([s for s in sql.statements if "post_count" in s]) == 1


def test_news_is_the_count_and_how_many_are_new(
    make: Factory, member: User, app: Flask, clock: Clock
) -> None:
    author = make.user()
    thread = make.thread(author=author, replies=1)  # posts 1 and 2
    visitor = browser_for(app)
    assert poll(visitor, thread, after=2).status_code == 204
    make.reply(thread, author, "three")
    make.reply(thread, author, "four")
    # Within the memo's life the news waits (at most MEMO_SECONDS late)...
    assert poll(visitor, thread, after=2).status_code == 204
    clock.now += 2
    for browser in (visitor, browser_for(app, member)):
        answer = poll(browser, thread, after=2)
        assert answer.status_code == 200
        assert answer.get_json() == {"posts": 4, "new": 2}
    # A page that already shows them (it was drawn after the memo was read) has no news.
    assert poll(visitor, thread, after=4).status_code == 204
    assert poll(visitor, thread, after=9).status_code == 204


@pytest.mark.parametrize("after", ["", "x", "-1", "1.5", "99999999999", "%20", "%C2%B2", "\u00b2"])
def test_a_poll_without_a_post_number_is_a_400(make: Factory, app: Flask, after: str) -> None:
    thread = make.thread()
    answer = browser_for(app).get(f"/t/{thread.id}/live?after={after}")
    assert answer.status_code == 400


def test_a_missing_thread_is_a_404(app: Flask, clock: Clock) -> None:
    visitor = browser_for(app)
    for _ in range(2):  # the memo remembers it missing: still 404
        assert visitor.get("/t/987654/live?after=0").status_code == 404
        assert visitor.get("/t/987654/after/0").status_code == 404


def _hidden_thread(make: Factory, db: Session) -> tuple[Thread, Board, User]:
    board = make.board()
    thread = make.thread(board=board, replies=1)
    moderator = moderator_of(make, db, board)
    moderation.set_thread_hidden(db, moderator, thread, True, "off topic")
    db.commit()
    return thread, board, moderator


@pytest.mark.parametrize("primed", [False, True])
def test_a_hidden_thread_is_a_404_for_visitors_and_members_fast_path_or_not(
    primed: bool, make: Factory, db: Session, member: User, app: Flask, clock: Clock
) -> None:
    thread, _board, moderator = _hidden_thread(make, db)
    mod = browser_for(app, moderator)
    if primed:  # the memo knows it (hidden): the checked path still runs
        assert poll(mod, thread).status_code == 204
    for browser in (browser_for(app), browser_for(app, member)):
        for after in (0, thread.post_count, 99):
            answer = poll(browser, thread, after)
            assert answer.status_code == 404
            assert b'"posts"' not in answer.get_data()
        assert fragment(browser, thread, 0).status_code == 404
    # Its moderators follow it live like any thread.
    assert poll(mod, thread, after=0).get_json() == {"posts": 2, "new": 2}
    assert fragment(mod, thread, 1).status_code == 200


def test_a_thread_hidden_after_the_memo_read_it_is_404_once_the_memo_is_old(
    make: Factory, db: Session, app: Flask, clock: Clock
) -> None:
    board = make.board()
    thread = make.thread(board=board)
    visitor = browser_for(app)
    assert poll(visitor, thread).status_code == 204
    moderation.set_thread_hidden(db, moderator_of(make, db, board), thread, True, "gone")
    db.commit()
    clock.now += 2
    assert poll(visitor, thread).status_code == 404


# ------------------------------------------------------------------------------ the new posts


def test_the_new_posts_are_the_thread_pages_articles(
    make: Factory, member: User, app: Flask
) -> None:
    author = make.user()
    thread = make.thread(author=author, replies=1)
    make.reply(thread, author, "NEW-ONE-MARKER")
    make.reply(thread, author, "NEW-TWO-MARKER")
    for browser in (browser_for(app), browser_for(app, member)):
        answer = fragment(browser, thread, 2)
        assert answer.status_code == 200
        assert answer.headers["Cache-Control"].startswith("private") or (
            answer.headers["Cache-Control"] == "no-store"
        )
        articles = find(answer.get_data(), "article", "post")
        assert [a.attrs["data-number"] for a in articles] == ["3", "4"]
        body = answer.get_data()
        assert b"NEW-ONE-MARKER" in body and b"NEW-TWO-MARKER" in body
        assert b"Reply number 1" not in body  # only what came after
        assert b'data-last="4"' in body
    # The member may quote them; the visitor may not (no reply form).
    assert b"quote-link" in fragment(browser_for(app, member), thread, 2).get_data()
    assert b"quote-link" not in fragment(browser_for(app), thread, 2).get_data()


def test_the_new_posts_print_the_same_article_as_the_thread_page(
    make: Factory, member: User, app: Flask
) -> None:
    author = make.user()
    thread = make.thread(author=author, replies=2)
    browser = browser_for(app, member)
    page = browser.get(f"/t/{thread.id}/{thread.slug}").get_data(as_text=True)
    answer = fragment(browser, thread, 2).get_data(as_text=True)
    on_page = [a for a in find(page, "article", "post") if a.attrs["data-number"] == "3"]
    live = find(answer, "article", "post")
    assert len(on_page) == len(live) == 1
    assert " ".join(live[0].text.split()) == " ".join(on_page[0].text.split())
    assert live[0].attrs == on_page[0].attrs


def test_hidden_and_deleted_posts_stay_stubs_in_the_new_posts(
    make: Factory, db: Session, member: User, app: Flask
) -> None:
    board = make.board()
    author = make.user()
    thread = make.thread(board=board, author=author)
    hidden = make.reply(thread, author, "HIDDEN-TEXT-MARKER")
    deleted = make.reply(thread, author, "DELETED-TEXT-MARKER")
    make.reply(thread, author, "plain")
    moderation.set_post_hidden(db, moderator_of(make, db, board), hidden, True, "rude")
    posting.delete_post(deleted)
    db.commit()
    for browser in (browser_for(app), browser_for(app, member)):
        body = fragment(browser, thread, 1).get_data()
        assert b"HIDDEN-TEXT-MARKER" not in body
        assert b"DELETED-TEXT-MARKER" not in body
        assert b"removed by a moderator" in body
        assert b"This post was deleted" in body
        assert b"plain" in body


def test_spoilers_past_the_viewers_episode_are_withheld_in_the_new_posts(
    make: Factory, db: Session, member: User, app: Flask
) -> None:
    board = make.board()
    month_ago = utcnow().date() - timedelta(days=30)
    upsert_episodes(db, board, [EpisodeEntry(1, n, f"Ep {n}", month_ago) for n in range(1, 9)])
    db.commit()
    author = make.user()
    thread = make.thread(board=board, author=author)
    posting.add_post(db, thread, author, "Careful: >!S1E8: SPAN-SPOILER-MARKER!< ok")
    posting.add_post(db, thread, author, "WHOLE-POST-SPOILER-MARKER", episode_key=key_of(1, 8))
    db.commit()
    db.refresh(member)
    member.watch_progress = {str(board.id): key_of(1, 6)}
    db.commit()
    db.refresh(thread)
    body = fragment(browser_for(app, member), thread, 1).get_data()
    assert b"SPAN-SPOILER-MARKER" not in body
    assert b"WHOLE-POST-SPOILER-MARKER" not in body
    assert b"Careful:" in body
    # A visitor's boundary (all aired a month ago) reaches S1E8: they read both.
    visitor_body = fragment(browser_for(app), thread, 1).get_data()
    assert b"SPAN-SPOILER-MARKER" in visitor_body
    assert b"WHOLE-POST-SPOILER-MARKER" in visitor_body


def test_a_muted_members_new_posts_are_collapsed(
    make: Factory, db: Session, member: User, app: Flask
) -> None:
    loud = make.user("loud_larry")
    thread = make.thread(author=loud)
    make.reply(thread, loud, "MUTED-TEXT")
    db.add(MemberMute(user_id=member.id, muted_id=loud.id, created_at=utcnow()))
    db.refresh(member)
    member.has_conversation_settings = True
    db.commit()
    page = fragment(browser_for(app, member), thread, 1).get_data()
    assert "is-muted" in one(page, "article", "post").classes
    assert "MUTED-TEXT" in one(page, "details", "muted-post").text
    others = fragment(browser_for(app), thread, 1).get_data()
    assert find(others, "details", "muted-post") == []
    assert b"MUTED-TEXT" in others


def test_too_many_new_posts_ask_for_a_reload(make: Factory, db: Session, app: Flask) -> None:
    author = make.user()
    thread = make.thread(author=author)
    for n in range(MAX_NEW_POSTS + 1):
        posting.add_post(db, thread, author, f"Flood {n}")
    db.commit()
    db.refresh(thread)
    answer = fragment(browser_for(app), thread, 1)
    assert answer.status_code == 200
    page = answer.get_data()
    assert find(page, "article") == []
    assert f"{MAX_NEW_POSTS + 1} new replies" in one(page, "p", "live-too-many").text
    links = [a.attrs["href"] for a in find(page, "a")]
    assert links == [f"/t/{thread.id}/{thread.slug}"]


def test_a_masked_episode_thread_gives_no_new_posts(
    make: Factory, db: Session, member: User, app: Flask
) -> None:
    board = make.board()
    today = utcnow().date()
    upsert_episodes(db, board, [EpisodeEntry(1, n, f"Ep {n}", today) for n in range(1, 3)])
    db.commit()
    author = make.user()
    thread = posting.create_thread(
        db, board, author, "EPISODE-TWO-TITLE", "EPISODE-TWO-BODY", episode_key=key_of(1, 2)
    )
    posting.add_post(db, thread, author, "EPISODE-TWO-REPLY")
    db.commit()
    answer = fragment(browser_for(app), thread, 0)  # a visitor: S1E2 is inside the grace
    assert answer.status_code == 404
    assert b"EPISODE-TWO" not in answer.get_data()
    shown = fragment(browser_for(app), thread, 0, "?reveal=1")
    assert b"EPISODE-TWO-REPLY" in shown.get_data()


# ------------------------------------------------------------------------------ the page


def test_the_bar_is_on_the_last_page_only_hidden_until_the_script_fills_it(
    build_app: object, make: Factory, db: Session
) -> None:
    app = build_app(POSTS_PER_PAGE=2)  # type: ignore[operator]
    author = make.user()
    thread = make.thread(author=author, replies=2)  # three posts: two pages
    visitor = browser_for(app)
    first = visitor.get(f"/t/{thread.id}/{thread.slug}").get_data()
    assert find(first, "div", "live-bar") == []
    last = visitor.get(f"/t/{thread.id}/{thread.slug}?page=2").get_data()
    bar = one(last, "div", "live-bar")
    assert "hidden" in bar.attrs
    assert bar.attrs["data-after"] == "3"
    assert bar.attrs["data-live-poll"] == f"/t/{thread.id}/live"
    assert bar.attrs["data-live-posts"] == f"/t/{thread.id}/after/0"
    assert "data-private" not in bar.attrs
    region = one(last, "div", "live-region")
    assert region.attrs["aria-live"] == "polite"
    assert "role" not in region.attrs


def test_only_the_exact_poll_is_answered_in_front_of_flask(
    make: Factory, app: Flask, clock: Clock, sql: StatementLog
) -> None:
    thread = make.thread(replies=1)
    visitor = browser_for(app)
    assert poll(visitor, thread).status_code == 204  # the memo now knows it
    fast = poll(visitor, thread)
    # Answered before Flask: no request id, as with nothing Flask's hooks add.
    assert fast.status_code == 204 and "X-Request-ID" not in fast.headers
    assert fast.headers["X-Content-Type-Options"] == "nosniff"
    # Any other shape goes through the view, which answers the same (or refuses) from the
    # database, never from the memo: one statement, the thread's count.
    sql.clear()
    slow = visitor.get(f"/t/{thread.id}/live?after={thread.post_count}&x=1")
    assert slow.status_code == 204 and "X-Request-ID" in slow.headers
    assert len(sql.statements) == 1 and "post_count" in sql.statements[0]
    assert visitor.get(f"/t/{thread.id}/live?after=0").get_json() == {"posts": 2, "new": 2}
    assert visitor.post(f"/t/{thread.id}/live?after=9").status_code in (400, 405)


def test_a_raw_byte_in_the_polls_query_is_a_400_even_with_a_fresh_memo(
    make: Factory, app: Flask, clock: Clock
) -> None:
    thread = make.thread()
    visitor = browser_for(app)
    assert poll(visitor, thread).status_code == 204
    answer = visitor.get(f"/t/{thread.id}/live", environ_overrides={"QUERY_STRING": "after=\xb2"})
    assert answer.status_code == 400


def test_a_moderators_tools_on_new_posts_lead_back_to_the_thread_page(
    make: Factory, db: Session, app: Flask
) -> None:
    board = make.board()
    author = make.user()
    thread = make.thread(board=board, author=author)
    post = make.reply(thread, author, "Needs a look")
    moderator = moderator_of(make, db, board)
    body = fragment(browser_for(app, moderator), thread, 1).get_data(as_text=True)
    hide_links = [a.attrs["href"] for a in find(body, "a") if "hide" in a.attrs["href"]]
    assert len(hide_links) == 1
    # Back to the post on the thread's page, never to this fragment's address.
    assert f"next=/t/{thread.id}/{thread.slug}%23post-{post.id}" in hide_links[0]
    assert "after" not in hide_links[0]


def test_a_thread_hidden_while_the_memo_is_fresh_is_a_404_through_flask_at_once(
    make: Factory, db: Session, app: Flask, clock: Clock
) -> None:
    board = make.board()
    thread = make.thread(board=board, replies=1)  # posts 1 and 2
    visitor = browser_for(app)
    assert poll(visitor, thread, after=2).status_code == 204  # the memo: visible, 2 posts
    moderation.set_thread_hidden(db, moderator_of(make, db, board), thread, True, "gone")
    db.commit()

    # The memo is still fresh (the clock hasn't moved) and says there is news after post 0:
    # the poll goes through Flask, which reads the thread as it is now.
    answer = poll(visitor, thread, after=0)
    assert answer.status_code == 404
    assert b'"posts"' not in answer.get_data()
    # That read refreshed the memo: the no-news poll stops answering in front of Flask too.
    assert poll(visitor, thread, after=2).status_code == 404


# ------------------------------------------------------------------------------ read marks


WRITE = ("INSERT", "UPDATE", "DELETE")


def _writes(sql: StatementLog) -> list[str]:
    return [s for s in sql.statements if s.lstrip().upper().startswith(WRITE)]


def test_new_posts_shown_live_move_the_read_mark_and_clear_their_notifications(
    make: Factory, db: Session, app: Flask, sql: StatementLog
) -> None:
    author = make.user("live_author")
    reader = make.user("live_reader")
    thread = make.thread(author=author, replies=1)  # posts 1 and 2
    db.add(
        ThreadState(
            user_id=reader.id,
            thread_id=thread.id,
            last_read_number=2,
            level=WatchLevel.WATCHING.value,
            level_chosen=True,
        )
    )
    db.commit()
    writing = browser_for(app, author)
    for text in ("Live three", "Live four"):
        reply(writing, thread, text)  # the fan-out tells the reader (a watcher): one row
    browser = browser_for(app, reader)
    assert bell(browser) == 1

    sql.clear()
    assert fragment(browser, thread, 2).status_code == 200
    marks = [s for s in _writes(sql) if "thread_states" in s]
    assert len(marks) == 1  # one read-mark write, as for a page view

    db.expire_all()
    state = db.get(ThreadState, (reader.id, thread.id))
    assert state is not None and state.last_read_number == 4
    assert bell(browser) == 0

    # Fetched again (another tab): the mark doesn't move, nothing is written.
    sql.clear()
    assert fragment(browser, thread, 2).status_code == 200
    assert _writes(sql) == []


def test_new_posts_shown_to_a_visitor_cost_no_read_mark(
    make: Factory, app: Flask, sql: StatementLog
) -> None:
    thread = make.thread(replies=3)
    visitor = browser_for(app)
    sql.clear()
    assert fragment(visitor, thread, 1).status_code == 200
    assert _writes(sql) == []
    assert not [s for s in sql.statements if "thread_states" in s]
