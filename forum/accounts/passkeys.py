"""Passkeys (WebAuthn) through the `webauthn` library: registration and sign-in ceremonies.

The relying party is the site's public address (FORUM_PUBLIC_URL): its host name is the RP ID
and its scheme://host[:port] the only origin accepted, so an assertion made for a look-alike
site is refused. WebAuthn has no RP ID for an IP address, so passkeys are off while the public
address is one (the development default http://127.0.0.1:5000; use http://localhost:5000).

Challenges live in `webauthn_challenges`, not in the cookie: verifying deletes the row in a
conditional DELETE, so each challenge is answered at most once, and only by the browser session
that asked (`session_key`, a random value in that session) within CHALLENGE_LIFETIME. The sign
count must grow (when the authenticator keeps one) and moves forward in a conditional UPDATE.
"""

from __future__ import annotations

import ipaddress
import json
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import (
    base64url_to_bytes,
    bytes_to_base64url,
    parse_authentication_credential_json,
    parse_client_data_json,
    parse_registration_credential_json,
)
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from forum.db import rows_matched
from forum.models import Passkey, User, WebAuthnChallenge, utcnow
from forum.platform.text import strip_control

CHALLENGE_LIFETIME = timedelta(minutes=5)
MAX_PASSKEYS = 20
NAME_LENGTH = 60

REGISTER = "register"
SIGN_IN = "sign-in"
SECOND_FACTOR = "second-factor"


class PasskeyError(Exception):
    """The ceremony failed; the message is fit to show."""


@dataclass(frozen=True)
class RelyingParty:
    id: str
    origin: str
    name: str


def relying_party() -> RelyingParty | None:
    """The RP from FORUM_PUBLIC_URL, or None when its host is an IP address."""
    parts = urlsplit(current_app.config["PUBLIC_URL"])
    host = (parts.hostname or "").lower()
    try:
        ipaddress.ip_address(host)
    except ValueError:
        if host:
            return RelyingParty(
                id=host,
                origin=f"{parts.scheme}://{parts.netloc}".lower(),
                name=current_app.config["SITE_NAME"],
            )
    return None


def _rp() -> RelyingParty:
    rp = relying_party()
    if rp is None:
        raise PasskeyError("Passkeys need the site to be served under a host name.")
    return rp


def user_passkeys(db: Session, user: User) -> list[Passkey]:
    return list(
        db.scalars(
            select(Passkey)
            .where(Passkey.user_id == user.id)
            .order_by(Passkey.created_at, Passkey.id)
        )
    )


def _user_handle(user: User) -> bytes:
    return str(user.id).encode()


def _remember_challenge(
    db: Session, challenge: bytes, session_key: str, purpose: str, user: User | None
) -> None:
    now = utcnow()
    # Abandoned ceremonies leave rows behind; each new one sweeps the expired.
    db.execute(
        delete(WebAuthnChallenge)
        .where(WebAuthnChallenge.created_at < now - CHALLENGE_LIFETIME)
        .execution_options(synchronize_session=False)
    )
    db.add(
        WebAuthnChallenge(
            challenge=bytes_to_base64url(challenge),
            session_key=session_key,
            purpose=purpose,
            user_id=user.id if user else None,
            created_at=now,
        )
    )
    db.flush()


def _take_challenge(
    db: Session, challenge: str, session_key: str, purpose: str, user: User | None
) -> None:
    """Delete the challenge the browser answered; refuse one that isn't ours, live and unused."""
    stmt = delete(WebAuthnChallenge).where(
        WebAuthnChallenge.challenge == challenge,
        WebAuthnChallenge.session_key == session_key,
        WebAuthnChallenge.purpose == purpose,
        WebAuthnChallenge.created_at > utcnow() - CHALLENGE_LIFETIME,
    )
    if user is not None:
        stmt = stmt.where(WebAuthnChallenge.user_id == user.id)
    if rows_matched(db.execute(stmt.execution_options(synchronize_session=False))) != 1:
        raise PasskeyError("That passkey request expired or was already used. Try again.")


# ------------------------------------------------------------------------------ registration


def registration_options(db: Session, user: User, session_key: str) -> str:
    rp = _rp()
    challenge = secrets.token_bytes(32)
    options = generate_registration_options(
        rp_id=rp.id,
        rp_name=rp.name,
        user_id=_user_handle(user),
        user_name=user.username,
        user_display_name=user.username,
        challenge=challenge,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED,
            user_verification=UserVerificationRequirement.PREFERRED,
        ),
        exclude_credentials=[
            PublicKeyCredentialDescriptor(id=base64url_to_bytes(p.credential_id))
            for p in user_passkeys(db, user)
        ],
    )
    _remember_challenge(db, challenge, session_key, REGISTER, user)
    return options_to_json(options)


def finish_registration(
    db: Session, user: User, session_key: str, credential: Any, name: str
) -> Passkey:
    rp = _rp()
    try:
        parsed = parse_registration_credential_json(credential)
        challenge = parse_client_data_json(parsed.response.client_data_json).challenge
    except (WebAuthnException, ValueError, TypeError, KeyError) as error:
        raise PasskeyError("The browser's answer was not a passkey.") from error
    _take_challenge(db, bytes_to_base64url(challenge), session_key, REGISTER, user)
    try:
        verified = verify_registration_response(
            credential=parsed,
            expected_challenge=challenge,
            expected_rp_id=rp.id,
            expected_origin=rp.origin,
        )
    except WebAuthnException as error:
        raise PasskeyError("That passkey could not be verified for this site.") from error
    credential_id = bytes_to_base64url(verified.credential_id)
    if db.scalar(select(Passkey.id).where(Passkey.credential_id == credential_id)):
        raise PasskeyError("That passkey is already registered.")
    if len(user_passkeys(db, user)) >= MAX_PASSKEYS:
        raise PasskeyError(f"You can keep up to {MAX_PASSKEYS} passkeys.")
    label = " ".join(strip_control(name).split())[:NAME_LENGTH] or "Passkey"
    passkey = Passkey(
        user_id=user.id,
        credential_id=credential_id,
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
        name=label,
        created_at=utcnow(),
    )
    db.add(passkey)
    db.flush()
    return passkey


def remove(db: Session, user: User, passkey_id: int) -> bool:
    result = db.execute(delete(Passkey).where(Passkey.id == passkey_id, Passkey.user_id == user.id))
    return bool(rows_matched(result))


# ------------------------------------------------------------------------------ authentication


def authentication_options(db: Session, session_key: str, user: User | None = None) -> str:
    """Options for signing in: any passkey of this site (usernameless) when `user` is None,
    else one of `user`'s (as a second factor after their password)."""
    rp = _rp()
    challenge = secrets.token_bytes(32)
    allowed = (
        [
            PublicKeyCredentialDescriptor(id=base64url_to_bytes(p.credential_id))
            for p in user_passkeys(db, user)
        ]
        if user is not None
        else []
    )
    options = generate_authentication_options(
        rp_id=rp.id,
        challenge=challenge,
        allow_credentials=allowed,
        user_verification=(
            UserVerificationRequirement.REQUIRED
            if user is None
            else UserVerificationRequirement.PREFERRED
        ),
    )
    _remember_challenge(
        db, challenge, session_key, SIGN_IN if user is None else SECOND_FACTOR, user
    )
    return options_to_json(options)


def finish_authentication(
    db: Session, session_key: str, credential: Any, user: User | None = None
) -> User:
    """The member the assertion proves, or PasskeyError. Without `user` the passkey alone signs
    in, so the authenticator must have verified the person (PIN, fingerprint)."""
    rp = _rp()
    try:
        parsed = parse_authentication_credential_json(credential)
        challenge = parse_client_data_json(parsed.response.client_data_json).challenge
    except (WebAuthnException, ValueError, TypeError, KeyError) as error:
        raise PasskeyError("The browser's answer was not a passkey.") from error
    _take_challenge(
        db,
        bytes_to_base64url(challenge),
        session_key,
        SIGN_IN if user is None else SECOND_FACTOR,
        user,
    )
    stmt = (
        select(Passkey, User)
        .join(User, User.id == Passkey.user_id)
        .where(Passkey.credential_id == bytes_to_base64url(parsed.raw_id))
    )
    if user is not None:
        stmt = stmt.where(Passkey.user_id == user.id)
    found = db.execute(stmt).first()
    if found is None:
        raise PasskeyError("That passkey isn't registered here.")
    passkey, owner = found
    handle = parsed.response.user_handle
    if handle is not None and handle != _user_handle(owner):
        raise PasskeyError("That passkey isn't registered here.")
    try:
        verified = verify_authentication_response(
            credential=parsed,
            expected_challenge=challenge,
            expected_rp_id=rp.id,
            expected_origin=rp.origin,
            credential_public_key=passkey.public_key,
            credential_current_sign_count=passkey.sign_count,
            require_user_verification=user is None,
        )
    except WebAuthnException as error:
        raise PasskeyError("That passkey could not be verified for this site.") from error
    # A racing request with the same count loses here, as a clone would.
    moved = db.execute(
        update(Passkey)
        .where(Passkey.id == passkey.id, Passkey.sign_count == passkey.sign_count)
        .values(sign_count=verified.new_sign_count, last_used_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if rows_matched(moved) != 1:
        raise PasskeyError("That passkey could not be verified for this site.")
    return owner


def parse_json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as error:
        raise PasskeyError("The browser's answer was not a passkey.") from error
