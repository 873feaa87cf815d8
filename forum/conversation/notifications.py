"""Notifications: writing them (idempotently, at most one unread row per member, kind and
thread), marking them read, and the bell's count (users.unread_notifications, kept exact here).

A member's post notifies through a job (forum/conversation/fan_out.py) queued by `post_added`
for after the commit, so the request never pays for the watchers. A moderator's action and a
resolved report concern one or a few members: `moderated` and `report_resolved` write in the
caller's transaction. Every write here declares itself private (forum/platform/freshness.py):
no cached page shows a member's notifications.

The counter rule: only a NEW unread row adds 1 to the bell; a bump of an unread row (another
reply in the same thread) adds to the row's `count`, not to the bell; reading subtracts what it
read. `flask recount` recounts it from the rows (forum/staff/recount.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, literal, select, true, update
from sqlalchemy.orm import Session

from forum import db
from forum.conversation import notification_mail
from forum.db import rows_matched
from forum.discussion import markup
from forum.models import (
    Notification,
    NotificationKind,
    Post,
    Report,
    ReportStatus,
    Thread,
    User,
    utcnow,
)
from forum.platform import freshness, jobs

# Kinds written by a moderator's hand in a request, never by a retried job: each new action
# replaces the detail of an unread row rather than being held to the post-id rule.
_ACTION_KINDS = frozenset({NotificationKind.MODERATED, NotificationKind.REPORT_RESOLVED})


# ------------------------------------------------------------------------------ posts


def post_added(session: Session, post: Post, rendered: markup.Rendered) -> None:
    """A member's new post (not committed): queue the job that notifies whoever it concerns
    (watchers, the thread's author, mentioned and quoted members), run after the commit."""
    # Imported here: the job builds on this module's writes (fan_out imports notifications).
    from forum.conversation.fan_out import fan_out_post

    jobs.after_commit(
        session, fan_out_post, post.id, list(rendered.mentions), list(rendered.quoted_post_ids)
    )


def post_edited(
    session: Session, post: Post, mention_names: list[str], quoted_post_ids: list[int]
) -> None:
    """An edit of `post` (not committed) added these @mentions and quotes (only the added
    ones): queue the job that tells those members, and nobody else (watchers and the thread's
    starter heard of the post when it was written). Nothing to queue when it added none."""
    if not mention_names and not quoted_post_ids:
        return
    from forum.conversation.fan_out import fan_out_post

    jobs.after_commit(
        session, fan_out_post, post.id, list(mention_names), list(quoted_post_ids), True
    )


# ------------------------------------------------------------------------------ writing


def upsert_from(
    session: Session,
    recipients: Select[Any],
    *,
    kind: NotificationKind,
    thread_id: int,
    post_id: int | None,
    actor_id: int | None,
    detail: str,
    now: datetime,
) -> Any:
    """One INSERT ... SELECT ... ON CONFLICT for every member `recipients` (a SELECT of user
    ids) names: a new unread row each, or, where the member already has an unread one of this
    kind in this thread, one more in its `count`. For a post's kinds the bump happens only
    when the post is newer than the row's latest, and a member whose row (read or not) already
    covers this post gets nothing: a retried job is a no-op. The rows it writes carry
    `updated_at = now`; the new ones also `count = 1` (see count_new_rows)."""
    columns = (
        "user_id",
        "kind",
        "thread_id",
        "post_id",
        "latest_post_id",
        "actor_id",
        "count",
        "detail",
        "created_at",
        "updated_at",
    )
    source = recipients.subquery("recipients")
    user_id = source.c[0]
    chosen = select(
        user_id,
        literal(kind.value),
        literal(thread_id),
        literal(post_id),
        literal(post_id),
        literal(actor_id),
        literal(1),
        literal(detail),
        literal(now, Notification.created_at.type),
        literal(now, Notification.updated_at.type),
    )
    if post_id is not None and kind not in _ACTION_KINDS:
        # SQLite needs a WHERE in an upsert's SELECT (else ON CONFLICT parses as a join's ON).
        chosen = chosen.where(~_already_told(user_id, kind, thread_id, post_id))
    else:
        chosen = chosen.where(true())
    insert = db.upsert(session, Notification).from_select(list(columns), chosen)
    excluded = insert.excluded
    if kind in _ACTION_KINDS:
        newer: ColumnElement[bool] = true()
    else:
        newer = Notification.latest_post_id < excluded.latest_post_id
    return insert.on_conflict_do_update(
        index_elements=[Notification.user_id, Notification.kind, Notification.thread_id],
        index_where=Notification.read_at.is_(None),
        set_={
            "count": Notification.count + 1,
            "latest_post_id": excluded.latest_post_id,
            "detail": excluded.detail,
            "updated_at": excluded.updated_at,
        },
        where=newer,
    )


def _already_told(
    user_id: Any, kind: NotificationKind, thread_id: int, post_id: int
) -> ColumnElement[bool]:
    """The member has a row of this kind and thread that reached this post or a later one
    (read or not): they were told, or have read past it."""
    return exists().where(
        Notification.user_id == user_id,
        Notification.kind == kind.value,
        Notification.thread_id == thread_id,
        Notification.latest_post_id >= post_id,
    )


def written_now(
    kind: NotificationKind, thread_id: int, now: datetime, *, new: bool = False
) -> ColumnElement[bool]:
    """Notification rows of this kind and thread that upsert_from wrote at `now` (`new`: only
    those it created). Meant with Notification.user_id pinned to a member, so the lookup rides
    the unread index (user, kind, thread)."""
    conditions = [
        Notification.kind == kind.value,
        Notification.thread_id == thread_id,
        Notification.read_at.is_(None),
        Notification.updated_at == literal(now, Notification.updated_at.type),
    ]
    if new:
        conditions.append(Notification.count == 1)
    return and_(*conditions)


def count_new_rows(
    session: Session,
    recipients: Select[Any],
    *,
    kind: NotificationKind,
    thread_id: int,
    now: datetime,
) -> None:
    """Add the rows upsert_from just created for `recipients` (count 1, written at `now`) to
    their members' bells. One statement whatever the number of members; a retried job's rows
    were written at another moment, so they are never counted twice."""
    new_row = exists().where(
        Notification.user_id == User.id, written_now(kind, thread_id, now, new=True)
    )
    session.execute(
        update(User)
        # correlate(None): `recipients` selects from users too, and must stay a list of ids
        # of its own rather than a condition on the row being updated.
        .where(User.id.in_(recipients.correlate(None)), new_row)
        .values(unread_notifications=User.unread_notifications + 1)
        .execution_options(synchronize_session=False)
    )


def notify(
    session: Session,
    *,
    recipient_id: int,
    kind: NotificationKind,
    thread_id: int,
    post_id: int | None,
    actor_id: int | None,
    detail: str = "",
) -> int | None:
    """Tell one member: a new unread row or a bump of theirs (see upsert_from); the row's id,
    or None when nothing was written (this post was already told). The bell counts a new row.
    Mail is the member's choice (forum/conversation/notification_mail.py)."""
    freshness.private(session)
    now = utcnow()
    recipients = select(literal(recipient_id).label("user_id"))
    written = session.execute(
        upsert_from(
            session,
            recipients,
            kind=kind,
            thread_id=thread_id,
            post_id=post_id,
            actor_id=actor_id,
            detail=detail,
            now=now,
        ).returning(Notification.id, Notification.count)
    ).first()
    if written is None:
        return None
    notification_id, count = written
    if count == 1:
        session.execute(
            update(User)
            .where(User.id == recipient_id)
            .values(unread_notifications=User.unread_notifications + 1)
            .execution_options(synchronize_session=False)
        )
    recipient = session.get(User, recipient_id)
    if recipient is not None:
        tell_mail(session, notification_id, recipient, kind)
    return int(notification_id)


def tell_mail(
    session: Session, notification_id: int, recipient: User, kind: NotificationKind
) -> None:
    """Hand a written row to the mail part, which mails it now, in the digest or never."""
    notification_mail.notification_written(session, notification_id, recipient, kind)


# ------------------------------------------------------------------------------ moderators


def moderated(
    session: Session,
    *,
    actor: User,
    what: str,
    post: Post | None = None,
    thread: Thread | None = None,
    reason: str = "",
) -> int | None:
    """A moderator acted on a member's post (or, without a post, their thread): tell its
    author, in words (`what`: "hid your post"), with the reason the public log shows. Not for
    the moderator's own content, nor for deleted accounts."""
    if post is not None:
        author_id, thread_id = post.author_id, post.thread_id
    elif thread is not None:
        author_id, thread_id = thread.author_id, thread.id
    else:
        raise ValueError("moderated needs the post or the thread acted on")
    if author_id is None or author_id == actor.id:
        return None
    detail = f"{what} (reason: {reason})" if reason.strip() else what
    return notify(
        session,
        recipient_id=author_id,
        kind=NotificationKind.MODERATED,
        thread_id=thread_id,
        post_id=post.id if post is not None else None,
        actor_id=actor.id,
        detail=detail,
    )


def report_resolved(
    session: Session, report: Report, *, actor: User, status: ReportStatus, resolution: str = ""
) -> int:
    """The open reports of `report`'s post are being handled (call before they are marked):
    tell each member who filed one, except the moderator handling them, with the action taken
    (the form says reporters see it). How many were told."""
    reporters = session.execute(
        select(Report.reporter_id, Post.thread_id)
        .join(Post, Post.id == Report.post_id)
        .where(Report.post_id == report.post_id, Report.status == ReportStatus.OPEN.value)
    ).all()
    told = 0
    for reporter_id, thread_id in reporters:
        if reporter_id is None or reporter_id == actor.id:
            continue
        written = notify(
            session,
            recipient_id=reporter_id,
            kind=NotificationKind.REPORT_RESOLVED,
            thread_id=thread_id,
            post_id=report.post_id,
            actor_id=actor.id,
            detail=f"{status.value} (action taken: {resolution})" if resolution else status.value,
        )
        told += written is not None
    return told


# ------------------------------------------------------------------------------ reading


def _subtract_from_bell(session: Session, user: User, read: int) -> None:
    if read:
        session.execute(
            update(User)
            .where(User.id == user.id)
            .values(unread_notifications=User.unread_notifications - read)
            .execution_options(synchronize_session=False)
        )


def mark_read(session: Session, user: User, notification_id: int) -> bool:
    """Mark one of `user`'s own notifications read; False when they have none by that id
    (another member's id is the same as a missing one: nothing is changed or told)."""
    freshness.private(session)
    read = rows_matched(
        session.execute(
            update(Notification)
            .where(
                Notification.id == notification_id,
                Notification.user_id == user.id,
                Notification.read_at.is_(None),
            )
            .values(read_at=utcnow())
            .execution_options(synchronize_session=False)
        )
    )
    if read:
        _subtract_from_bell(session, user, read)
        return True
    # Already read (a second click) is fine; someone else's is not found.
    owned = session.scalar(
        select(Notification.id).where(
            Notification.id == notification_id, Notification.user_id == user.id
        )
    )
    return owned is not None


def mark_all_read(session: Session, user: User) -> int:
    """Mark every unread notification of `user` read; how many. Two statements."""
    freshness.private(session)
    read = rows_matched(
        session.execute(
            update(Notification)
            .where(Notification.user_id == user.id, Notification.read_at.is_(None))
            .values(read_at=utcnow())
            .execution_options(synchronize_session=False)
        )
    )
    _subtract_from_bell(session, user, read)
    return read


def read_in_thread(session: Session, user: User, thread_id: int, up_to_number: int) -> int:
    """Mark read the member's unread notifications about posts of the thread up to post
    `up_to_number` (they just saw them), keeping the bell's count exact; how many. A grouped
    row ("3 new replies") is read once its LATEST post was shown, not its first; a row about
    the thread itself (no post) is left for the member to open."""
    freshness.private(session)
    shown = select(Post.id).where(Post.thread_id == thread_id, Post.number <= up_to_number)
    read = rows_matched(
        session.execute(
            update(Notification)
            .where(
                Notification.user_id == user.id,
                Notification.thread_id == thread_id,
                Notification.read_at.is_(None),
                Notification.post_id.is_not(None),
                Notification.latest_post_id.in_(shown),
            )
            .values(read_at=utcnow())
            .execution_options(synchronize_session=False)
        )
    )
    _subtract_from_bell(session, user, read)
    return read
