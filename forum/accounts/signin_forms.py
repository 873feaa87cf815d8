"""Forms for the second-factor pages (CSRF through Flask-WTF)."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from forum.platform.text import strip_control


def _clean(value: Any) -> Any:
    return strip_control(value).strip() if isinstance(value, str) else value


class SecondFactorForm(FlaskForm):
    code = StringField(
        "Code", [DataRequired("Enter the code from your app, or a recovery code."),
                 Length(max=40, message="That code is too long.")],
        filters=[_clean],
        description="The 6-digit code from your authenticator app, or one of your recovery "
                    "codes.",
        render_kw={"autocomplete": "one-time-code", "inputmode": "text",
                   "autocapitalize": "off", "spellcheck": "false"})


class TotpConfirmForm(FlaskForm):
    code = StringField(
        "Code from the app", [DataRequired("Enter the 6-digit code your app shows."),
                              Length(max=10, message="The code has 6 digits.")],
        filters=[_clean],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"})


class PasswordConfirmForm(FlaskForm):
    password = PasswordField("Your password", [DataRequired("Enter your password.")],
                             render_kw={"autocomplete": "current-password"})
