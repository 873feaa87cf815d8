"""Posting forms: a new thread, a reply, an edit. Text fields strip control characters before
validation (forum/platform/formfields.py); the account forms are in forum/accounts/forms.py."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms.validators import DataRequired, Length

# EmptyForm is re-exported: forum/views/threads.py imports it from here.
from forum.platform.formfields import EmptyForm, TextAreaTextField, TextField, _clean, _clean_body

__all__ = [
    "BODY_LENGTH",
    "TITLE_LENGTH",
    "EditPostForm",
    "EmptyForm",
    "ReplyForm",
    "ThreadForm",
]

TITLE_LENGTH = (3, 150)
BODY_LENGTH = (1, 50_000)


def _body_field(label: str = "Message") -> TextAreaTextField:
    return TextAreaTextField(
        label,
        [
            DataRequired("Write something first."),
            Length(*BODY_LENGTH, message="Posts can be up to 50,000 characters long."),
        ],
        filters=[_clean_body],
        description="Markdown works: **bold**, _italic_, > quotes, `code`, lists, links, tables.",
    )


class ThreadForm(FlaskForm):
    title = TextField(
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
