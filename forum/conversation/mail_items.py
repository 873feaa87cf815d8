"""A notification in the words of a mail, as its RECIPIENT may see it: their Viewer built as a
request of theirs would be (viewer_for, then their spoiler limits), the title from
spoilers.thread_title (masked when they haven't reached its episode), and an excerpt only from
the post's open text (no spoiler, generic or episode), only when they may read the post and its
episode is within their limit. Used by forum/conversation/notification_mail.py."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy.orm import Session

from forum.access import permissions, spoilers
from forum.access.viewer import Viewer, viewer_for
from forum.discussion import plain_text
from forum.models import Notification, NotificationKind, User, utcnow
from forum.platform import settings
from forum.platform.publicurl import external_url

EXCERPT_CHARS = 280

# Kinds about a post someone wrote: not mailed once the recipient may no longer read it.
# (A moderator's action or a resolved report is news even when the post is now hidden.)
_ABOUT_A_POST = frozenset(
    {
        NotificationKind.MENTION,
        NotificationKind.QUOTE,
        NotificationKind.REPLY,
        NotificationKind.WATCHED_REPLY,
        NotificationKind.NEW_THREAD,
    }
)


@dataclass(frozen=True)
class MailItem:
    """One notification as its recipient may see it, in words."""

    kind: NotificationKind
    thread_id: int | None
    sentence: str  # "mel mentioned you in “Title”" (the immediate mail's subject)
    short: str  # the same, for a line under the thread's heading ("mel mentioned you")
    where: str  # " on Partner Track" or ""
    heading: str  # "“Title” on Partner Track"
    excerpt: str  # open text only, "" when they may not read it
    link: str
    updated_at: datetime


def recipient_viewer(session: Session, user: User) -> Viewer:
    """The member as a request of theirs would see the site (forum/access/viewer.py's
    current_viewer, outside a request)."""
    return spoilers.with_limits(
        viewer_for(session, user),
        settings.get_settings(session).episodes,
        utcnow().date(),
        current_app.config["SPOILER_GRACE_DAYS"],
    )


def present(viewer: Viewer, row: Notification, since_mailed: int | None = None) -> MailItem | None:
    """`row` in words for `viewer`, its recipient; None when there is nothing they may read.
    `since_mailed`: for a notification mailed before, the replies since (the sentence says
    "3 more replies" and the excerpt, already mailed, is left out); None for one never mailed."""
    kind = NotificationKind(row.kind)
    thread, post = row.thread, row.post
    sees_thread = thread is not None and permissions.can_see_thread(viewer, thread)
    reads_post = (
        sees_thread
        and thread is not None
        and post is not None
        and permissions.can_see_post_text(viewer, post, thread)
    )
    if kind in _ABOUT_A_POST and not reads_post:
        return None
    title, where, excerpt = "", "", ""
    if sees_thread and thread is not None:
        shown = spoilers.thread_title(viewer, thread)
        title, where = shown.text, f" on {thread.board.name}"
        if (
            reads_post
            and since_mailed is None
            and post is not None
            and not shown.masked
            and not spoilers.spoils(viewer, thread.board_id, post.episode_key)
        ):
            excerpt = _excerpt(plain_text.open_text(post.html))
    if reads_post and post is not None:
        link = external_url("threads.permalink", post_id=post.id)
    elif sees_thread and thread is not None:
        link = external_url("threads.thread", thread_id=thread.id)
    else:
        link = external_url("notifications.index")
    actor = row.actor.username if row.actor is not None else "Someone"
    detail = " ".join((row.detail or "").split())
    named = f"“{title}”" if title else "a thread"
    # Never more than the notification itself counts (posts since may include ones it skipped).
    more = None if since_mailed is None else min(since_mailed, row.count)
    return MailItem(
        kind=kind,
        thread_id=row.thread_id if sees_thread else None,
        sentence=_sentence(kind, row.count, actor, detail, named, more),
        short=_sentence(kind, row.count, actor, detail, "this thread", more),
        where=where,
        heading=f"{named}{where}" if title else "Elsewhere",
        excerpt=excerpt,
        link=link,
        updated_at=row.updated_at,
    )


def _sentence(
    kind: NotificationKind, count: int, actor: str, detail: str, thread: str, more: int | None
) -> str:
    if more is not None:
        return _sentence_again(kind, more, thread) or _sentence(
            kind, count, actor, detail, thread, None
        )
    several = count > 1
    match kind:
        case NotificationKind.MENTION:
            return (
                f"{count} new mentions of you in {thread}"
                if several
                else (f"{actor} mentioned you in {thread}")
            )
        case NotificationKind.QUOTE:
            return (
                f"{count} new quotes of your posts in {thread}"
                if several
                else (f"{actor} quoted you in {thread}")
            )
        case NotificationKind.REPLY:
            return (
                f"{count} new replies to your thread {thread}"
                if several
                else (f"{actor} replied to your thread {thread}")
            )
        case NotificationKind.WATCHED_REPLY:
            return f"{count} new replies in {thread}" if several else f"{actor} replied in {thread}"
        case NotificationKind.NEW_THREAD:
            return f"{actor} started {thread}"
        case NotificationKind.MODERATED:
            return f"A moderator {detail or 'acted on your post'} in {thread}"
        case NotificationKind.REPORT_RESOLVED:
            # The detail is what the moderator did: "resolved (action taken: ...)", "dismissed".
            return f"Your report of a post in {thread} was {detail or 'resolved'}"
    return f"Something new in {thread}"  # pragma: no cover - every kind is matched above


def _sentence_again(kind: NotificationKind, more: int, thread: str) -> str:
    """A notification mailed before, with `more` replies since (0: unknown, such as posts
    hidden since); "" for kinds that say the same again."""
    replies = "1 more reply" if more == 1 else f"{more} more replies" if more else "More replies"
    match kind:
        case NotificationKind.WATCHED_REPLY:
            return f"{replies} in {thread}"
        case NotificationKind.REPLY:
            return f"{replies} to your thread {thread}"
        case NotificationKind.MENTION:
            return f"More mentions of you in {thread}"
        case NotificationKind.QUOTE:
            return f"More quotes of your posts in {thread}"
    return ""


def _excerpt(text: str) -> str:
    """At most EXCERPT_CHARS of `text`, cut at a word, with an ellipsis when cut."""
    text = " ".join(text.split())
    if len(text) <= EXCERPT_CHARS:
        return text
    cut = text[: EXCERPT_CHARS - 1]
    if " " in cut:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:.-") + "…"
