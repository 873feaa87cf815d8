"""@mentions: which accounts the names in a post are, and the names offered as a member types.

A post's @names are found by forum/discussion/markup.py while it renders; the resolver here
tells it which are members' (one query for the whole post), so those become links to the
profiles when the post is saved. Names compare the way usernames do (forum/platform/text.py's
identity_key against users.username_key): `@DEMO` and its fullwidth look-alike are demo. A
deleted account has no row left, so its name stays text in posts written after it went.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy import false, select
from sqlalchemy.orm import Session

from forum.discussion.markup import MentionResolver
from forum.models import User
from forum.platform.text import identity_key

# The autocomplete's list: a few names are a choice, more are a directory.
SUGGESTION_LIMIT = 8
# Longer than any username (30 characters, 60 once casefolded): nobody's.
_MAX_PREFIX = 60


def resolver_for(session: Session) -> MentionResolver:
    """markup.render's mention resolver on `session`: @names as typed -> the usernames of the
    accounts they name, names that are nobody's left out."""

    def resolve(names: Sequence[str]) -> Mapping[str, str]:
        keys = {name: identity_key(name) for name in names}
        if not keys:
            return {}
        found = {
            key: username
            for key, username in session.execute(
                select(User.username_key, User.username).where(
                    User.username_key.in_(sorted(set(keys.values())))
                )
            )
        }
        return {name: found[key] for name, key in keys.items() if key in found}

    return resolve


def suggestions(session: Session, prefix: str) -> list[str]:
    """Up to SUGGESTION_LIMIT usernames starting with `prefix` (compared by identity key), in
    key order; banned accounts are left out (they can't answer)."""
    key = identity_key(prefix)
    if not key or len(key) > _MAX_PREFIX:
        return []
    return list(
        session.scalars(
            select(User.username)
            .where(User.username_key.startswith(key, autoescape=True), User.is_banned == false())
            .order_by(User.username_key)
            .limit(SUGGESTION_LIMIT)
        )
    )
