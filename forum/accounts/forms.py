"""Account forms: sign-in and sign-up, password reset and change, email change, account deletion
and the second-factor pages. Text fields strip control characters before validation
(forum/platform/formfields.py)."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import BooleanField
from wtforms.validators import DataRequired, Email, EqualTo, Length, ValidationError

from forum.platform.formfields import (
    HiddenTextField,
    PasswordTextField,
    TextField,
    _clean,
    _nfkc,
)
from forum.platform.text import USERNAME_PATTERN, strip_control

PASSWORD_LENGTH = (8, 256)


def _username_chars(_form: Any, field: TextField) -> None:
    raw = field.raw_data[0] if field.raw_data else ""
    if raw != strip_control(raw) or not USERNAME_PATTERN.match(field.data):
        raise ValidationError(
            "Use 3 to 30 letters, digits, underscores or hyphens, with no spaces."
        )


def _email_field(label: str, required: str) -> TextField:
    return TextField(
        label,
        [
            DataRequired(required),
            Email("That doesn't look like an email.", check_deliverability=False),
        ],
        filters=[_clean],
    )


class LoginForm(FlaskForm):
    username = TextField("Username", [DataRequired("Enter your username.")], filters=[_clean])
    password = PasswordTextField("Password", [DataRequired("Enter your password.")])
    remember = BooleanField("Remember me")
    next = HiddenTextField()


class RegisterForm(FlaskForm):
    username = TextField(
        "Username",
        [DataRequired("Choose a username."), _username_chars],
        filters=[_nfkc, lambda v: v.strip() if isinstance(v, str) else v],
        description="3 to 30 letters, digits, _ or -. This is how fans will see you.",
    )
    email = _email_field("Email", "Enter your email address.")
    password = PasswordTextField(
        "Password",
        [
            DataRequired("Choose a password."),
            Length(*PASSWORD_LENGTH, "Use at least 8 characters."),
        ],
    )
    confirm = PasswordTextField(
        "Confirm password", [EqualTo("password", "The two passwords don't match.")]
    )
    # A honeypot: hidden from people by CSS, filled in by bots that fill in everything.
    website = TextField("Leave this field empty")


class ResetPasswordForm(FlaskForm):
    new_password = PasswordTextField(
        "New password",
        [
            DataRequired("Choose a new password."),
            Length(*PASSWORD_LENGTH, "Use at least 8 characters."),
        ],
    )
    confirm = PasswordTextField(
        "Confirm new password", [EqualTo("new_password", "The two passwords don't match.")]
    )


class PasswordChangeForm(ResetPasswordForm):
    current_password = PasswordTextField(
        "Current password", [DataRequired("Enter your current password.")]
    )


class EmailChangeForm(FlaskForm):
    email = _email_field("New email", "Enter an email address.")
    current_password = PasswordTextField(
        "Current password", [DataRequired("Enter your current password.")]
    )


class ResetRequestForm(FlaskForm):
    email = _email_field("Email", "Enter the email address of your account.")


class DeleteAccountForm(FlaskForm):
    password = PasswordTextField("Your password", [DataRequired("Enter your password to confirm.")])


# ------------------------------------------------------------------------ second factor


class SecondFactorForm(FlaskForm):
    code = TextField(
        "Code",
        [
            DataRequired("Enter the code from your app, or a recovery code."),
            Length(max=40, message="That code is too long."),
        ],
        filters=[_clean],
        description="The 6-digit code from your authenticator app, or one of your recovery codes.",
        render_kw={
            "autocomplete": "one-time-code",
            "inputmode": "text",
            "autocapitalize": "off",
            "spellcheck": "false",
        },
    )


class TotpConfirmForm(FlaskForm):
    code = TextField(
        "Code from the app",
        [
            DataRequired("Enter the 6-digit code your app shows."),
            Length(max=10, message="The code has 6 digits."),
        ],
        filters=[_clean],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"},
    )


class PasswordConfirmForm(FlaskForm):
    password = PasswordTextField(
        "Your password",
        [DataRequired("Enter your password.")],
        render_kw={"autocomplete": "current-password"},
    )
