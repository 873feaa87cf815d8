"""Shared pieces of the WTForms forms (Flask-WTF adds the CSRF token): text fields whose data is
always a str, the filters that strip control characters before validation (so NUL bytes and
bidi overrides are never stored), and the CSRF-only EmptyForm."""

from __future__ import annotations

import unicodedata
from typing import Any

from flask_wtf import FlaskForm
from wtforms import Field, HiddenField, PasswordField, StringField, TextAreaField

from forum.platform.text import strip_control


def _clean(value: Any) -> Any:
    return strip_control(value).strip() if isinstance(value, str) else value


def _clean_body(value: Any) -> Any:
    # Leading spaces are Markdown (indented code), so only the ends' blank lines go.
    return strip_control(value).strip("\n").rstrip() if isinstance(value, str) else value


def _nfkc(value: Any) -> Any:
    return unicodedata.normalize("NFKC", value) if isinstance(value, str) else value


def add_error(field: Field, message: str) -> None:
    """Report one more error on a field after validation (types-WTForms types errors as a
    read-only Sequence; WTForms itself keeps a list)."""
    field.errors = [*field.errors, message]


class _TextData(Field):
    """Data that is always a str: "" when the field is left out of the request (like an empty
    one, so DataRequired still fails on it) or on a GET."""

    data: str

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("default", "")
        super().__init__(*args, **kwargs)

    def process_formdata(self, valuelist: list[Any]) -> None:
        self.data = str(valuelist[0]) if valuelist else ""


class TextField(_TextData, StringField):
    """A StringField whose data is a str."""

    data: str  # narrower than the stubs' str | None: that is the point


class TextAreaTextField(_TextData, TextAreaField):
    """A TextAreaField whose data is a str."""

    data: str  # narrower than the stubs' str | None: that is the point


class PasswordTextField(_TextData, PasswordField):
    """A PasswordField whose data is a str."""

    data: str  # narrower than the stubs' str | None: that is the point


class HiddenTextField(_TextData, HiddenField):
    """A HiddenField whose data is a str."""

    data: str  # narrower than the stubs' str | None: that is the point


class EmptyForm(FlaskForm):
    """CSRF only: for buttons such as log out and delete."""
