"""The /notifications page's loader: a page of the member's notifications, newest first, each
worked out for the template (sentence, title as they may see it, link, read or not).

Two statements whatever the page holds: the member's total (for the pager) and one joined
SELECT of the page's rows with their thread, the state of their post and the actor's name.

Nothing the member may not see is printed: a thread hidden since shows neither its title nor
a link; a post about them that was hidden or deleted since shows no actor, title or link
(a group of replies keeps its title and count, and links to the slot, which every reader of
the thread sees as a stub); titles pass through spoilers.thread_title for the member, so a
masked title stays masked. A moderator's action and a resolved report are about a post the
member usually can't read any more: they name the thread when the member may see it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, aliased

from forum.access import permissions, spoilers
from forum.access.viewer import Viewer
from forum.models import Notification, NotificationKind, Post, Thread, User
from forum.platform.links import link
from forum.platform.pagination import Page, page_of

PER_PAGE = 20


@dataclass(frozen=True, slots=True)
class NotificationItem:
    """One row of the list, ready to print: `before`, then the title (linked to `url` when
    there is one, emphasised unless masked), then `after`."""

    id: int
    unread: bool
    before: str
    title: str | None
    title_masked: bool
    after: str
    url: str | None  # where the notification leads (the post's permalink, else the thread)
    open_url: str | None  # the list's link: opens it through /notifications/<id>/go (read)
    when: datetime
    kind_label: str


@dataclass(frozen=True, slots=True)
class NotificationPage:
    items: Sequence[NotificationItem]
    page: Page
    unread: int


_KIND_LABELS = {
    NotificationKind.WATCHED_REPLY: "Reply",
    NotificationKind.REPLY: "Reply to you",
    NotificationKind.MENTION: "Mention",
    NotificationKind.QUOTE: "Quote",
    NotificationKind.NEW_THREAD: "New thread",
    NotificationKind.MODERATED: "Moderation",
    NotificationKind.REPORT_RESOLVED: "Report",
}
# Kinds about something a member wrote: gone once the member may no longer read it.
_ABOUT_A_POST = frozenset(
    {
        NotificationKind.WATCHED_REPLY,
        NotificationKind.REPLY,
        NotificationKind.MENTION,
        NotificationKind.QUOTE,
        NotificationKind.NEW_THREAD,
    }
)


def _with_context(user_id: int) -> Select[Notification, Thread, bool, bool, str]:
    """The member's notifications with what presenting them needs: thread, the post's state,
    the actor's name (one statement)."""
    actor = aliased(User)
    return (
        select(Notification, Thread, Post.is_deleted, Post.is_hidden, actor.username)
        .outerjoin(Thread, Thread.id == Notification.thread_id)
        .outerjoin(Post, Post.id == Notification.post_id)
        .outerjoin(actor, actor.id == Notification.actor_id)
        .where(Notification.user_id == user_id)
    )


def notification_page(session: Session, viewer: Viewer, page_number: int) -> NotificationPage:
    """A page of `viewer`'s notifications (a member), newest activity first."""
    assert viewer.user is not None, "notifications are a member's"
    user_id = viewer.user.id
    total = (
        session.scalar(select(func.count(Notification.id)).where(Notification.user_id == user_id))
        or 0
    )
    page = page_of(total, PER_PAGE, page_number)
    rows = session.execute(
        _with_context(user_id)
        .order_by(Notification.updated_at.desc(), Notification.id.desc())
        .offset(page.offset)
        .limit(PER_PAGE)
    ).all()
    items = [
        present(viewer, row, thread, post_deleted, post_hidden, actor_name)
        for row, thread, post_deleted, post_hidden, actor_name in rows
    ]
    return NotificationPage(items, page, viewer.user.unread_notifications)


def one_notification(
    session: Session, viewer: Viewer, notification_id: int
) -> NotificationItem | None:
    """`viewer`'s notification by id, worked out as the list shows it (its `url` is None when
    what it is about is no longer theirs to see); None when they have none by that id (another
    member's is the same as a missing one). One statement."""
    assert viewer.user is not None, "notifications are a member's"
    row = session.execute(
        _with_context(viewer.user.id).where(Notification.id == notification_id)
    ).first()
    if row is None:
        return None
    notification, thread, post_deleted, post_hidden, actor_name = row
    return present(viewer, notification, thread, post_deleted, post_hidden, actor_name)


def present(
    viewer: Viewer,
    row: Notification,
    thread: Thread | None,
    post_deleted: bool | None,
    post_hidden: bool | None,
    actor_name: str | None,
) -> NotificationItem:
    kind = NotificationKind(row.kind)

    def item(
        before: str, title: str | None = None, after: str = "", url: str | None = None
    ) -> NotificationItem:
        return NotificationItem(
            id=row.id,
            unread=row.read_at is None,
            before=before,
            title=title,
            title_masked=masked,
            after=after,
            url=url,
            open_url=link("notifications.go", notification_id=row.id) if url else None,
            when=row.updated_at,
            kind_label=_KIND_LABELS.get(kind, "Notification"),
        )

    masked = False
    if thread is None or not permissions.can_see_thread(viewer, thread):
        if kind is NotificationKind.MODERATED:
            return item(f"A moderator {row.detail}.")
        return item("About a thread you can no longer see.")
    shown = spoilers.thread_title(viewer, thread)
    masked = shown.masked
    post_url = link("threads.permalink", post_id=row.post_id) if row.post_id else None
    thread_url = link("threads.thread", thread_id=thread.id, slug=thread.slug)
    url = post_url or thread_url
    readable = (
        row.post_id is not None
        and post_deleted is False
        and (not post_hidden or permissions.moderates(viewer, thread.board_id))
    )
    if kind is NotificationKind.MODERATED:
        times = f" ({row.count} actions, latest shown)" if row.count > 1 else ""
        return item(f"A moderator {row.detail} in", shown.text, f"{times}.", url)
    if kind is NotificationKind.REPORT_RESOLVED:
        what = "Your reports" if row.count > 1 else "Your report"
        return item(f"{what} of a post in", shown.text, f" {_was(row.count)} {row.detail}.", url)
    if kind in _ABOUT_A_POST and not readable:
        if row.count == 1 or kind is NotificationKind.NEW_THREAD:
            return item("A post you were notified about is no longer available.")
        # Later replies of the group may still be there: count and title, no name.
        return item(_group(kind, row.count), shown.text, ".", url)
    if row.count > 1:
        return item(_group(kind, row.count), shown.text, ".", url)
    name = actor_name or "A deleted user"
    return item(_single(kind, name), shown.text, ".", url)


def _was(count: int) -> str:
    return "were" if count > 1 else "was"


def _single(kind: NotificationKind, name: str) -> str:
    return {
        NotificationKind.WATCHED_REPLY: f"{name} replied in",
        NotificationKind.REPLY: f"{name} replied to your thread",
        NotificationKind.MENTION: f"{name} mentioned you in",
        NotificationKind.QUOTE: f"{name} quoted you in",
        NotificationKind.NEW_THREAD: f"{name} started a new thread:",
    }.get(kind, f"{name} posted in")


def _group(kind: NotificationKind, count: int) -> str:
    return {
        NotificationKind.WATCHED_REPLY: f"{count} new replies in",
        NotificationKind.REPLY: f"{count} new replies to your thread",
        NotificationKind.MENTION: f"You were mentioned {count} times in",
        NotificationKind.QUOTE: f"You were quoted {count} times in",
        NotificationKind.NEW_THREAD: f"{count} new posts in",
    }.get(kind, f"{count} new posts in")
