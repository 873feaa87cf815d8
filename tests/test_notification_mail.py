"""Notification email (forum/conversation/notification_mail.py, email_choices.py,
views/mail_choices.py) through a REAL SMTP server (aiosmtpd): the immediate mail and its
List-Unsubscribe headers, nothing mailed once read in the app, the daily digest, unsubscribe
links (logged out, RFC 8058 one-click, forged), spoilers and hidden text kept out of the raw
bytes, and the choices page.

Notifications are written here as rows, the way the notifications part writes them, then
handed to `notification_written` as it does."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from flask import Flask
from itsdangerous import URLSafeSerializer
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from forum.conversation import email_choices, notification_mail
from forum.db import db_session
from forum.models import Notification, NotificationKind, Post, Thread, User, utcnow
from forum.platform import jobs
from tests.conftest import Browserish, Factory, browser_for, text_of
from tests.html_scan import read
from tests.mail_server import (  # noqa: F401 (fixtures)
    Inbox,
    inbox_fixture,
    only,
    queue_on_disk,
    run_queue,
    smtp_server_fixture,
)

ONE_CLICK = {"List-Unsubscribe": "One-Click"}


def notify(
    app: Flask,
    db: Session,
    recipient: User,
    kind: NotificationKind,
    post: Post,
    actor: User | None = None,
    count: int = 1,
    detail: str = "",
) -> Notification:
    """Write an unread notification as the notifications part does (bell included) and hand
    it to the mail part; the commit queues (here: runs) its mail."""
    row = Notification(
        user_id=recipient.id,
        kind=kind.value,
        thread_id=post.thread_id,
        post_id=post.id,
        latest_post_id=post.id,
        actor_id=actor.id if actor else None,
        count=count,
        detail=detail,
    )
    db.add(row)
    db.execute(
        update(User)
        .where(User.id == recipient.id)
        .values(unread_notifications=User.unread_notifications + 1)
    )
    db.flush()
    with app.app_context():
        notification_mail.notification_written(db, row.id, recipient, kind.value)
        db.commit()
    return row


def opening_post(db: Session, thread: Thread) -> Post:
    post = db.scalar(select(Post).where(Post.thread_id == thread.id, Post.number == 1))
    assert post is not None
    return post


def raw(message: EmailMessage) -> bytes:
    return bytes(message)


def body_of(message: EmailMessage) -> str:
    content = message.get_content()
    assert isinstance(content, str)
    return content


def link_after(message: EmailMessage, label: str) -> str:
    """The path of the link on the body's line starting with `label`."""
    for line in body_of(message).splitlines():
        if line.startswith(label):
            found = re.search(r"https?://\S+", line)
            assert found, line
            return urlsplit(found.group(0)).path
    raise AssertionError(f"no line starting {label!r} in:\n{body_of(message)}")


def header_link(message: EmailMessage) -> str:
    value = str(message["List-Unsubscribe"])
    assert value.startswith("<") and value.endswith(">"), value
    return value[1:-1]


def checked(page: str) -> dict[str, str]:
    """The radio buttons checked on `page`: name -> value."""
    found = {}
    for tag in re.findall(r"<input[^>]*>", page):
        if 'type="radio"' in tag and re.search(r"\schecked[\s>=]", tag):
            name = re.search(r'name="([^"]+)"', tag)
            value = re.search(r'value="([^"]*)"', tag)
            if name and value:
                found[name.group(1)] = value.group(1)
    return found


def emailed_at(db: Session, row: Notification) -> object:
    db.expire_all()
    return db.scalar(select(Notification.emailed_at).where(Notification.id == row.id))


def choices_of(db: Session, user: User) -> dict[str, str]:
    db.expire_all()
    return dict(db.scalar(select(User.email_choices).where(User.id == user.id)) or {})


@pytest.fixture
def fans(make: Factory) -> tuple[User, User]:
    return make.user("nina_fan"), make.user("omar_fan")


# ------------------------------------------------------------------------------ immediate


def test_a_mention_is_mailed_at_once_with_unsubscribe_headers(
    app: Flask, db: Session, make: Factory, inbox: Inbox, fans: tuple[User, User]
) -> None:
    nina, omar = fans
    thread = make.thread(author=omar, title="Will Partner Track get a season 2?")
    post = make.reply(thread, omar, "Hey @nina_fan, what did you think of the finale?")

    row = notify(app, db, nina, NotificationKind.MENTION, post, actor=omar)

    message = only(inbox.to(nina.email))
    assert message["Subject"] == "omar_fan mentioned you in “Will Partner Track get a season 2?”"
    body = body_of(message)
    assert "what did you think of the finale?" in body
    assert f"/p/{post.id}" in body
    public = app.config["PUBLIC_URL"]
    link = header_link(message)
    assert link.startswith(f"{public}/unsubscribe/")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # As it came over the wire, not folded into an RFC 2047 encoded word (which mail programs
    # don't read as a link).
    assert dict(message.raw_items())["List-Unsubscribe"] == f"<{link}>"
    assert urlsplit(link).path == link_after(message, "Stop these mails")
    assert emailed_at(db, row) is not None


def test_digest_kinds_and_never_kinds_are_not_mailed_at_once(
    app: Flask, db: Session, make: Factory, inbox: Inbox, fans: tuple[User, User]
) -> None:
    nina, omar = fans
    thread = make.thread(author=omar)
    post = make.reply(thread, omar, "More talk")
    nina.email_choices = {"mention": "never"}
    db.commit()

    notify(app, db, nina, NotificationKind.WATCHED_REPLY, post, actor=omar)  # digest by default
    notify(app, db, nina, NotificationKind.MENTION, post, actor=omar)

    assert inbox.to(nina.email) == []


def test_an_unconfirmed_address_is_never_mailed(
    app: Flask, db: Session, make: Factory, inbox: Inbox, fans: tuple[User, User]
) -> None:
    nina, omar = fans
    nina.email_verified_at = None
    db.commit()
    post = make.reply(make.thread(author=omar), omar, "Hello @nina_fan")

    notify(app, db, nina, NotificationKind.MENTION, post, actor=omar)

    assert inbox.to(nina.email) == []


def test_a_notification_read_in_the_app_before_its_delay_is_not_mailed(
    app: Flask, db: Session, make: Factory, inbox: Inbox, fans: tuple[User, User], tmp_path: Path
) -> None:
    huey = queue_on_disk(app, tmp_path)
    app.config["NOTIFICATION_MAIL_DELAY_SECONDS"] = 120
    nina, omar = fans
    thread = make.thread(author=omar, title="Finale night")
    read_one = make.reply(thread, omar, "Are you watching, @nina_fan?")
    row = notify(app, db, nina, NotificationKind.MENTION, read_one, actor=omar)

    run_queue(huey)  # now: the job is put off until its delay has passed
    assert inbox.to(nina.email) == [] and emailed_at(db, row) is None
    reader = browser_for(app, nina)
    # She reads it in the app meanwhile.
    assert reader.get(f"/p/{read_one.id}", follow_redirects=True).status_code == 200
    run_queue(huey, later=timedelta(seconds=121))

    assert inbox.to(nina.email) == []

    other = make.thread(author=omar, title="Another thread")
    unread = make.reply(other, omar, "Still there, @nina_fan?")
    notify(app, db, nina, NotificationKind.MENTION, unread, actor=omar)
    run_queue(huey, later=timedelta(seconds=121))
    message = only(inbox.to(nina.email))  # through the real queue: headers survive it
    assert "Still there" in body_of(message)
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_a_notification_is_mailed_once_however_often_its_job_runs(
    app: Flask, db: Session, make: Factory, inbox: Inbox, fans: tuple[User, User]
) -> None:
    nina, omar = fans
    post = make.reply(make.thread(author=omar), omar, "Ping @nina_fan")
    row = notify(app, db, nina, NotificationKind.MENTION, post, actor=omar)

    with app.app_context():
        notification_mail.mail_notification.func(row.id)  # a retry, or a bump's second job

    assert len(inbox.to(nina.email)) == 1


# ------------------------------------------------------------------------------ digest


def send_digests(app: Flask, later: timedelta = timedelta(0)) -> int:
    with app.app_context():
        return notification_mail.send_due_digests(db_session(), utcnow() + later)


def test_the_digest_groups_by_thread_and_leaves_out_what_was_read_or_mailed(
    app: Flask, db: Session, make: Factory, inbox: Inbox, fans: tuple[User, User]
) -> None:
    nina, omar = fans
    board = make.board("partner-track", name="Partner Track")
    first = make.thread(board, omar, "Season 2 casting news")
    second = make.thread(board, omar, "Rewatch club")
    read = make.thread(board, omar, "Already read thread")
    notify(app, db, nina, NotificationKind.WATCHED_REPLY, make.reply(first, omar, "Cast A"), omar)
    notify(app, db, nina, NotificationKind.NEW_THREAD, opening_post(db, second), actor=omar)
    notify(app, db, nina, NotificationKind.WATCHED_REPLY, make.reply(second, omar, "Ep 1"), omar)
    seen = notify(
        app, db, nina, NotificationKind.WATCHED_REPLY, make.reply(read, omar, "Old"), omar
    )
    seen.read_at = utcnow()
    db.commit()
    mention = notify(
        app, db, nina, NotificationKind.MENTION, make.reply(read, omar, "@nina_fan"), omar
    )
    inbox.clear()  # the mention went at once

    assert send_digests(app) == 1

    message = only(inbox.to(nina.email))
    body = body_of(message)
    assert "3 notifications" in str(message["Subject"])
    assert "“Season 2 casting news” on Partner Track" in body
    assert "“Rewatch club” on Partner Track" in body
    rewatch = body.index("“Rewatch club”")
    assert body.index("omar_fan started this thread") > rewatch
    assert body.index("omar_fan replied in this thread", rewatch) > rewatch
    assert "Already read thread" not in body
    assert "Cast A" in body
    assert header_link(message).startswith(app.config["PUBLIC_URL"] + "/unsubscribe/")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert emailed_at(db, seen) is None
    assert emailed_at(db, mention) is not None

    assert send_digests(app) == 0, "a second run mails nothing again"
    assert send_digests(app, later=timedelta(hours=25)) == 0, "nothing new: no mail"
    assert len(inbox.to(nina.email)) == 1


def test_the_next_digest_comes_a_day_later_with_only_what_is_new(
    app: Flask, db: Session, make: Factory, inbox: Inbox, fans: tuple[User, User]
) -> None:
    nina, omar = fans
    thread = make.thread(author=omar, title="Weekly thread")
    notify(app, db, nina, NotificationKind.WATCHED_REPLY, make.reply(thread, omar, "One"), omar)
    assert send_digests(app) == 1
    newer = make.thread(author=omar, title="Newer thread")
    notify(app, db, nina, NotificationKind.WATCHED_REPLY, make.reply(newer, omar, "Two"), omar)

    assert send_digests(app, later=timedelta(hours=2)) == 0, "not a day yet"
    assert send_digests(app, later=timedelta(hours=24)) == 1

    latest = inbox.to(nina.email)[-1]
    assert "Newer thread" in body_of(latest)
    assert "Weekly thread" not in body_of(latest)


# ------------------------------------------------------------------------------ unsubscribing


def mention_mail(
    app: Flask, db: Session, make: Factory, inbox: Inbox, fans: tuple[User, User]
) -> EmailMessage:
    nina, omar = fans
    post = make.reply(make.thread(author=omar), omar, "Hi @nina_fan")
    notify(app, db, nina, NotificationKind.MENTION, post, actor=omar)
    return only(inbox.to(nina.email))


def test_the_unsubscribe_link_works_logged_out(
    app: Flask, db: Session, make: Factory, inbox: Inbox, fans: tuple[User, User]
) -> None:
    nina = fans[0]
    message = mention_mail(app, db, make, inbox, fans)
    link = link_after(message, "Stop these mails")
    visitor = Browserish(app.test_client())

    page = visitor.get(link)
    assert page.status_code == 200
    assert "someone mentions you" in text_of(page).lower()
    assert choices_of(db, nina).get("mention") is None, "a GET (a link scanner) changes nothing"

    done = visitor.post(link, page=link)
    assert done.status_code == 200
    assert "You're unsubscribed" in text_of(done)
    assert choices_of(db, nina)["mention"] == "never"

    everything = link_after(message, "Stop all notification mail")
    visitor.post(everything, page=everything)
    assert set(choices_of(db, nina).values()) == {"never"}
    assert len(choices_of(db, nina)) == len(NotificationKind)


def test_one_click_unsubscribe_needs_no_csrf_token(
    app: Flask, db: Session, make: Factory, inbox: Inbox, fans: tuple[User, User]
) -> None:
    nina = fans[0]
    message = mention_mail(app, db, make, inbox, fans)
    path = urlsplit(header_link(message)).path
    provider = app.test_client()  # a mail provider's server: no cookie, no page, no token

    answer = provider.post(
        path, data="List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )

    assert answer.status_code == 200
    assert choices_of(db, nina) == {"mention": "never"}
    everything = urlsplit(link_after(message, "Stop all notification mail")).path
    as_multipart = provider.post(everything, data=ONE_CLICK, content_type="multipart/form-data")
    assert as_multipart.status_code == 200, "RFC 8058 allows either encoding"
    assert set(choices_of(db, nina).values()) == {"never"}


def test_any_other_post_to_the_link_still_needs_the_token(
    app: Flask, db: Session, make: Factory, inbox: Inbox, fans: tuple[User, User]
) -> None:
    nina = fans[0]
    path = urlsplit(header_link(mention_mail(app, db, make, inbox, fans))).path
    forger = Browserish(app.test_client())

    for data in ({}, {"List-Unsubscribe": "one-click "}, {"unsubscribe": "yes"}):
        answer = forger.raw_post(path, data, headers={"Origin": "https://evil.example"})
        assert answer.status_code == 400, data
        assert "This form came from another site; nothing was done." in text_of(answer)

    assert choices_of(db, nina) == {}


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_forged_or_stale_token_fails_cleanly(
    app: Flask, db: Session, make: Factory, inbox: Inbox, fans: tuple[User, User], method: str
) -> None:
    nina = fans[0]
    message = mention_mail(app, db, make, inbox, fans)
    genuine = urlsplit(header_link(message)).path
    with app.app_context():
        other_key = URLSafeSerializer("not the key", salt="showboard-unsubscribe")
        forged_for_nina = other_key.dumps({"u": nina.id, "s": "all", "e": "0" * 16})
    tampered = genuine[:-3] + ("abc" if not genuine.endswith("abc") else "xyz")
    client = app.test_client()

    for path in (
        "/unsubscribe/not-a-token",
        f"/unsubscribe/{forged_for_nina}",
        tampered,
        "/unsubscribe/" + "A" * 3000,
        "/unsubscribe/%00",
    ):
        answer = client.open(path, method=method, data=ONE_CLICK if method == "POST" else None)
        assert answer.status_code in (400, 404), path
        assert "Traceback" not in text_of(answer)

    nina.email = "nina.new@example.org"
    nina.email_key = "nina.new@example.org"
    db.commit()
    stale = client.open(genuine, method=method, data=ONE_CLICK if method == "POST" else None)
    assert stale.status_code == 404, "a link mailed to the old address stops working"
    assert choices_of(db, nina) == {}


def page_heading(page: str) -> str:
    found = re.search(r"<h1[^>]*>(.*?)</h1>", page, re.S)
    assert found, page
    return found.group(1).strip()


def test_the_unsubscribe_page_names_the_kind_and_knows_when_it_is_off(
    app: Flask, db: Session, make: Factory, inbox: Inbox, fans: tuple[User, User]
) -> None:
    message = mention_mail(app, db, make, inbox, fans)
    link = link_after(message, "Stop these mails")
    visitor = Browserish(app.test_client())

    page = text_of(visitor.get(link))
    assert page_heading(page) == "Stop emails for “Someone mentions you”?"
    assert '<button class="button" type="submit">Unsubscribe</button>' in page

    done = text_of(visitor.post(link, page=link))
    assert "Emails for “Someone mentions you” are off now." in done

    again = visitor.get(link)
    assert again.status_code == 200
    assert page_heading(text_of(again)) == "Emails for “Someone mentions you” are already off."
    assert "<button" not in text_of(again).split("<main", 1)[-1], "nothing left to press"
    assert 'href="/notifications/email"' in text_of(again)


def test_the_all_and_digest_links_say_what_they_stop(
    app: Flask, db: Session, make: Factory, inbox: Inbox, fans: tuple[User, User]
) -> None:
    nina = fans[0]
    message = mention_mail(app, db, make, inbox, fans)
    everything = link_after(message, "Stop all notification mail")
    with app.app_context():
        digest = urlsplit(notification_mail.unsubscribe_url(nina, email_choices.DIGEST)).path
    visitor = Browserish(app.test_client())

    page = text_of(visitor.get(digest))
    assert page_heading(page) == "Stop the daily digest?"
    assert "<li>Replies in threads you watch</li>" in page
    assert "<li>Someone mentions you</li>" not in page, "mailed at once, not in the digest"
    assert page_heading(text_of(visitor.get(everything))) == "Stop all notification emails?"

    visitor.post(everything, page=everything)

    assert page_heading(text_of(visitor.get(everything))) == (
        "All notification emails are already off."
    )
    assert page_heading(text_of(visitor.get(digest))) == (
        "The daily digest is already off: nothing is in it."
    )


def test_the_token_fingerprints_the_address_with_the_secret_key(
    app: Flask, fans: tuple[User, User]
) -> None:
    nina = fans[0]
    with app.app_context():
        token = email_choices.unsubscribe_token(nina, "mention")
        payload = URLSafeSerializer(app.config["SECRET_KEY"], salt="showboard-unsubscribe")
        fingerprint = payload.loads(token)["e"]
        # What a token holder could compute for a guessed address, without the key.
        for guess in (f"unsubscribe\n{nina.email_key}", nina.email_key, nina.email):
            unkeyed = hashlib.sha256(guess.encode()).hexdigest()
            assert fingerprint not in (unkeyed, unkeyed[: len(fingerprint)])
        app.config["SECRET_KEY"] = "another secret key entirely"
        assert email_choices._fingerprint(nina) != fingerprint, "keyed by the secret key"


def test_tokens_name_only_known_scopes(app: Flask, fans: tuple[User, User]) -> None:
    with app.app_context():
        token = email_choices.unsubscribe_token(fans[0], "mention")
        found = email_choices.read_unsubscribe_token(token, lambda _id: fans[0])
        assert found is not None and found.scope == "mention"
        with pytest.raises(ValueError):
            email_choices.unsubscribe_token(fans[0], "everything-else")


# ------------------------------------------------------------------------------ spoilers


def test_spoilers_and_hidden_text_never_reach_a_mail(
    app: Flask, db: Session, make: Factory, inbox: Inbox, fans: tuple[User, User]
) -> None:
    nina, omar = fans
    board = make.board("spoiler-show")
    open_thread = make.thread(board, omar, "General chat")
    spoiled = make.reply(open_thread, omar, "Hi @nina_fan >!Bruno betrays the firm!< wow")
    episode_thread = make.thread(board, omar, "Marcus dies in the finale")
    episode_thread.episode_key = 1008  # S1E8: beyond nina, who has watched nothing
    episode_post = make.reply(episode_thread, omar, "@nina_fan the courtroom twist was huge")
    episode_post.episode_key = 1008
    hidden = make.reply(open_thread, omar, "@nina_fan secret hidden words")
    hidden.is_hidden = True
    db.commit()

    notify(app, db, nina, NotificationKind.MENTION, spoiled, actor=omar)
    notify(app, db, nina, NotificationKind.QUOTE, episode_post, actor=omar)
    notify(app, db, nina, NotificationKind.REPLY, hidden, actor=omar)
    notify(app, db, nina, NotificationKind.MODERATED, hidden, detail="hid your post")
    for kind in (NotificationKind.WATCHED_REPLY, NotificationKind.NEW_THREAD):
        notify(app, db, nina, kind, episode_post, actor=omar)
    send_digests(app)

    messages = inbox.to(nina.email)
    assert len(messages) == 4, [m["Subject"] for m in messages]  # hidden reply: not mailed
    # The raw bytes, and what they decode to (a subject with “quotes” travels base64-encoded).
    everything = b"\n".join(
        raw(message) + str(message["Subject"]).encode() + body_of(message).encode()
        for message in messages
    )
    for secret in (b"Bruno", b"betrays", b"Marcus", b"courtroom", b"secret hidden"):
        assert secret not in everything, secret
    assert b"wow" in everything, "the open text around a spoiler is still quoted"
    assert "Episode thread for S1E8" in "".join(str(m["Subject"]) for m in messages)
    assert any("A moderator hid your post" in str(m["Subject"]) for m in messages)


# ------------------------------------------------------------------------------ the page


def test_the_choices_page_saves_and_refuses_bad_values(
    app: Flask, db: Session, member_client: Browserish, member: User
) -> None:
    page = member_client.get("/notifications/email")
    assert page.status_code == 200
    assert "Someone mentions you" in read(text_of(page)).text
    assert checked(text_of(page))["mention"] == "immediate"
    assert checked(text_of(page))["watched_reply"] == "digest"

    saved = member_client.post(
        "/notifications/email",
        {"mention": "digest", "watched_reply": "never", "quote": "immediate"},
        page="/notifications/email",
        follow_redirects=True,
    )
    assert "Notification email choices saved." in text_of(saved)
    chosen = choices_of(db, member)
    assert chosen["mention"] == "digest" and chosen["watched_reply"] == "never"

    refused = member_client.post(
        "/notifications/email",
        {"mention": "hourly", "quote": "never"},
        page="/notifications/email",
    )
    assert refused.status_code == 400
    assert email_choices.BAD_CHOICE in text_of(refused)
    assert checked(text_of(refused))["quote"] == "never", "the typed choices stay"
    assert choices_of(db, member)["quote"] == "immediate"


def test_the_choices_page_needs_a_login(app: Flask) -> None:
    client = app.test_client()
    assert client.get("/notifications/email").status_code == 302
    assert client.post("/notifications/email", data={"mention": "never"}).status_code in (
        302,
        400,
    )


def test_settings_links_to_the_choices_page(member_client: Browserish) -> None:
    assert 'href="/notifications/email"' in text_of(member_client.get("/settings"))


def test_the_queued_mail_job_is_declared_with_its_delay() -> None:
    job = jobs.DECLARED["mail_notification"]
    assert job.start_delay({"NOTIFICATION_MAIL_DELAY_SECONDS": 120}) == 120
    assert job.start_delay({"NOTIFICATION_MAIL_DELAY_SECONDS": 0}) == 0


def test_the_digest_command_sends_what_is_due(
    app: Flask, db: Session, make: Factory, inbox: Inbox, fans: tuple[User, User]
) -> None:
    nina, omar = fans
    thread = make.thread(author=omar, title="Command line thread")
    notify(app, db, nina, NotificationKind.WATCHED_REPLY, make.reply(thread, omar, "Hi"), omar)

    first = app.test_cli_runner().invoke(args=["notifications", "digest"])
    again = app.test_cli_runner().invoke(args=["notifications", "digest"])

    assert (first.exit_code, first.output) == (0, "1 digest sent.\n")
    assert (again.exit_code, again.output) == (0, "0 digests sent.\n")
    assert "Command line thread" in body_of(only(inbox.to(nina.email)))


def test_a_failed_mail_keeps_no_unsubscribe_link() -> None:
    link = "<https://fans.example/unsubscribe/SECRET-TOKEN>"
    kept = jobs.DECLARED["deliver"].summary(
        "nina@example.org", "Subject", "body SECRET-TOKEN", [["List-Unsubscribe", link]]
    )
    assert "nina@example.org" in kept and "SECRET-TOKEN" not in kept
