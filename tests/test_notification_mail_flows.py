"""Notification email end to end: members post, moderate and report through HTTP, the
notification jobs run (in the request, as tests run jobs), and the mail arrives at a REAL SMTP
server (aiosmtpd) at once or in the digest, as each kind is mailed by default."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from forum.conversation import notification_mail
from forum.db import db_session
from forum.models import BoardState, Thread, User, WatchLevel
from tests.conftest import Factory, LoginAs, file_report
from tests.mail_server import (  # noqa: F401 (fixtures)
    Inbox,
    inbox_fixture,
    only,
    smtp_server_fixture,
)
from tests.notification_helpers import latest_post, reply, start_thread

TITLE = "Will Partner Track get a season 2?"


@pytest.fixture
def alice(make: Factory) -> User:
    return make.user("alice_a")


@pytest.fixture
def bob(make: Factory) -> User:
    return make.user("bob_b")


@pytest.fixture
def thread(db: Session, make: Factory, login_as: LoginAs, alice: User) -> Thread:
    """Alice's thread (she watches it: she started it)."""
    return start_thread(db, login_as(alice), make.board("partner-track"), TITLE, "Thoughts?")


def subjects(inbox: Inbox, user: User) -> list[str]:
    return [str(message["Subject"]) for message in inbox.to(user.email)]


def digest_of(app: Flask, inbox: Inbox, user: User) -> str:
    before = len(inbox.to(user.email))
    with app.app_context():
        notification_mail.send_due_digests(db_session())
    after = inbox.to(user.email)
    assert len(after) == before + 1, "one digest"
    body = after[-1].get_content()
    assert isinstance(body, str)
    return body


@pytest.fixture
def mailbox(inbox: Inbox) -> Iterator[Inbox]:
    inbox.clear()
    yield inbox


def test_a_mention_over_http_is_mailed_once_until_read(
    app: Flask, make: Factory, login_as: LoginAs, mailbox: Inbox, thread: Thread, bob: User
) -> None:
    dave = make.user("dave_d")
    poster = login_as(bob)

    reply(poster, thread, "What do you think, @dave_d?")
    reply(poster, thread, "@dave_d still there?")  # the same unread row, bumped: no new mail

    message = only(mailbox.to(dave.email))
    assert message["Subject"] == f"bob_b mentioned you in “{TITLE}”"
    assert "What do you think, @dave_d?" in message.get_content()
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    reader = login_as(dave)
    reader.get(f"/t/{thread.id}", follow_redirects=True)  # reading marks it read
    reply(poster, thread, "Welcome back, @dave_d")
    assert len(mailbox.to(dave.email)) == 2, "read, then mentioned again: mailed again"


def test_immediate_kinds_over_http(
    db: Session,
    make: Factory,
    login_as: LoginAs,
    mailbox: Inbox,
    thread: Thread,
    alice: User,
    bob: User,
    global_moderator: User,
) -> None:
    erin = make.user("erin_e")
    reply(login_as(erin), thread, "The goats did it.")
    erins = latest_post(db, thread)

    reply(login_as(bob), thread, f"> [erin_e wrote](/p/{erins.id}):\n> The goats did it.\n\nNo!")
    response = login_as(global_moderator).post(
        f"/mod/posts/{erins.id}/hide",
        {"reason": "Be kind"},
        page=f"/mod/posts/{erins.id}/hide/confirm",
    )
    assert response.status_code == 302

    assert subjects(mailbox, erin) == [
        f"bob_b quoted you in “{TITLE}”",
        f"A moderator hid your post #{erins.number} (reason: Be kind) in “{TITLE}”",
    ]
    # Alice started the thread: the first reply in it is a reply to her thread.
    assert subjects(mailbox, alice) == [f"erin_e replied to your thread “{TITLE}”"]


def test_digest_kinds_over_http(
    app: Flask,
    db: Session,
    make: Factory,
    login_as: LoginAs,
    mailbox: Inbox,
    thread: Thread,
    alice: User,
    bob: User,
    global_moderator: User,
) -> None:
    carol = make.user("carol_c")
    reply(login_as(carol), thread, "Carol was here (and now watches).")
    board = make.board("watched-show", name="Watched Show")
    db.add(BoardState(user_id=carol.id, board_id=board.id, level=WatchLevel.WATCHING.value))
    carol.has_conversation_settings = True
    db.commit()

    poster = login_as(bob)
    reply(poster, thread, "Renewed, surely.")
    reply(poster, thread, "Or not.")
    start_thread(db, poster, board, "Casting news thread", "Who is in?")
    post = latest_post(db, thread)
    file_report(db, post, carol)
    response = login_as(global_moderator).post(
        f"/mod/reports/{post.id}",
        {"action": "resolve", "resolution": "Hid the spoiler"},
        page="/mod/reports",
    )
    assert response.status_code == 302
    assert mailbox.to(carol.email) == [], "all three kinds wait for the digest"

    body = digest_of(app, mailbox, carol)

    assert f"“{TITLE}” on Partner Track" in body
    assert "2 new replies in this thread" in body
    assert "Your report of a post in this thread was resolved (action taken: Hid the" in body
    assert "“Casting news thread” on Watched Show" in body
    assert "bob_b started this thread" in body
    assert "Who is in?" in body
