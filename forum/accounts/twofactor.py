"""Second factors besides passkeys: an authenticator app (TOTP) and single-use recovery codes.

TOTP codes are accepted for the current 30-second step and one step either side (clock drift),
and only for a step newer than the last one accepted: the row's `last_step` moves forward in a
conditional UPDATE, so a code cannot be used twice, even by two requests racing each other.

Recovery codes are random, shown once when made, and stored as SHA-256 (a slow hash buys
nothing for 50 random bits behind a rate limit). Spending one is a conditional UPDATE too; the
view logs it and mails the member, so a stolen code used by someone else does not go unseen.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import time

import pyotp
import segno
from sqlalchemy import delete, exists, func, insert, or_, select, update
from sqlalchemy.orm import Session

from forum.db import rows_matched
from forum.models import Passkey, RecoveryCode, TotpSecret, User, utcnow
from forum.platform import mail

log = logging.getLogger(__name__)

RECOVERY_CODE_COUNT = 10
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i to misread
STEP_SECONDS = 30


# ------------------------------------------------------------------------------ who has what


def has_second_factor(db: Session, user: User) -> bool:
    """Whether the member has an enabled authenticator app or a passkey (one query)."""
    return bool(
        db.scalar(
            select(
                or_(
                    exists().where(
                        TotpSecret.user_id == user.id, TotpSecret.enabled_at.is_not(None)
                    ),
                    exists().where(Passkey.user_id == user.id),
                )
            )
        )
    )


def totp_row(db: Session, user: User) -> TotpSecret | None:
    return db.get(TotpSecret, user.id)


def recovery_codes_left(db: Session, user: User) -> int:
    return (
        db.scalar(
            select(func.count())
            .select_from(RecoveryCode)
            .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
        )
        or 0
    )


# ------------------------------------------------------------------------------ TOTP


def start_totp(db: Session, user: User) -> TotpSecret:
    """A fresh secret, not yet enabled (a first correct code enables it). Replaces an earlier
    unconfirmed one; an enabled one is left alone."""
    row = totp_row(db, user)
    if row is not None and row.enabled_at is not None:
        return row
    if row is None:
        row = TotpSecret(user_id=user.id, secret=pyotp.random_base32(), last_step=0)
        db.add(row)
    else:
        row.secret = pyotp.random_base32()
    db.flush()
    return row


def provisioning_uri(row: TotpSecret, user: User, issuer: str) -> str:
    return pyotp.TOTP(row.secret).provisioning_uri(name=user.username, issuer_name=issuer)


def qr_svg(uri: str) -> str:
    """The URI as an inline SVG QR code, drawn here: the secret never leaves the server."""
    return segno.make(uri, error="m").svg_inline(scale=4, border=2, dark="#000", light="#fff")


def _matching_step(secret: str, code: str, now: float) -> int | None:
    code = "".join(code.split())
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    current = int(now) // STEP_SECONDS
    for step in (current, current - 1, current + 1):
        if secrets.compare_digest(totp.at(step * STEP_SECONDS), code):
            return step
    return None


def _spend_step(db: Session, row: TotpSecret, code: str, now: float | None) -> bool:
    step = _matching_step(row.secret, code, time.time() if now is None else now)
    if step is None:
        return False
    won = db.execute(
        update(TotpSecret)
        .where(TotpSecret.user_id == row.user_id, TotpSecret.last_step < step)
        .values(last_step=step)
        .execution_options(synchronize_session=False)
    )
    if rows_matched(won) != 1:
        return False  # this code (or a later one) was already used
    row.last_step = step
    return True


def enable_totp(db: Session, user: User, code: str, now: float | None = None) -> bool:
    """Enable the pending secret when `code` is right for it."""
    row = totp_row(db, user)
    if row is None or row.enabled_at is not None or not _spend_step(db, row, code, now):
        return False
    row.enabled_at = utcnow()
    return True


def verify_totp(db: Session, user: User, code: str, now: float | None = None) -> bool:
    row = totp_row(db, user)
    if row is None or row.enabled_at is None:
        return False
    return _spend_step(db, row, code, now)


def disable_totp(db: Session, user: User) -> None:
    db.execute(delete(TotpSecret).where(TotpSecret.user_id == user.id))


# ------------------------------------------------------------------------------ recovery codes


def _normalise(code: str) -> str:
    return "".join(ch for ch in code.lower() if ch.isalnum())


def _hash(code: str) -> str:
    return hashlib.sha256(_normalise(code).encode()).hexdigest()


def new_recovery_codes(db: Session, user: User) -> list[str]:
    """Replace the member's recovery codes with new ones; the only time they are readable."""
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(10))
        codes.append(f"{raw[:5]}-{raw[5:]}")
    db.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    db.execute(
        insert(RecoveryCode), [{"user_id": user.id, "code_hash": _hash(code)} for code in codes]
    )
    return codes


def use_recovery_code(db: Session, user: User, code: str) -> bool:
    """Spend one of the member's unused codes; False when it isn't one."""
    if not 8 <= len(_normalise(code)) <= 20:
        return False
    spent = db.execute(
        update(RecoveryCode)
        .where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.used_at.is_(None),
            RecoveryCode.code_hash == _hash(code),
        )
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return rows_matched(spent) == 1


def remove_recovery_codes(db: Session, user: User) -> None:
    db.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))


def note_recovery_code_used(user: User, left: int, address: str) -> None:
    """Log the use and mail the member. Call after the commit."""
    log.warning("recovery code used: user_id=%s left=%s ip=%s", user.id, left, address)
    mail.send(
        mail.Mail(
            to=user.email,
            subject=f"A recovery code was used to sign in to your {mail.site_name()} account",
            body=f"Hi {user.username},\n\nSomeone signed in to your account just now with one "
            f"of your recovery codes, from the address {address or 'unknown'}. You have "
            f"{left} unused code{'s' if left != 1 else ''} left.\n\nIf it was you, set up "
            "your lost device again and make new recovery codes in your security settings. "
            "If it wasn't you, change your password now: someone has your password and one "
            "of your codes.\n",
        )
    )
