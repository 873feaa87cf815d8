"""What the security tests aim at: a small forum with people in every role and objects of every
type (Forum, Aim; built by the `forum` fixture in conftest.py), every state-changing route with
a form that would succeed (FORMS, route_url), and whole-database snapshots that show any
change a refused request made."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from forum import create_app
from forum.db import Base
from forum.discussion import posting
from forum.models import Board, Report, ReportReason, User
from forum.staff import moderation
from tests.conftest import PASSWORD

# ------------------------------------------------------------------------------ snapshots


def snapshot(db: Session) -> dict[str, tuple[int, str]]:
    """Every table's row count and a checksum of all its rows, read on the test's
    transaction: any insert, update or delete shows up as a difference."""
    db.expire_all()
    found: dict[str, tuple[int, str]] = {}
    for table in Base.metadata.sorted_tables:
        rows = db.execute(select(table).order_by(*table.primary_key.columns)).all()
        digest = hashlib.sha256(repr([tuple(row) for row in rows]).encode()).hexdigest()[:16]
        found[table.name] = (len(rows), digest)
    return found


def changed_tables(
    before: dict[str, tuple[int, str]], after: dict[str, tuple[int, str]]
) -> list[str]:
    return sorted(name for name in before if before[name] != after.get(name))


# ------------------------------------------------------------------------------ a small forum

SECRET = "the secret finale twist"


@dataclass(frozen=True)
class Aim:
    """The objects of one board that a request is aimed at."""

    board_slug: str
    board_id: int
    thread_id: int  # victor's thread
    thread_slug: str
    post_id: int  # victor's visible reply in it
    reported_post_id: int  # mallory's post with victor's open report on it
    hidden_post_id: int  # victor's reply, hidden by the admin, holding SECRET
    destination_board_id: int  # the other board, for moves
    notification_id: int = 0  # the admin's notification about victor's reply (main board only)


@dataclass(frozen=True)
class Forum:
    """People in every role and objects of every type, on two boards.

    mallory is the hostile member; victor owns what she goes after. The moderator morgan
    moderates Partner Track only. Each board has victor's thread with a visible reply and a
    reply hidden by the admin, and a post of mallory's that victor reported. Partner Track also
    has a thread hidden by the admin; both hidden things hold SECRET in their text.
    """

    admin: User
    moderator: User
    mallory: User
    victor: User
    partner_track: Aim
    severance: Aim
    hidden_thread_id: int
    hidden_thread_post_id: int  # its opening post

    @property
    def main(self) -> Aim:
        return self.partner_track


def board_objects(db: Session, admin: User, victor: User, mallory: User, board: Board) -> Aim:
    """Victor's thread on `board` with a visible reply and one the admin hid, and a post of
    mallory's that victor reported."""
    name = board.name
    thread = posting.create_thread(db, board, victor, f"{name}: season 2?", "Opening post")
    reply = posting.add_post(db, thread, victor, f"Victor's reply on {name}")
    hidden = posting.add_post(db, thread, victor, f"Victor's hidden reply: {SECRET}")
    moderation.set_post_hidden(db, admin, hidden, True, "spoilers")
    target = posting.add_post(db, thread, mallory, f"Mallory's reply on {name}")
    db.add(
        Report(
            post_id=target.id,
            reporter_id=victor.id,
            reason=ReportReason.SPAM.value,
            details=f"Victor's private report details on {name}",
        )
    )
    db.flush()
    return Aim(board.slug, board.id, thread.id, thread.slug, reply.id, target.id, hidden.id, 0)


# ------------------------------------------------------------------------------ every route

# For each state-changing route: a form that would succeed for an admin with a valid token.
# A route missing here fails the CSRF and access-control tests, so none slips through.
NEW_PASSWORD = "a forged new passphrase"
FORMS: dict[str, Callable[[Aim], dict[str, Any]]] = {
    # The conversation (issue 13): the admin's own notification, levels, mutes, read marks.
    "/notifications/<int:notification_id>/read": lambda a: {},
    "/notifications/read-all": lambda a: {},
    "/notifications/email": lambda a: {"mention": "never"},
    "/unsubscribe/<token>": lambda a: {},
    "/t/<int:thread_id>/watch": lambda a: {"level": "muted"},
    "/b/<slug>/watch": lambda a: {"level": "watching"},
    "/u/<username>/mute": lambda a: {},
    "/u/<username>/unmute": lambda a: {},
    "/watching/settings": lambda a: {},
    "/b/<slug>/mark-read": lambda a: {},
    "/mark-read": lambda a: {},
    "/t/<int:thread_id>/episode": lambda a: {"episode": "", "is_news": "y"},
    "/b/<slug>/progress": lambda a: {"watched": "none"},
    "/b/<slug>/episodes": lambda a: {"season": "1", "number": "1", "title": "Forged episode"},
    "/b/<slug>/episodes/open": lambda a: {},
    "/settings/spoilers": lambda a: {"sees_all_spoilers": "y"},
    "/admin/boards/<slug>/archive": lambda a: {},
    "/admin/boards/<slug>/edit": lambda a: {
        "slug": a.board_slug,
        "name": "Renamed by forgery",
        "status": "ended",
    },
    "/admin/boards/<slug>/move": lambda a: {"direction": "down"},
    "/admin/boards/<slug>/unarchive": lambda a: {},
    "/admin/boards/new": lambda a: {"slug": "forged-board", "name": "Forged board"},
    "/admin/posts/<int:post_id>/purge": lambda a: {"reason": "forged"},
    "/admin/settings": lambda a: {
        "site_name": "Forged",
        "tagline": "Forged",
        "registration": "closed",
        "rules_markdown": "Forged",
    },
    "/admin/users/<username>/delete": lambda a: {"reason": "forged"},
    "/admin/users/<username>/role": lambda a: {"role": "admin"},
    "/b/<slug>/new": lambda a: {"title": "Forged thread", "body": "Forged body"},
    "/login": lambda a: {"username": "victor", "password": PASSWORD},
    "/login/passkey": lambda a: {},
    "/login/passkey/options": lambda a: {},
    "/login/second-factor": lambda a: {"code": "000000"},
    "/login/second-factor/passkey": lambda a: {},
    "/login/second-factor/passkey/options": lambda a: {},
    "/logout": lambda a: {},
    "/mod/posts/<int:post_id>/hide": lambda a: {"reason": "forged"},
    "/mod/posts/<int:post_id>/restore": lambda a: {"reason": "forged"},
    "/mod/reports/<int:post_id>": lambda a: {"action": "resolve", "resolution": "forged"},
    "/mod/threads/<int:thread_id>": lambda a: {"action": "lock", "reason": "forged"},
    "/mod/threads/<int:thread_id>/hide": lambda a: {"reason": "forged"},
    "/mod/threads/<int:thread_id>/move": lambda a: {"board": a.destination_board_id},
    "/mod/threads/<int:thread_id>/rename": lambda a: {"title": "Renamed by forgery"},
    "/mod/users/<username>/board-lift": lambda a: {"board": a.board_id, "reason": "forged"},
    "/mod/users/<username>/board-suspend": lambda a: {
        "board": a.board_id,
        "duration": "week",
        "reason": "forged",
    },
    "/mod/users/<username>/lift": lambda a: {"reason": "forged"},
    "/mod/users/<username>/suspend": lambda a: {"duration": "ban", "reason": "forged"},
    "/p/<int:post_id>/delete": lambda a: {},
    "/p/<int:post_id>/edit": lambda a: {"body": "Edited by forgery"},
    "/p/<int:post_id>/report": lambda a: {"reason": "spam", "details": "forged"},
    "/preview": lambda a: {"body": "Forged preview"},
    "/register": lambda a: {
        "username": "forged_fan",
        "email": "forged@example.org",
        "password": PASSWORD,
        "confirm": PASSWORD,
    },
    "/reset": lambda a: {"email": "victor@example.org"},
    "/reset/<token>": lambda a: {"new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    "/settings/delete": lambda a: {"del-password": PASSWORD},
    "/settings/email": lambda a: {
        "em-email": "forged@example.org",
        "em-current_password": PASSWORD,
    },
    "/settings/password": lambda a: {
        "pw-current_password": PASSWORD,
        "pw-new_password": NEW_PASSWORD,
        "pw-confirm": NEW_PASSWORD,
    },
    "/settings/security/passkeys": lambda a: {},
    "/settings/security/passkeys/options": lambda a: {},
    "/settings/security/passkeys/remove": lambda a: {"passkey": "1"},
    "/settings/security/recovery-codes": lambda a: {"pw-password": PASSWORD},
    "/settings/security/totp": lambda a: {"code": "000000"},
    "/settings/security/totp/disable": lambda a: {"pw-password": PASSWORD},
    "/settings/security/totp/start": lambda a: {},
    "/settings/sessions/end": lambda a: {"session": "0" * 16},
    "/settings/sessions/end-others": lambda a: {},
    "/t/<int:thread_id>/reply": lambda a: {"body": "Forged reply"},
    "/verify/resend": lambda a: {},
}

# Which post a <post_id> route is aimed at, when not victor's visible reply.
POST_ID_FOR = {
    "/mod/reports/<int:post_id>": "reported_post_id",
    "/mod/posts/<int:post_id>/restore": "hidden_post_id",
}


def route_url(rule: str, aim: Aim, username: str = "victor", token: str = "") -> str:
    """The rule with real values in its placeholders; an unknown placeholder fails."""
    values = {
        "slug": aim.board_slug,
        "thread_id": aim.thread_id,
        "post_id": getattr(aim, POST_ID_FOR.get(rule, "post_id")),
        "username": username,
        "token": token,
        "notification_id": aim.notification_id,
    }

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        assert name in values, f"no test value for <{name}> in {rule}: add one"
        return quote(str(values[name]))

    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", value, rule)


def rules(app: Flask, method: str, prefix: str = "") -> list[str]:
    return sorted(
        {
            rule.rule
            for rule in app.url_map.iter_rules()
            if method in (rule.methods or set())
            and rule.rule.startswith(prefix)
            and rule.endpoint != "static"
        }
    )


def rules_only_app() -> Flask:
    """An app for reading the URL map at collection time (no database is touched)."""
    return create_app(
        {"DATABASE_URL": "sqlite://", "SECRET_KEY": "rules only", "RATE_LIMITS": "off"}
    )
