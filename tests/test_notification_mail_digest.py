"""When the daily digest goes (forum/conversation/notification_mail.py send_due_digests): only
members with something of a digest kind waiting are looked at, a member with nothing to send
keeps their day (a watched reply an hour later isn't held back a day), a notification mailed
once and bumped since is in the next digest again ("3 more replies"), and never more than one
digest a day. Mail goes through a REAL SMTP server (aiosmtpd)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from forum.conversation import notification_mail
from forum.db import db_session
from forum.models import Notification, NotificationKind, Thread, User, utcnow
from tests.conftest import Factory, LoginAs
from tests.mail_server import (  # noqa: F401 (fixtures)
    Inbox,
    inbox_fixture,
    only,
    smtp_server_fixture,
)
from tests.notification_helpers import reply, rows_of, start_thread
from tests.test_notification_mail import body_of, emailed_at, notify, send_digests

TITLE = "Will Partner Track get a season 2?"


@pytest.fixture
def nina(make: Factory) -> User:
    return make.user("nina_dg")


@pytest.fixture
def omar(make: Factory) -> User:
    return make.user("omar_dg")


def digest_sent_at(db: Session, user: User) -> datetime | None:
    db.expire_all()
    return db.scalar(select(User.digest_sent_at).where(User.id == user.id))


def a_day_passes(db: Session, user: User) -> None:
    """Their last digest moves a day back (the clock can't: emailed_at is compared with the
    real time of later events)."""
    last = digest_sent_at(db, user)
    assert last is not None, "they had a digest"
    db.execute(
        update(User).where(User.id == user.id).values(digest_sent_at=last - timedelta(hours=24))
    )
    db.commit()


# ------------------------------------------------------------------------------ who is due


@pytest.mark.parametrize("waiting", ["kinds not in the digest", "posts they may not read"])
def test_a_member_with_nothing_to_send_keeps_their_day(
    app: Flask, db: Session, make: Factory, inbox: Inbox, nina: User, omar: User, waiting: str
) -> None:
    thread = make.thread(author=omar, title="Finale night")
    if waiting == "kinds not in the digest":
        nina.email_choices = {"quote": "never"}
        db.commit()
        notify(app, db, nina, NotificationKind.QUOTE, make.reply(thread, omar, "> nina"), omar)
        notify(app, db, nina, NotificationKind.MENTION, make.reply(thread, omar, "@nina_dg"), omar)
        inbox.clear()  # the mention went at once; it stays unread
    else:
        hidden = make.reply(thread, omar, "secret hidden words")
        hidden.is_hidden = True
        db.commit()
        settled = notify(app, db, nina, NotificationKind.WATCHED_REPLY, hidden, actor=omar)

    assert send_digests(app) == 0
    assert digest_sent_at(db, nina) is None, "no digest sent: the day isn't taken"
    if waiting == "posts they may not read":
        assert emailed_at(db, settled) is not None, "settled: not looked at every hour"

    other = make.thread(author=omar, title="Rewatch club")
    notify(app, db, nina, NotificationKind.WATCHED_REPLY, make.reply(other, omar, "Ep 1!"), omar)
    assert send_digests(app, later=timedelta(hours=1)) == 1, "the next hour, not the next day"

    body = body_of(only(inbox.to(nina.email)))
    assert "Rewatch club" in body and "Ep 1!" in body
    assert "Finale night" not in body and "secret hidden" not in body
    assert digest_sent_at(db, nina) is not None


def test_a_member_whose_digest_another_run_sent_is_left_alone(
    app: Flask, db: Session, make: Factory, inbox: Inbox, nina: User, omar: User
) -> None:
    thread = make.thread(author=omar, title="Side by side")
    row = notify(app, db, nina, NotificationKind.WATCHED_REPLY, make.reply(thread, omar, "Hi"))
    # Another run sent her digest after this run picked her (a moment ago).
    sent_by_the_other_run = utcnow()
    nina.digest_sent_at = sent_by_the_other_run
    db.commit()

    with app.app_context():
        assert not notification_mail._send_digest(db_session(), nina.id, utcnow())

    assert inbox.to(nina.email) == []
    assert emailed_at(db, row) is None, "her notification waits for tomorrow's digest"
    assert digest_sent_at(db, nina) == sent_by_the_other_run


# ------------------------------------------------------------------------------ bumped rows


@pytest.fixture
def watched(db: Session, make: Factory, login_as: LoginAs, nina: User, omar: User) -> Thread:
    """Omar's thread, which Nina replied to (so she watches it)."""
    thread = start_thread(db, login_as(omar), make.board("partner-track"), TITLE, "Thoughts?")
    reply(login_as(nina), thread, "Nina was here (and now watches).")
    return thread


def test_a_notification_bumped_after_its_digest_is_in_the_next_one(
    app: Flask,
    db: Session,
    make: Factory,
    login_as: LoginAs,
    inbox: Inbox,
    watched: Thread,
    nina: User,
    omar: User,
) -> None:
    poster = login_as(omar)
    reply(poster, watched, "First words after Nina's.")
    with app.app_context():
        assert notification_mail.send_due_digests(db_session()) == 1
    first = body_of(only(inbox.to(nina.email)))
    assert "omar_dg replied in this thread" in first and "First words after Nina's." in first

    for words in ("Second.", "Third.", "Fourth."):
        reply(poster, watched, words)  # the same unread row: count 4, updated since mailed
    (row,) = [row for row in rows_of(db, nina) if row.read_at is None]
    assert row.count == 4

    with app.app_context():
        sent_early = notification_mail.send_due_digests(db_session(), utcnow() + timedelta(hours=2))
    assert sent_early == 0, "at most one digest a day"

    a_day_passes(db, nina)
    with app.app_context():
        assert notification_mail.send_due_digests(db_session()) == 1
    second = body_of(inbox.to(nina.email)[-1])
    assert f"“{TITLE}” on Partner Track" in second
    assert "3 more replies in this thread" in second
    assert "First words after Nina's." not in second, "what was mailed isn't quoted again"

    a_day_passes(db, nina)
    with app.app_context():
        assert notification_mail.send_due_digests(db_session()) == 0, "nothing new since"
    assert len(inbox.to(nina.email)) == 2


def test_replies_by_a_member_muted_since_are_not_counted_as_more(
    app: Flask,
    db: Session,
    make: Factory,
    login_as: LoginAs,
    inbox: Inbox,
    watched: Thread,
    nina: User,
    omar: User,
) -> None:
    reply(login_as(omar), watched, "Omar speaks.")
    with app.app_context():
        assert notification_mail.send_due_digests(db_session()) == 1
    pat = make.user("pat_dg")
    reply(login_as(pat), watched, "Pat speaks.")  # bumps Nina's row
    reply(login_as(omar), watched, "Omar again.")
    muted = login_as(nina).post(f"/u/{pat.username}/mute", {}, page=f"/u/{pat.username}")
    assert muted.status_code in (302, 303), muted.get_data(as_text=True)

    a_day_passes(db, nina)
    with app.app_context():
        notification_mail.send_due_digests(db_session())  # Pat's digest too (he watches now)
    assert len(inbox.to(nina.email)) == 2
    assert "1 more reply in this thread" in body_of(inbox.to(nina.email)[-1])


def test_a_row_written_once_is_not_mailed_again_without_news(
    app: Flask, db: Session, make: Factory, inbox: Inbox, nina: User, omar: User
) -> None:
    thread = make.thread(author=omar, title="Quiet thread")
    row = notify(app, db, nina, NotificationKind.WATCHED_REPLY, make.reply(thread, omar, "Hi"))
    assert send_digests(app) == 1
    mailed = emailed_at(db, row)
    db.execute(
        update(Notification)
        .where(Notification.id == row.id)
        .values(updated_at=Notification.emailed_at)  # the same instant: nothing since
    )
    db.commit()

    a_day_passes(db, nina)
    assert send_digests(app) == 0
    assert emailed_at(db, row) == mailed
