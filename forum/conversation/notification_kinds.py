"""What each kind of notification is called, and how it is mailed unless the member chose
otherwise: mentions, quotes and replies to you at once, watched threads and boards in the
daily digest, moderators' actions and resolved reports at once."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from types import MappingProxyType

from forum.models import NotificationKind, User


class EmailChoice(enum.StrEnum):
    IMMEDIATE = "immediate"
    DIGEST = "digest"
    NEVER = "never"


# In the order the settings page lists them, with the words it uses.
KIND_LABELS: Mapping[NotificationKind, str] = MappingProxyType(
    {
        NotificationKind.MENTION: "Someone mentions you",
        NotificationKind.REPLY: "Someone replies to your thread",
        NotificationKind.QUOTE: "Someone quotes you",
        NotificationKind.WATCHED_REPLY: "Replies in threads you watch",
        NotificationKind.NEW_THREAD: "New threads on boards you watch",
        NotificationKind.MODERATED: "A moderator acts on your post or thread",
        NotificationKind.REPORT_RESOLVED: "Your report is resolved",
    }
)

EMAIL_DEFAULTS: Mapping[NotificationKind, EmailChoice] = MappingProxyType(
    {
        NotificationKind.MENTION: EmailChoice.IMMEDIATE,
        NotificationKind.REPLY: EmailChoice.IMMEDIATE,
        NotificationKind.QUOTE: EmailChoice.IMMEDIATE,
        NotificationKind.WATCHED_REPLY: EmailChoice.DIGEST,
        NotificationKind.NEW_THREAD: EmailChoice.DIGEST,
        NotificationKind.MODERATED: EmailChoice.IMMEDIATE,
        NotificationKind.REPORT_RESOLVED: EmailChoice.DIGEST,
    }
)


def email_choice(user: User, kind: NotificationKind | str) -> EmailChoice:
    """How `user` wants `kind` mailed: their choice, else the default."""
    chosen = (user.email_choices or {}).get(str(kind))
    if isinstance(chosen, str) and chosen in EmailChoice.__members__.values():
        return EmailChoice(chosen)
    return EMAIL_DEFAULTS[NotificationKind(kind)]
