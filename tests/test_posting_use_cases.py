"""posting.reply and posting.start_thread: the whole use case (may this viewer post here, the
text rendered once, the new-member and flood limits, rows and counters, the cache declaration)
answers Posted or Refused, and the refusal says which form field it belongs to."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from forum.access.viewer import viewer_for
from forum.discussion import markup, posting, reading
from forum.models import Post, Role, Thread
from forum.staff import moderation
from tests.conftest import AppBuilder, Browserish, Factory

FORUM = Path(__file__).resolve().parent.parent / "forum"

LIMITS: dict[str, Any] = {
    "RATE_LIMITS_ENABLED": True,
    "NEW_MEMBER_HOURS": 24,
    "NEW_MEMBER_MAX_LINKS": 2,
    "NEW_MEMBER_MAX_THREADS": 1,
    "FLOOD_WINDOW_SECONDS": 60,
}


def with_board(db: Session, thread: Thread) -> Thread:
    """The thread as the reply view loads it: with its board, which the rules read."""
    loaded = reading.thread_with_board(db, thread.id)
    assert loaded is not None
    return loaded


def test_a_reply_is_posted_rendered_once_and_counted(db: Session, make: Factory) -> None:
    thread = with_board(db, make.thread())
    fan = make.user("replying_rae")

    outcome = posting.reply(db, viewer_for(db, fan), thread, "**Bold** take", config=LIMITS)

    assert isinstance(outcome, posting.Posted)
    assert outcome.thread is thread
    assert outcome.post.html == "<p><strong>Bold</strong> take</p>\n"
    assert outcome.post.number == 2
    assert thread.post_count == 2


def test_a_reply_to_a_locked_thread_is_refused_for_the_whole_form(
    db: Session, make: Factory
) -> None:
    thread = with_board(db, make.thread())
    thread.is_locked = True
    db.commit()
    fan = make.user("locked_out_lou")

    outcome = posting.reply(db, viewer_for(db, fan), thread, "Let me in", config=LIMITS)

    assert outcome == posting.Refused("This thread is locked: new replies are closed.", None, 403)
    assert db.scalar(select(Post.id).where(Post.source == "Let me in")) is None


def test_the_same_text_twice_is_refused_under_the_message(db: Session, make: Factory) -> None:
    thread = with_board(db, make.thread())
    fan = make.user("echo_eli")
    viewer = viewer_for(db, fan)
    assert isinstance(posting.reply(db, viewer, thread, "Said once", config=LIMITS), posting.Posted)

    again = posting.reply(db, viewer, thread, "Said once", config=LIMITS)

    assert isinstance(again, posting.Refused)
    assert (again.field, again.status) == ("body", 200)
    assert "You just posted exactly this" in again.message


def test_a_new_members_thread_limit_is_about_the_form_not_the_message(
    db: Session, make: Factory
) -> None:
    board = make.board()
    newcomer = make.user("newcomer_nan")
    viewer = viewer_for(db, newcomer)
    first = posting.start_thread(db, viewer, board, "First", "Hello", config=LIMITS)
    assert isinstance(first, posting.Posted)

    second = posting.start_thread(db, viewer, board, "Second", "Hello again", config=LIMITS)

    assert isinstance(second, posting.Refused)
    assert (second.field, second.status) == (None, 200)
    assert "New members can start up to 1 threads" in second.message
    assert db.scalar(select(Thread.id).where(Thread.title == "Second")) is None


def test_the_thread_limit_shows_above_the_form_with_the_text_kept(
    build_app: AppBuilder, make: Factory
) -> None:
    app = build_app(RATE_LIMITS="on", NEW_MEMBER_MAX_THREADS=1)
    board = make.board("limits-board")
    newcomer = make.user("newcomer_ned")
    make.thread(board=board, author=newcomer)
    browser = Browserish(app.test_client())
    browser.login(newcomer.username)

    response = browser.post(
        "/b/limits-board/new",
        {"title": "One more", "body": "Typed text"},
        page="/b/limits-board/new",
    )

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    notice = page.index('<p class="notice" role="alert">New members can start up to 1 threads')
    assert notice < page.index('<form class="compose card"')
    # Not under the message box: no field error carries it.
    assert page.count("New members can start up to") == 1
    assert "Typed text" in page and "One more" in page


def test_a_reply_view_commits_what_posting_returns(app: Flask, make: Factory) -> None:
    thread = make.thread()
    fan = make.user("viewing_vi")
    browser = Browserish(app.test_client())
    browser.login(fan.username)

    response = browser.post(
        f"/t/{thread.id}/reply", {"body": "Through the view"}, page=f"/t/{thread.id}/{thread.slug}"
    )

    assert response.status_code == 302
    assert "Through the view" in browser.get(response.headers["Location"]).get_data(as_text=True)


def test_add_post_takes_no_html_from_its_caller(db: Session, make: Factory) -> None:
    thread = make.thread()
    author = make.user()
    assert list(inspect.signature(posting.add_post).parameters) == [
        "session",
        "thread",
        "author",
        "body",
        "episode_key",  # keyword-only: which episode the post discusses, not its HTML
    ]
    assert list(inspect.signature(posting.create_thread).parameters) == [
        "session",
        "board",
        "author",
        "title",
        "body",
        "episode_key",
        "is_news",
    ]
    with pytest.raises(TypeError):
        posting.add_post(db, thread, author, "x", "<b>raw</b>")  # type: ignore[call-arg]


def test_text_is_rendered_only_where_it_is_saved_or_previewed() -> None:
    """markup.render's callers: posting (saving), `flask posts rerender`, the demo's bulk rows;
    and the settings' rules. Views preview through markup.preview."""
    callers = sorted(
        str(path.relative_to(FORUM))
        for path in FORUM.rglob("*.py")
        if "markup.render(" in path.read_text() and path.name != "markup.py"
    )
    assert callers == [
        "cli.py",
        "discussion/posting.py",
        "platform/demo.py",
        "platform/settings.py",
    ]


def test_a_moderators_edit_is_rendered_by_posting(db: Session, make: Factory) -> None:
    post = make.reply(make.thread(), make.user())
    admin = make.user("editing_ed", role=Role.ADMIN)

    moderation.edit_others_post(db, admin, post, "*fixed*")

    assert post.html == markup.render("*fixed*").html == "<p><em>fixed</em></p>\n"
