"""Notifications by email: at once (a job queued when the notification is written, run after a
short delay) or in a daily digest (a periodic job), as each member chose per kind
(forum/conversation/email_choices.py).

Nothing already read in the app is mailed, and nothing is mailed twice: a mail is sent only
after a conditional UPDATE claims its notifications (unread, not yet emailed) and commits, so a
read that lands first, a retried job or a second digest run finds nothing left to claim. A
notification is mailed once while it stays unread; later events that add to it don't mail again.

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
from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.orm import Session, joinedload

from forum.conversation import email_choices
from forum.conversation.mail_items import MailItem, present, recipient_viewer
from forum.conversation.notification_kinds import KIND_LABELS, EmailChoice, email_choice
from forum.db import db_session, rows_matched
from forum.models import Notification, Thread, User, utcnow
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
    """Hourly: a digest to each member whose last one is about a day old and who has unread,
    unmailed notifications of kinds they have mailed in the digest."""
    send_due_digests(db_session())


notifications_cli = AppGroup("notifications", help="Notification email.")


@notifications_cli.command("digest")
def digest_command() -> None:
    """Send the daily digests that are due now (the worker does it hourly)."""
    sent = send_due_digests(db_session())
    click.echo(f"{sent:,} digest{'s' if sent != 1 else ''} sent.")


def send_due_digests(session: Session, now: datetime | None = None) -> int:
    """Build and queue every digest due at `now`; how many were sent. Safe to run twice (or
    side by side): each member's digest is claimed by a conditional UPDATE first."""
    now = now or utcnow()
    candidates = list(
        session.scalars(
            select(Notification.user_id)
            .join(User, User.id == Notification.user_id)
            .where(
                Notification.read_at.is_(None),
                Notification.emailed_at.is_(None),
                User.email_verified_at.is_not(None),
                User.is_banned.is_(False),
                _digest_due(now),
            )
            .distinct()
            .order_by(Notification.user_id)
        )
    )
    session.commit()  # ends the read; each member gets a transaction of their own
    return sum(1 for user_id in candidates if _send_digest(session, user_id, now))


def _digest_due(now: datetime) -> ColumnElement[bool]:
    return or_(User.digest_sent_at.is_(None), User.digest_sent_at <= now - DIGEST_EVERY)


def _send_digest(session: Session, user_id: int, now: datetime) -> bool:
    # Claim the member's digest: a run that finds it claimed already leaves it.
    claimed = rows_matched(
        session.execute(
            update(User)
            .where(User.id == user_id, _digest_due(now))
            .values(digest_sent_at=now)
            .execution_options(synchronize_session=False)
        )
    )
    freshness.private(session)
    user = session.get(User, user_id, populate_existing=True) if claimed else None
    if user is None:
        session.rollback()
        return False
    kinds = [kind.value for kind in KIND_LABELS if email_choice(user, kind) == EmailChoice.DIGEST]
    ids = (
        list(
            session.scalars(
                update(Notification)
                .where(
                    Notification.user_id == user.id,
                    Notification.kind.in_(kinds),
                    Notification.read_at.is_(None),
                    Notification.emailed_at.is_(None),
                )
                .values(emailed_at=now)
                .returning(Notification.id)
                .execution_options(synchronize_session=False)
            )
        )
        if kinds
        else []
    )
    rows = _load(session, Notification.id.in_(ids)) if ids else []
    viewer = recipient_viewer(session, user)
    items = [item for item in (present(viewer, row) for row in rows) if item is not None]
    # Nothing to say still counts as this day's digest: the member isn't looked at again
    # every hour for notifications they don't have mailed.
    session.commit()
    if not items:
        return False
    mail.send(digest_mail(user, items))
    return True


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
