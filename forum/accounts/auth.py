"""Logging in and out with revocable sessions.

Each login creates an AuthSession row; the login cookie (and the remember-me cookie) carry its
random token and the table keeps only the token's SHA-256. Logging out deletes the row, so a
copied cookie stops working; changing or resetting the password deletes the user's other rows.

Sessions also end on the server: after SESSION_IDLE_DAYS without a visit and SESSION_MAX_DAYS
after the password was typed. A remember-me cookie is exchanged for a new token each time it
restores a session, so a copied one works only until its owner's next visit; the old token
keeps working for ROTATION_GRACE (requests already in flight with it), then is refused and
deleted. Each row records its device (user agent), last address and last visit, written at
most every TOUCH_EVERY in a short transaction of its own, for "your sessions" pages.

Every response to a signed-in viewer carries `Cache-Control: private, no-store`: pages show
their email, drafts and the admin area, which no shared cache or back button should keep.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import Flask, current_app, g, request, session
from flask_login import (
    LoginManager,
    current_user,
    login_user,
    logout_user,
    user_loaded_from_cookie,
)
from sqlalchemy import ColumnElement, bindparam, delete, insert, or_, select, update
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from forum.access.viewer import forget_viewer
from forum.db import READ_METHODS, db_session, write_apart
from forum.models import AuthSession, User, utcnow
from forum.platform import freshness
from forum.platform.origin import is_same_origin
from forum.platform.text import strip_control

# Requests that never involve the viewer: static files (the same for everyone, so shareable by
# caches) and the health probes (which must answer while the database is down). A live thread's
# poll (views/live.py) loads the viewer only for a hidden thread, itself; its answer is a count.
NO_VIEWER = frozenset({"static", "health.healthz", "health.readyz", "live.poll"})


class _LoginManager(LoginManager):
    def _update_remember_cookie(self, response: Response) -> Response:
        # Flask-Login reads the session after every response, and any read makes Flask add
        # Vary: Cookie.
        if request.endpoint in NO_VIEWER:
            return response
        return super()._update_remember_cookie(response)  # type: ignore[no-any-return]


login_manager = _LoginManager()
login_manager.login_view = "accounts.login"
login_manager.refresh_view = "accounts.login"
login_manager.login_message = "Log in to continue."
login_manager.needs_refresh_message = "Please log in again to change account settings."
login_manager.login_message_category = "info"
login_manager.needs_refresh_message_category = "info"
login_manager.session_protection = "basic"

# Last-seen is for people (the sessions page) and the idle timeout, counted in days: minutes
# are precise enough, and a write per page view would not be.
TOUCH_EVERY = timedelta(minutes=5)
# Long enough for a page's parallel requests with the old cookie; short enough that a copied
# cookie is useless almost at once after its owner's visit.
ROTATION_GRACE = timedelta(seconds=60)
USER_AGENT_LENGTH = 200
# How a session is named to its owner (the sessions page): a prefix of the token's hash,
# useless for logging in and unique among one member's sessions.
SESSION_ID_LENGTH = 16


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _lifetimes(now: datetime) -> tuple[datetime, datetime]:
    """The oldest last visit and the oldest sign-in a live session may have."""
    config = current_app.config
    return (
        now - timedelta(days=config["SESSION_IDLE_DAYS"]),
        now - timedelta(days=config["SESSION_MAX_DAYS"]),
    )


def _alive(row: AuthSession, now: datetime) -> bool:
    idle_cutoff, max_cutoff = _lifetimes(now)
    return (
        row.last_seen_at > idle_cutoff
        and row.created_at > max_cutoff
        and (row.rotated_at is None or row.rotated_at > now - ROTATION_GRACE)
    )


def _dead(user_id: int, now: datetime) -> ColumnElement[bool]:
    """The user's sessions that no cookie can use any more."""
    idle_cutoff, max_cutoff = _lifetimes(now)
    return (AuthSession.user_id == user_id) & or_(
        AuthSession.last_seen_at <= idle_cutoff,
        AuthSession.created_at <= max_cutoff,
        AuthSession.rotated_at <= now - ROTATION_GRACE,
    )


def _device() -> dict[str, str]:
    agent = strip_control(request.headers.get("User-Agent", "")).strip()
    return {"user_agent": agent[:USER_AGENT_LENGTH], "last_seen_ip": request.remote_addr or ""}


# Built once: building the select() on every request cost 0.3-0.5 ms, more than running it.
_USER_BY_TOKEN_HASH = (
    select(User, AuthSession)
    .join(AuthSession, AuthSession.user_id == User.id)
    .where(AuthSession.token_hash == bindparam("token_hash"))
)


@login_manager.user_loader
def load_user(token: str) -> User | None:
    if not token or len(token) > 100:
        return None
    db = db_session()
    found = db.execute(_USER_BY_TOKEN_HASH, {"token_hash": _digest(token)}).first()
    now = utcnow()
    if found is None or not _alive(found.AuthSession, now):
        return None
    user: User = found.User
    row: AuthSession = found.AuthSession
    user.session_token = token
    g.auth_session = row
    return user


@user_loaded_from_cookie.connect
def _note_cookie_login(_app: Flask, **_extra: object) -> None:
    g.auth_from_cookie = True


def start_session(db: Session, user: User, remember: bool) -> None:
    """Log `user` in on this device with a fresh session (the old cookie's data is dropped,
    so nothing set before login carries over: no session fixation)."""
    now = utcnow()
    db.execute(
        delete(AuthSession).where(_dead(user.id, now)).execution_options(synchronize_session=False)
    )
    token = secrets.token_urlsafe(32)
    db.add(
        AuthSession(
            token_hash=_digest(token),
            user_id=user.id,
            remember=remember,
            created_at=now,
            last_seen_at=now,
            **_device(),
        )
    )
    db.flush()
    user.session_token = token
    session.clear()
    # Flask-WTF keeps the token it signed earlier in this request in g; the cleared session no
    # longer holds its secret, so any form drawn after the login must sign a new one.
    g.pop("csrf_token", None)
    login_user(user, remember=remember)
    forget_viewer()


def end_session(db: Session, user: User) -> None:
    if user.session_token:
        db.execute(delete(AuthSession).where(AuthSession.token_hash == _digest(user.session_token)))
    logout_user()
    forget_viewer()


def end_other_sessions(db: Session, user: User) -> None:
    """Log the user out everywhere except this request's session (if any)."""
    stmt = delete(AuthSession).where(AuthSession.user_id == user.id)
    if user.session_token:
        stmt = stmt.where(AuthSession.token_hash != _digest(user.session_token))
    db.execute(stmt)


# ------------------------------------------------------------------------------ sessions page


@dataclass(frozen=True)
class SessionInfo:
    """One signed-in device, as its owner sees it."""

    id: str
    user_agent: str
    last_seen_ip: str
    last_seen_at: datetime
    signed_in_at: datetime
    remembered: bool
    is_current: bool


def list_sessions(db: Session, user: User) -> list[SessionInfo]:
    """The member's live sessions, the most recently used first (this one marked)."""
    now = utcnow()
    idle_cutoff, max_cutoff = _lifetimes(now)
    current = _digest(user.session_token) if user.session_token else ""
    rows = db.scalars(
        select(AuthSession)
        .where(
            AuthSession.user_id == user.id,
            AuthSession.rotated_at.is_(None),
            AuthSession.last_seen_at > idle_cutoff,
            AuthSession.created_at > max_cutoff,
        )
        .order_by(AuthSession.last_seen_at.desc(), AuthSession.token_hash)
    )
    return [
        SessionInfo(
            id=row.token_hash[:SESSION_ID_LENGTH],
            user_agent=row.user_agent,
            last_seen_ip=row.last_seen_ip,
            last_seen_at=row.last_seen_at,
            signed_in_at=row.created_at,
            remembered=row.remember,
            is_current=row.token_hash == current,
        )
        for row in rows
    ]


def end_session_by_id(db: Session, user: User, session_id: str) -> bool:
    """Sign out one of the member's own sessions, named as list_sessions names it. False when
    the member has no such session (someone else's id is no different from a made-up one)."""
    if len(session_id) != SESSION_ID_LENGTH or session_id.strip("0123456789abcdef"):
        return False
    result = db.execute(
        delete(AuthSession).where(
            AuthSession.user_id == user.id,
            AuthSession.token_hash.startswith(session_id, autoescape=True),
        )
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


# ------------------------------------------------------------------------------ every request


def carries_login() -> bool:
    """Whether the request carries a login (session or remember cookie): without one, the
    viewer is a visitor and nothing about them needs loading."""
    remember = current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token")
    return "_user_id" in session or remember in request.cookies


def _keep_session_fresh() -> None:
    """Load the viewer before the view begins its transaction, and when their cookie restored
    the session or their last visit is older than TOUCH_EVERY, rotate and record it."""
    if request.endpoint in NO_VIEWER or not carries_login():
        return  # a visitor: nothing to load (and a cached page stays a cheap hit)
    user = current_user._get_current_object()
    row: AuthSession | None = g.pop("auth_session", None)
    from_cookie = g.pop("auth_from_cookie", False)
    if not user.is_authenticated or row is None:
        return
    if request.method not in READ_METHODS and not is_same_origin():
        # A forged cross-site POST must not rotate the token: its refusal sends no cookie, so
        # the device would be left holding a token that dies after the grace period.
        return
    now = utcnow()
    rotate = from_cookie and row.remember and row.rotated_at is None
    if not rotate and row.last_seen_at > now - TOUCH_EVERY:
        return
    device = _device()

    def record(db: Session) -> None:
        db.execute(
            update(AuthSession)
            .where(AuthSession.token_hash == row.token_hash)
            .values(last_seen_at=now, **device)
            .execution_options(synchronize_session=False)
        )
        if rotate:
            _rotate(db, user, row, now, device)
        freshness.private(db)  # a session's last visit shows on no public page

    # Before the view's own transaction, and never failing the page: forum/db.py.
    write_apart(db_session(), record, what="the session's visit")


def _rotate(
    db: Session, user: User, row: AuthSession, now: datetime, device: dict[str, str]
) -> None:
    """Exchange a remember cookie's token for a new one (the old one lives on for the grace).
    The conditional UPDATE lets exactly one of several requests racing with it win."""
    won = db.execute(
        update(AuthSession)
        .where(AuthSession.token_hash == row.token_hash, AuthSession.rotated_at.is_(None))
        .values(rotated_at=now)
        .execution_options(synchronize_session=False)
    )
    if won.rowcount != 1:  # type: ignore[attr-defined]
        return
    token = secrets.token_urlsafe(32)
    db.execute(
        insert(AuthSession).values(
            token_hash=_digest(token),
            user_id=user.id,
            created_at=row.created_at,
            remember=True,
            last_seen_at=now,
            rotated_at=None,
            **device,
        )
    )
    db.execute(
        delete(AuthSession).where(_dead(user.id, now)).execution_options(synchronize_session=False)
    )
    user.session_token = token
    session["_user_id"] = token
    session["_remember"] = "set"  # Flask-Login writes the new remember cookie


def _private_for_members(response: Response) -> Response:
    # The objects behind Werkzeug's proxies: reading an attribute through a LocalProxy fails
    # a lookup before it reaches __getattr__, ten times a plain read, and this runs on every
    # response, cache hits included.
    endpoint = request._get_current_object().endpoint  # type: ignore[attr-defined]
    if endpoint not in NO_VIEWER and current_user._get_current_object().is_authenticated:
        response.headers["Cache-Control"] = "private, no-store"
    return response


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    # The server ends idle sessions; the cookie only has to outlive the longest allowed one.
    app.config["REMEMBER_COOKIE_DURATION"] = timedelta(days=app.config["SESSION_MAX_DAYS"])
    app.before_request(_keep_session_fresh)
    app.after_request(_private_for_members)
