"""Signed, expiring tokens for emailed links (itsdangerous).

A password-reset token embeds a fingerprint of the current password hash and email address:
once the password changes, every earlier reset link stops working, which makes each link
single-use, and a link mailed to an old address stops working when the address changes. A
verification token embeds the address it was sent to, so it can't verify a later address.

A sign-up token carries the whole would-be account (name, address, password hash): no row exists
until its link is clicked, so the sign-up form can't tell whether an address has an account. It
is single-use because clicking it creates the account, after which both name and address are
taken. Signed, not encrypted: it goes only to the address it names.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from forum.models import User

RESET_MAX_AGE = 60 * 60  # one hour
VERIFY_MAX_AGE = 7 * 24 * 60 * 60  # one week
SIGNUP_MAX_AGE = 24 * 60 * 60  # one day


@dataclass(frozen=True)
class Signup:
    username: str
    email: str
    password_hash: str


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"showboard-{purpose}")


def _fingerprint(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:16]


def _reset_fingerprint(user: User) -> str:
    return _fingerprint(f"{user.password_hash}\n{user.email_key}")


def reset_token(user: User) -> str:
    return _serializer("reset").dumps({"u": user.id, "p": _reset_fingerprint(user)})


def verify_token(user: User) -> str:
    return _serializer("verify").dumps({"u": user.id, "e": _fingerprint(user.email_key)})


def signup_token(signup: Signup) -> str:
    return _serializer("signup").dumps(
        {"n": signup.username, "e": signup.email, "h": signup.password_hash}
    )


def read_signup_token(token: str) -> Signup | None:
    """The sign-up a link carries; None when it is forged, damaged or older than a day."""
    try:
        data = _serializer("signup").loads(token, max_age=SIGNUP_MAX_AGE)
    except (SignatureExpired, BadSignature):
        return None
    if not isinstance(data, dict):
        return None
    username, email, password_hash = data.get("n"), data.get("e"), data.get("h")
    if not (
        isinstance(username, str)
        and isinstance(email, str)
        and isinstance(password_hash, str)
        and username
        and email
        and password_hash
    ):
        return None
    return Signup(username, email, password_hash)


def read_reset_token(token: str, load_user: Callable[[int], User | None]) -> User | None:
    data = _load("reset", token, RESET_MAX_AGE)
    user = load_user(data["u"]) if data else None
    if user is None or data is None or data.get("p") != _reset_fingerprint(user):
        return None
    return user


def read_verify_token(token: str, load_user: Callable[[int], User | None]) -> User | None:
    data = _load("verify", token, VERIFY_MAX_AGE)
    user = load_user(data["u"]) if data else None
    if user is None or data is None or data.get("e") != _fingerprint(user.email_key):
        return None
    return user


def _load(purpose: str, token: str, max_age: int) -> dict[str, Any] | None:
    try:
        data = _serializer(purpose).loads(token, max_age=max_age)
    except (SignatureExpired, BadSignature):
        return None
    return data if isinstance(data, dict) and isinstance(data.get("u"), int) else None
