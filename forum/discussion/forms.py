"""Posting forms: a new thread, a reply, an edit. Text fields strip control characters before
validation (forum/platform/formfields.py); the account forms are in forum/accounts/forms.py."""

from __future__ import annotations

from collections.abc import Sequence

from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField

# types-WTForms predates SelectChoice (WTForms 3.3 deprecates tuple choices in its favour).
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]
from wtforms.validators import DataRequired, Length

from forum.access.spoilers import EpisodeInfo
from forum.discussion.episode_codes import parse_code

# EmptyForm is re-exported: forum/views/threads.py imports it from here.
from forum.platform.formfields import EmptyForm, TextAreaTextField, TextField, _clean, _clean_body

__all__ = [
    "BODY_LENGTH",
    "TITLE_LENGTH",
    "EditPostForm",
    "EmptyForm",
    "ReplyForm",
    "ThreadForm",
    "chosen_episode",
    "offer_episodes",
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
    # Option values are episode codes ("S1E6"); "" for none. Choices come from the board's
    # episodes (offer_episodes); the value is checked by chosen_episode.
    episode = SelectField("Episode", choices=[SelectChoice("", "")], validate_choice=False)
    is_news = BooleanField("This thread is about renewal or cancellation news")


class ReplyForm(FlaskForm):
    body = _body_field("Your reply")
    episode = SelectField("Discusses up to", choices=[SelectChoice("", "")], validate_choice=False)


def offer_episodes(
    field: SelectField, episodes: Sequence[EpisodeInfo], none_label: str, spoiler_limit: int
) -> None:
    """The board's episodes as the select's options, after `none_label` for "". Episodes
    beyond the viewer's `spoiler_limit` are offered by code only: their titles may spoil."""
    field.choices = [SelectChoice("", none_label)] + [
        SelectChoice(
            e.code,
            f"{e.code} · {e.title}" if e.key <= spoiler_limit else e.code,
            optgroup=f"Season {e.key // 1000}",
        )
        for e in episodes
    ]


def chosen_episode(field: SelectField, episodes: Sequence[EpisodeInfo]) -> int | None:
    """The key of the episode picked, None for none; a value that is no episode of the board
    puts a message under the field (check `field.errors`) and gives None."""
    value = (field.data or "").strip()
    if not value:
        return None
    key = parse_code(value)
    if key is None or key not in {e.key for e in episodes}:
        field.errors = [*field.errors, "Pick one of this show's episodes (or none)."]
        return None
    return key


class EditPostForm(FlaskForm):
    body = _body_field("Post")
