"""WTForms forms (Flask-WTF adds the CSRF token). Every text field strips control characters
before validation, so NUL bytes and bidi overrides are never stored."""

from __future__ import annotations

import unicodedata
from typing import Any

from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, PasswordField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, EqualTo, Length, ValidationError

from forum.platform.text import USERNAME_PATTERN, strip_control

TITLE_LENGTH = (3, 150)
BODY_LENGTH = (1, 50_000)
PASSWORD_LENGTH = (8, 256)

def _clean(value: Any) -> Any:
    return strip_control(value).strip() if isinstance(value, str) else value


def _clean_body(value: Any) -> Any:
    # Leading spaces are Markdown (indented code), so only the ends' blank lines go.
    return strip_control(value).strip("\n").rstrip() if isinstance(value, str) else value


def _nfkc(value: Any) -> Any:
    return unicodedata.normalize("NFKC", value) if isinstance(value, str) else value


def _username_chars(_form: Any, field: Any) -> None:
    raw = field.raw_data[0] if field.raw_data else ""
    if raw != strip_control(raw) or not USERNAME_PATTERN.match(field.data or ""):
        raise ValidationError(
            "Use 3 to 30 letters, digits, underscores or hyphens, with no spaces."
        )


def _email_field(label: str, required: str) -> StringField:
    return StringField(
        label,
        [DataRequired(required),
         Email("That doesn't look like an email.", check_deliverability=False)],
        filters=[_clean],
    )


class LoginForm(FlaskForm):
    username = StringField("Username", [DataRequired("Enter your username.")], filters=[_clean])
    password = PasswordField("Password", [DataRequired("Enter your password.")])
    remember = BooleanField("Remember me")
    next = HiddenField()


class RegisterForm(FlaskForm):
    username = StringField(
        "Username",
        [DataRequired("Choose a username."), _username_chars],
        filters=[_nfkc, lambda v: v.strip() if isinstance(v, str) else v],
        description="3 to 30 letters, digits, _ or -. This is how fans will see you.",
    )
    email = _email_field("Email", "Enter your email address.")
    password = PasswordField(
        "Password",
        [DataRequired("Choose a password."), Length(*PASSWORD_LENGTH,
                                                    "Use at least 8 characters.")],
    )
    confirm = PasswordField(
        "Confirm password", [EqualTo("password", "The two passwords don't match.")]
    )
    # A honeypot: hidden from people by CSS, filled in by bots that fill in everything.
    website = StringField("Leave this field empty")


def _body_field(label: str = "Message") -> TextAreaField:
    return TextAreaField(
        label,
        [
            DataRequired("Write something first."),
            Length(*BODY_LENGTH, message="Posts can be up to 50,000 characters long."),
        ],
        filters=[_clean_body],
        description="Markdown works: **bold**, _italic_, > quotes, `code`, lists, links, tables.",
    )


class ThreadForm(FlaskForm):
    title = StringField(
        "Title",
        [
            DataRequired("Give your thread a title."),
            Length(*TITLE_LENGTH, message="Titles are 3 to 150 characters long."),
        ],
        filters=[_clean],
    )
    body = _body_field()


class ReplyForm(FlaskForm):
    body = _body_field("Your reply")


class EditPostForm(FlaskForm):
    body = _body_field("Post")


class ResetPasswordForm(FlaskForm):
    new_password = PasswordField(
        "New password",
        [DataRequired("Choose a new password."),
         Length(*PASSWORD_LENGTH, "Use at least 8 characters.")],
    )
    confirm = PasswordField(
        "Confirm new password", [EqualTo("new_password", "The two passwords don't match.")]
    )


class PasswordChangeForm(ResetPasswordForm):
    current_password = PasswordField(
        "Current password", [DataRequired("Enter your current password.")]
    )


class EmailChangeForm(FlaskForm):
    email = _email_field("New email", "Enter an email address.")
    current_password = PasswordField(
        "Current password", [DataRequired("Enter your current password.")]
    )


class ResetRequestForm(FlaskForm):
    email = _email_field("Email", "Enter the email address of your account.")


class DeleteAccountForm(FlaskForm):
    password = PasswordField("Your password", [DataRequired("Enter your password to confirm.")])


class EmptyForm(FlaskForm):
    """CSRF only: for buttons such as log out and delete."""

