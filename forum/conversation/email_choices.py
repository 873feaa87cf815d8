"""What a member has mailed: the form for their choice per notification kind (immediately, in
the daily digest, never), the writes that save it, and the unsubscribe links every
notification mail carries.

An unsubscribe token is signed (itsdangerous, the app's secret key, a salt of its own) and
carries the member's id, what it stops (one kind, "digest" or "all") and a fingerprint of
their email address: an HMAC keyed with the secret key, so whoever holds a token can't test
guessed addresses against it offline (the payload is signed, not encrypted). It has no
expiry: a link in an old mail keeps working, and using it twice
does no harm. It stops working when the member changes their address (a mail that went to the
old address can't change the new owner's settings) or deletes their account.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from flask import current_app
from flask_wtf import FlaskForm
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy.orm import Session
from wtforms import RadioField, ValidationError

from forum.conversation.notification_kinds import (
    EMAIL_DEFAULTS,
    KIND_LABELS,
    EmailChoice,
    email_choice,
)
from forum.models import NotificationKind, User
from forum.platform import freshness

try:  # WTForms 3.3 deprecates (value, label) tuples in favour of SelectChoice
    from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - older WTForms
    SelectChoice = None

CHOICE_LABELS: Mapping[EmailChoice, str] = {
    EmailChoice.IMMEDIATE: "Immediately",
    EmailChoice.DIGEST: "In the daily digest",
    EmailChoice.NEVER: "Never",
}
BAD_CHOICE = "Choose immediately, in the daily digest, or never."

# What an unsubscribe link stops besides one kind.
ALL = "all"  # every notification mail
DIGEST = "digest"  # every kind now mailed in the digest
_SALT = "showboard-unsubscribe"


# ------------------------------------------------------------------------------ the form


def _option(value: str, label: str) -> Any:
    return SelectChoice(value, label) if SelectChoice is not None else (value, label)


class ChoiceField(RadioField):
    """Immediately / digest / never, refusing anything else in words that say what is allowed
    (WTForms' own "Not a valid choice" doesn't)."""

    def pre_validate(self, form: Any) -> None:
        if self.data not in {choice.value for choice in EmailChoice}:
            raise ValidationError(BAD_CHOICE)


class EmailChoicesForm(FlaskForm):
    """One radio group per kind, named by the kind's value (fields added below)."""

    def chosen(self) -> dict[NotificationKind, EmailChoice]:
        return {kind: EmailChoice(self[kind.value].data) for kind in KIND_LABELS}

    def kind_fields(self) -> list[Any]:
        return [self[kind.value] for kind in KIND_LABELS]


for _kind, _label in KIND_LABELS.items():
    setattr(
        EmailChoicesForm,
        _kind.value,
        ChoiceField(
            _label,
            choices=[_option(choice.value, text) for choice, text in CHOICE_LABELS.items()],
            default=EMAIL_DEFAULTS[_kind].value,
        ),
    )


def choices_form(user: User) -> EmailChoicesForm:
    """The form showing the member's current choices; on a POST, what was sent (a kind left
    out of the request keeps its current choice)."""
    return EmailChoicesForm(
        data={kind.value: email_choice(user, kind).value for kind in KIND_LABELS}
    )


# ------------------------------------------------------------------------------ the writes


def save_choices(
    session: Session, user: User, chosen: Mapping[NotificationKind, EmailChoice]
) -> None:
    """Store the member's choice for each kind given (others keep theirs)."""
    choices = dict(user.email_choices or {})
    choices.update({str(kind): choice.value for kind, choice in chosen.items()})
    user.email_choices = choices  # a new dict: the JSON column sees the change
    freshness.private(session)  # shown only on the member's own settings page


def kinds_stopped_by(user: User, scope: str) -> list[NotificationKind]:
    """The kinds an unsubscribe link of `scope` turns to never, in the settings page's order."""
    if scope == ALL:
        return list(KIND_LABELS)
    if scope == DIGEST:
        return [kind for kind in KIND_LABELS if email_choice(user, kind) == EmailChoice.DIGEST]
    return [NotificationKind(scope)]


def unsubscribe(session: Session, user: User, scope: str) -> list[NotificationKind]:
    """Turn the kinds `scope` names to never; which they were."""
    kinds = kinds_stopped_by(user, scope)
    save_choices(session, user, {kind: EmailChoice.NEVER for kind in kinds})
    return kinds


# ------------------------------------------------------------------------------ tokens


@dataclass(frozen=True)
class Unsubscribe:
    user: User
    scope: str  # a NotificationKind value, DIGEST or ALL


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def _fingerprint(user: User) -> str:
    secret = current_app.config["SECRET_KEY"]
    key = secret if isinstance(secret, bytes) else str(secret).encode()
    message = f"{_SALT}\n{user.email_key}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:16]


def _valid_scope(scope: object) -> bool:
    return isinstance(scope, str) and (
        scope in (ALL, DIGEST) or scope in {kind.value for kind in NotificationKind}
    )


def unsubscribe_token(user: User, scope: str) -> str:
    if not _valid_scope(scope):
        raise ValueError(f"nothing to unsubscribe from called {scope!r}")
    return str(_serializer().dumps({"u": user.id, "s": scope, "e": _fingerprint(user)}))


def read_unsubscribe_token(
    token: str, load_user: Callable[[int], User | None]
) -> Unsubscribe | None:
    """What a link stops, for whom; None when it is forged, damaged, or its member is gone or
    has changed their address since."""
    try:
        data = _serializer().loads(token)
    except BadSignature:
        return None
    if not isinstance(data, dict):
        return None
    user_id, scope = data.get("u"), data.get("s")
    if not isinstance(user_id, int) or isinstance(user_id, bool) or not _valid_scope(scope):
        return None
    if not 0 < user_id < 2**31:
        return None
    user = load_user(user_id)
    if user is None or data.get("e") != _fingerprint(user):
        return None
    return Unsubscribe(user, str(scope))


@dataclass(frozen=True)
class UnsubscribeWords:
    """What an unsubscribe link's pages say, for its member now."""

    question: str  # the page's heading: "Stop emails for “Someone mentions you”?"
    already_off: str  # "Emails for “…” are already off." when there is nothing to stop, else ""
    done: str  # after it: "Emails for “…” are off now."
    mailed: list[str]  # the kinds it would stop that are mailed now, their labels
    one_kind: bool = False  # the question names it already: no list


def unsubscribe_words(user: User, scope: str) -> UnsubscribeWords:
    kinds = kinds_stopped_by(user, scope)
    mailed = [KIND_LABELS[kind] for kind in kinds if email_choice(user, kind) != EmailChoice.NEVER]
    if scope == ALL:
        return UnsubscribeWords(
            question="Stop all notification emails?",
            already_off="" if mailed else "All notification emails are already off.",
            done="All notification emails are off now.",
            mailed=mailed,
        )
    if scope == DIGEST:
        return UnsubscribeWords(
            question="Stop the daily digest?",
            already_off="" if mailed else "The daily digest is already off: nothing is in it.",
            done="The daily digest is off now.",
            mailed=mailed,
        )
    label = KIND_LABELS[NotificationKind(scope)]
    return UnsubscribeWords(
        question=f"Stop emails for “{label}”?",
        already_off="" if mailed else f"Emails for “{label}” are already off.",
        done=f"Emails for “{label}” are off now.",
        mailed=mailed,
        one_kind=True,
    )
