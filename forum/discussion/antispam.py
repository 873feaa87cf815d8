"""Limits on new members and flood control, in the spirit of Discourse's trust levels.

Each check returns a message for the fan, or None when the post may go ahead. All of it is off
when FORUM_RATE_LIMITS=off, and accounts created on the CLI (trusted) skip the new-member part.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from forum.models import Post, Thread, User, utcnow


def _is_new_member(user: User, config: dict[str, Any]) -> bool:
    if user.is_trusted or user.role != "member":
        return False
    return utcnow() - user.created_at < timedelta(hours=config["NEW_MEMBER_HOURS"])


def thread_limit_refusal(session: Session, user: User, config: dict[str, Any]) -> str | None:
    """Whether this member may start another thread today. About the action, not the text:
    the form shows it above the fields, not under the message."""
    if not config["RATE_LIMITS_ENABLED"] or not _is_new_member(user, config):
        return None
    started = (
        session.scalar(
            select(func.count())
            .select_from(Thread)
            .where(Thread.author_id == user.id, Thread.created_at >= user.created_at)
        )
        or 0
    )
    if started >= config["NEW_MEMBER_MAX_THREADS"]:
        return (
            f"New members can start up to {config['NEW_MEMBER_MAX_THREADS']} threads "
            "on their first day. You can still reply to threads."
        )
    return None


def _outside_links(body_html: str) -> int:
    """Links a post makes to elsewhere: @mention links and the permalink a quote carries point
    to this forum's own pages (their notifications have limits of their own, stricter for new
    members: forum/conversation/fan_out.py), so they don't count."""
    internal = body_html.count('<a href="/u/') + body_html.count('<a href="/p/')
    return body_html.count("<a ") - internal


def text_refusal(
    session: Session,
    user: User,
    body_html: str,
    body_source: str,
    config: dict[str, Any],
) -> str | None:
    """Whether this text may be posted: links from a new member, a duplicate just sent."""
    if not config["RATE_LIMITS_ENABLED"]:
        return None
    if _is_new_member(user, config):
        max_links = config["NEW_MEMBER_MAX_LINKS"]
        if _outside_links(body_html) > max_links:
            return (
                f"New members can include up to {max_links} links per post during their "
                "first day. Remove some links and try again."
            )
    window = utcnow() - timedelta(seconds=config["FLOOD_WINDOW_SECONDS"])
    duplicate = session.scalar(
        select(Post.id)
        .where(Post.author_id == user.id, Post.created_at >= window, Post.source == body_source)
        .limit(1)
    )
    if duplicate is not None:
        return "You just posted exactly this. Edit your earlier post or write something new."
    return None
