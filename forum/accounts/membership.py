"""Account rules: registration, authentication and credential changes. Never commits."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from forum.accounts.auth import end_other_sessions
from forum.accounts.passwords import hash_password, needs_rehash, verify_password
from forum.accounts.usernames import username_problem, username_skeleton
from forum.models import ModAction, Role, User, utcnow
from forum.platform import freshness
from forum.platform.text import identity_key


@dataclass(frozen=True)
class AccountConflict(Exception):
    """A username or email is already taken; `field` names the form field to blame."""

    field: str
    message: str


def find_by_username(session: Session, username: str) -> User | None:
    return session.scalar(select(User).where(User.username_key == identity_key(username)))


def ensure_available(
    session: Session, username: str | None, email: str | None, exclude: User | None = None
) -> None:
    if username is not None:
        if problem := username_problem(username):
            raise AccountConflict("username", problem)
        taken = find_by_username(session, username)
        if taken is not None and taken is not exclude:
            raise AccountConflict("username", "That username is taken.")
        look_alike = session.scalar(
            select(User).where(User.username_skeleton == username_skeleton(username)).limit(1)
        )
        if look_alike is not None and look_alike is not exclude:
            raise AccountConflict(
                "username",
                "That username looks too much like an existing "
                "member's name: please choose another.",
            )
    if email is not None:
        taken = session.scalar(select(User).where(User.email_key == identity_key(email)))
        if taken is not None and taken is not exclude:
            raise AccountConflict("email", "An account with that email already exists.")


def create_user(
    session: Session,
    username: str,
    email: str,
    password: str | None = None,
    *,
    role: Role = Role.MEMBER,
    password_hash: str | None = None,
    verified: bool = True,
    trusted: bool = False,
) -> User:
    """Add a user; raises AccountConflict when the name or email is taken (look-alikes too).
    `verified` marks the email as confirmed; `trusted` skips the new-member limits."""
    ensure_available(session, username, email)
    user = User(
        username=username,
        username_key=identity_key(username),
        username_skeleton=username_skeleton(username),
        email=email,
        email_key=identity_key(email),
        password_hash=password_hash or hash_password(password or ""),
        role=role.value,
        email_verified_at=utcnow() if verified else None,
        is_trusted=trusted,
    )
    session.add(user)
    session.flush()
    freshness.private(session)  # a new account shows on no page until it posts
    return user


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The user when the password matches; None otherwise, in the same time whether or not
    the username exists."""
    user = find_by_username(session, username)
    if not verify_password(user.password_hash if user else None, password):
        return None
    return user


def upgraded_hash(user: User, password: str) -> str | None:
    """A new hash of the (just verified) password when the stored one was made with weaker
    settings than today's; None when it is current. The caller stores it."""
    return hash_password(password) if needs_rehash(user.password_hash) else None


def change_password(session: Session, user: User, new_password: str) -> None:
    """Set a new password and end every other session of the user."""
    user.password_hash = hash_password(new_password)
    end_other_sessions(session, user)
    freshness.private(session)


def change_email(session: Session, user: User, new_email: str, verified: bool) -> None:
    ensure_available(session, None, new_email, exclude=user)
    user.email = new_email
    user.email_key = identity_key(new_email)
    user.email_verified_at = utcnow() if verified else None
    freshness.private(session)  # addresses show on no public page


def find_by_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email_key == identity_key(email)))


def mark_verified(session: Session, user: User) -> None:
    if user.email_verified_at is None:
        user.email_verified_at = utcnow()
        freshness.private(session)


def delete_account(session: Session, user: User) -> None:
    """Remove the account. Posts and threads stay, shown as by "deleted user" (their author
    columns are set to NULL by the foreign keys); the profile, email and hash are gone."""
    user_id = user.id
    # The moderation log keeps its rows but stops naming the person.
    session.execute(
        update(ModAction)
        .where(ModAction.target_user_id == user_id)
        .values(target_label="deleted user")
    )
    session.expunge(user)
    session.execute(delete(User).where(User.id == user_id))
    # Every page that named them (threads, boards' latest posts, the log) now says "deleted user".
    freshness.changed(session, site=True)
