"""Notifications by email: at once (a job queued when the notification is written, run after a
short delay) or in a daily digest (a periodic job), as each member chose per kind
(forum/conversation/email_choices.py).

Nothing already read in the app is mailed, and nothing is mailed twice: a mail is sent only
after a conditional UPDATE claims its notifications (unread, not mailed since their latest
event) and commits, so a read that lands first, a retried job or a second digest run finds
nothing left to claim. An immediate mail goes once while its notification stays unread (later
events that add to it don't mail again); a digest notification that gathers more events after
it was mailed is in the next digest again ("3 more replies in …").

Mail shows only what the RECIPIENT may see (forum/conversation/mail_items.py: masked titles,
excerpts of open text only). A notification whose post or thread they can no longer read is
not mailed (in the digest it is settled: marked emailed, left out).

Every mail carries unsubscribe links that work without logging in, and the RFC 8058 headers
(List-Unsubscribe with a one-click POST), all absolute URLs on the public address.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import click
from flask import has_app_context
from flask.cli import AppGroup
from huey import crontab
from sqlalchemy import ColumnElement, ScalarSelect, exists, func, or_, select, update
from sqlalchemy.orm import Session, joinedload

from forum.conversation import email_choices
from forum.conversation.mail_items import MailItem, present, recipient_viewer
from forum.conversation.notification_kinds import KIND_LABELS, EmailChoice, email_choice
from forum.db import db_session, rows_matched
from forum.models import MemberMute, Notification, Post, Thread, User, utcnow
from forum.platform import freshness, jobs, mail
from forum.platform.publicurl import external_url

# Hourly runs: a digest sent at 10:41 is due again at the next day's 10:41 run, not 11:41.
DIGEST_EVERY = timedelta(hours=23, minutes=30)
# A digest lists at most this many notifications; the rest are counted and settled with it.
DIGEST_MAX_ITEMS = 50


def may_mail(user: User) -> bool:
    """Whether notifications may be mailed to the member at all: a confirmed address (never
    mail an address nobody proved is theirs) and no ban."""
    return bool(user.email) and user.email_verified_at is not None and not user.is_banned


def notification_written(
    session: Session, notification_id: int, recipient: User, kind: str
) -> None:
    """Called after a notification is written or bumped (not committed): when the member has
    this kind mailed immediately, queue its mail for after the commit (and the delay).
    Without an app (a script's or a test's own session) there is no queue to mail through."""
    if not has_app_context():
        return
    if may_mail(recipient) and email_choice(recipient, kind) == EmailChoice.IMMEDIATE:
        jobs.after_commit(session, mail_notification, notification_id)


# ------------------------------------------------------------------------------ immediate


@jobs.task(
    retries=2,
    retry_delay=60,
    backoff=2,
    summary=lambda notification_id: f"notification={notification_id}",
    delay_setting="NOTIFICATION_MAIL_DELAY_SECONDS",
)
def mail_notification(notification_id: int) -> None:
    session = db_session()
    rows = _load(session, Notification.id == notification_id)
    row = rows[0] if rows else None
    if row is None or row.read_at is not None or row.emailed_at is not None:
        return
    user = session.get(User, row.user_id)
    if user is None or not may_mail(user):
        return
    if email_choice(user, row.kind) != EmailChoice.IMMEDIATE:
        return  # they changed their mind meanwhile
    item = present(recipient_viewer(session, user), row)
    if item is None:
        return
    now = utcnow()
    claimed = rows_matched(
        session.execute(
            update(Notification)
            .where(
                Notification.id == row.id,
                Notification.read_at.is_(None),
                Notification.emailed_at.is_(None),
            )
            .values(emailed_at=now)
            .execution_options(synchronize_session=False)
        )
    )
    if not claimed:  # read in the app, or mailed by another run, since it was loaded
        session.rollback()
        return
    freshness.private(session)  # shown on no cached page
    session.commit()
    mail.send(immediate_mail(user, item))


def immediate_mail(user: User, item: MailItem) -> mail.Mail:
    kind_link = unsubscribe_url(user, item.kind.value)
    lines = [f"Hi {user.username},", "", f"{item.sentence}{item.where}."]
    if item.excerpt:
        lines += ["", *(f"    {line}" for line in item.excerpt.splitlines())]
    lines += ["", f"Read it: {item.link}", ""]
    label = KIND_LABELS[item.kind]
    lines += _footer(
        user,
        f"You get this mail because “{label}” is set to be mailed immediately.",
        f"Stop these mails ({label.lower()}): {kind_link}",
    )
    return mail.Mail(
        to=user.email,
        subject=item.sentence,
        body="\n".join(lines),
        headers=_list_headers(kind_link),
    )


# ------------------------------------------------------------------------------ digest


@jobs.periodic(crontab(minute="41"))
def send_digests() -> None:
    """Hourly: a digest to each member whose last one is about a day old and who has something
    to put in it (see send_due_digests)."""
    send_due_digests(db_session())


notifications_cli = AppGroup("notifications", help="Notification email.")


@notifications_cli.command("digest")
def digest_command() -> None:
    """Send the daily digests that are due now (the worker does it hourly)."""
    sent = send_due_digests(db_session())
    click.echo(f"{sent:,} digest{'s' if sent != 1 else ''} sent.")


def send_due_digests(session: Session, now: datetime | None = None) -> int:
    """Build and queue every digest due at `now`; how many were sent. Safe to run twice (or
    side by side): each notification is claimed by a conditional UPDATE, then the member's day.

    A member is looked at when their last digest is about a day old (or they never had one) and
    they have an unread notification of a kind they have mailed in the digest that is waiting:
    never mailed, or mailed but with more events since (its `updated_at` is past its
    `emailed_at`: "3 more replies in …"). Only a digest actually sent moves `digest_sent_at`,
    so at most one a day is sent, and a member with nothing to send (only kinds mailed at once
    or never, or notifications they may no longer read) is looked at again the next hour: a
    watched reply then isn't held back a day. The flip side, accepted: a quiet member's first
    digest-kind notification is mailed within the hour, as a one-item digest."""
    now = now or utcnow()
    waiting = (
        select(Notification.user_id, Notification.kind)
        .where(Notification.read_at.is_(None), _waiting_for_digest())
        .group_by(Notification.user_id, Notification.kind)
        .subquery()
    )
    kinds_waiting = session.execute(
        select(User, waiting.c.kind)
        .join(waiting, waiting.c.user_id == User.id)
        .where(User.email_verified_at.is_not(None), User.is_banned.is_(False), _digest_due(now))
        .order_by(User.id)
    ).all()
    candidates = sorted(
        {user.id for user, kind in kinds_waiting if email_choice(user, kind) == EmailChoice.DIGEST}
    )
    session.commit()  # ends the read; each member gets a transaction of their own
    return sum(1 for user_id in candidates if _send_digest(session, user_id, now))


def _digest_due(now: datetime) -> ColumnElement[bool]:
    return or_(User.digest_sent_at.is_(None), User.digest_sent_at <= now - DIGEST_EVERY)


def _waiting_for_digest() -> ColumnElement[bool]:
    """Not mailed yet, or mailed before its latest events (a bumped row)."""
    return or_(Notification.emailed_at.is_(None), Notification.updated_at > Notification.emailed_at)


def _send_digest(session: Session, user_id: int, now: datetime) -> bool:
    user = session.get(User, user_id)
    if user is None or not may_mail(user):
        session.rollback()
        return False
    kinds = [kind.value for kind in KIND_LABELS if email_choice(user, kind) == EmailChoice.DIGEST]
    waiting = (
        Notification.user_id == user.id,
        Notification.kind.in_(kinds),
        Notification.read_at.is_(None),
        _waiting_for_digest(),
    )
    # Before the claim overwrites emailed_at: how many replies came since the last mail.
    found = session.execute(
        select(Notification.id, Notification.emailed_at.is_not(None), _posts_since_mailed()).where(
            *waiting
        )
    ).all()
    since_mailed = {row_id: (count if mailed else None) for row_id, mailed, count in found}
    # Notifications first, then the member's row: the order the fan-out takes its locks in.
    # Stamped with the time of the claim, not the run's start: an event that bumped a row
    # while the run was busy with other members is in this mail and mustn't bring it back.
    mailed_at = max(now, utcnow())
    claimed = (
        set(
            session.scalars(
                update(Notification)
                .where(Notification.id.in_(list(since_mailed)), *waiting)
                .values(emailed_at=mailed_at)
                .returning(Notification.id)
                .execution_options(synchronize_session=False)
            )
        )
        if since_mailed
        else set()
    )
    rows = _load(session, Notification.id.in_(claimed)) if claimed else []
    viewer = recipient_viewer(session, user)
    presented = (present(viewer, row, since_mailed.get(row.id)) for row in rows)
    items = [item for item in presented if item is not None]
    if not items:
        # What they may no longer read is settled (not looked at again until it changes), but
        # the day isn't taken: nothing was sent.
        freshness.private(session)
        session.commit()
        return False
    day_claimed = rows_matched(
        session.execute(
            update(User)
            .where(User.id == user.id, _digest_due(now))
            .values(digest_sent_at=now)
            .execution_options(synchronize_session=False)
        )
    )
    if not day_claimed:  # another run sent this member's digest meanwhile: leave it all
        session.rollback()
        return False
    freshness.private(session)  # shown on no cached page
    session.commit()
    mail.send(digest_mail(user, items))
    return True


def _posts_since_mailed() -> ScalarSelect[int]:
    """For a notification mailed before: the posts in its thread since, up to its latest one,
    that its recipient could have been told of (not theirs, not hidden or deleted, not by a
    member they muted)."""
    return (
        select(func.count(Post.id))
        .where(
            Post.thread_id == Notification.thread_id,
            Post.created_at > Notification.emailed_at,
            Post.id <= Notification.latest_post_id,
            Post.author_id != Notification.user_id,
            Post.is_hidden.is_(False),
            Post.is_deleted.is_(False),
            ~exists().where(
                MemberMute.user_id == Notification.user_id, MemberMute.muted_id == Post.author_id
            ),
        )
        .correlate(Notification)
        .scalar_subquery()
    )


def digest_mail(user: User, items: Sequence[MailItem]) -> mail.Mail:
    shown = list(items[:DIGEST_MAX_ITEMS])
    site = mail.site_name()
    lines = [f"Hi {user.username},", "", f"Here is what you missed on {site}:", ""]
    for heading, group in _by_thread(shown):
        lines.append(heading)
        for item in group:
            lines.append(f"  - {item.short}: {item.link}")
            if item.excerpt:
                lines.append(f"      {item.excerpt}")
        lines.append("")
    if len(items) > len(shown):
        more = len(items) - len(shown)
        lines += [f"…and {more} more: {external_url('notifications.index')}", ""]
    digest_link = unsubscribe_url(user, email_choices.DIGEST)
    lines += _footer(
        user,
        "You get this daily digest for the kinds of notification you chose to have mailed in it.",
        f"Stop the daily digest: {digest_link}",
    )
    count = len(items)
    return mail.Mail(
        to=user.email,
        subject=f"Your {site} digest: {count} notification{'s' if count != 1 else ''}",
        body="\n".join(lines),
        headers=_list_headers(digest_link),
    )


def _by_thread(items: Sequence[MailItem]) -> list[tuple[str, list[MailItem]]]:
    """Items grouped under their thread's heading, the most recently active thread first."""
    groups: dict[int | None, list[MailItem]] = {}
    for item in sorted(items, key=lambda item: item.updated_at, reverse=True):
        groups.setdefault(item.thread_id, []).append(item)
    return [(group[0].heading, group) for group in groups.values()]


def _load(session: Session, condition: ColumnElement[bool]) -> list[Notification]:
    return list(
        session.scalars(
            select(Notification)
            .where(condition)
            .options(
                joinedload(Notification.thread).joinedload(Thread.board),
                joinedload(Notification.post),
                joinedload(Notification.actor),
            )
            .order_by(Notification.updated_at.desc(), Notification.id.desc())
        ).unique()
    )


# ------------------------------------------------------------------------------ unsubscribing


def unsubscribe_url(user: User, scope: str) -> str:
    return external_url(
        "mail_choices.unsubscribe", token=email_choices.unsubscribe_token(user, scope)
    )


def _list_headers(link: str) -> tuple[tuple[str, str], ...]:
    """RFC 8058: mail programs offer an unsubscribe button that POSTs
    `List-Unsubscribe=One-Click` to the link, with no cookie and no page in between."""
    return (
        ("List-Unsubscribe", f"<{link}>"),
        ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
        ("Auto-Submitted", "auto-generated"),
    )


def _footer(user: User, why: str, stop_these: str) -> list[str]:
    return [
        "-- ",
        why,
        stop_these,
        f"Stop all notification mail: {unsubscribe_url(user, email_choices.ALL)}",
        f"Choose what is mailed: {external_url('mail_choices.choices')}",
        "",
    ]
