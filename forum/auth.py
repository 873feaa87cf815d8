"""Flask-Login wiring: the login cookie carries `<user id>.<session version>`, so changing the
password (which bumps the version) ends every other session and revokes remember-me cookies."""

from __future__ import annotations

from flask import Flask
from flask_login import LoginManager
from sqlalchemy import select

from forum.db import db_session
from forum.models import BoardModerator, Role, User

login_manager = LoginManager()
login_manager.login_view = "accounts.login"
login_manager.login_message = "Log in to continue."
login_manager.login_message_category = "info"
# Regenerates the session id-bound data at login; "strong" would log out on IP changes.
login_manager.session_protection = "basic"


@login_manager.user_loader
def load_user(cookie_id: str) -> User | None:
    user_id, _, version = cookie_id.partition(".")
    if not user_id.isdigit() or not version.isdigit():
        return None
    session = db_session()
    user = session.scalar(
        select(User).where(User.id == int(user_id), User.session_version == int(version))
    )
    if user is not None and user.role == Role.MODERATOR:
        # Only moderators pay for this query; members' pages keep their statement budget.
        user.moderated_board_ids = frozenset(
            session.scalars(
                select(BoardModerator.board_id).where(BoardModerator.user_id == user.id)
            )
        )
    return user


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
