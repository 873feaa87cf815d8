"""Logging in and out with revocable sessions.

Each login creates an AuthSession row; the login cookie (and the remember-me cookie) carry its
random token and the table keeps only the token's SHA-256. Logging out deletes the row, so a
copied cookie stops working; changing or resetting the password deletes the user's other rows.
"""

from __future__ import annotations

import hashlib
import secrets

from flask import Flask, session
from flask_login import LoginManager, login_user, logout_user
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from forum.db import db_session
from forum.models import AuthSession, BoardModerator, Role, User

login_manager = LoginManager()
login_manager.login_view = "accounts.login"
login_manager.refresh_view = "accounts.login"
login_manager.login_message = "Log in to continue."
login_manager.needs_refresh_message = "Please log in again to change account settings."
login_manager.login_message_category = "info"
login_manager.needs_refresh_message_category = "info"
login_manager.session_protection = "basic"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@login_manager.user_loader
def load_user(token: str) -> User | None:
    if not token or len(token) > 100:
        return None
    db = db_session()
    user = db.scalar(
        select(User).join(AuthSession, AuthSession.user_id == User.id)
        .where(AuthSession.token_hash == _digest(token))
    )
    if user is None:
        return None
    user.session_token = token
    if user.role == Role.MODERATOR:
        # Only moderators pay for this query; members' pages keep their statement budget.
        user.moderated_board_ids = frozenset(
            db.scalars(select(BoardModerator.board_id).where(BoardModerator.user_id == user.id))
        )
    return user


def start_session(db: Session, user: User, remember: bool) -> None:
    """Log `user` in on this device with a fresh session (the old cookie's data is dropped,
    so nothing set before login carries over: no session fixation)."""
    token = secrets.token_urlsafe(32)
    db.add(AuthSession(token_hash=_digest(token), user_id=user.id, remember=remember))
    db.flush()
    user.session_token = token
    session.clear()
    login_user(user, remember=remember)


def end_session(db: Session, user: User) -> None:
    if user.session_token:
        db.execute(delete(AuthSession).where(AuthSession.token_hash == _digest(user.session_token)))
    logout_user()


def end_other_sessions(db: Session, user: User) -> None:
    """Log the user out everywhere except this request's session (if any)."""
    stmt = delete(AuthSession).where(AuthSession.user_id == user.id)
    if user.session_token:
        stmt = stmt.where(AuthSession.token_hash != _digest(user.session_token))
    db.execute(stmt)


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
