"""Posting forms: a new thread, a reply, an edit. Text fields strip control characters before
validation (forum/platform/formfields.py); the account forms are in forum/accounts/forms.py."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField

# types-WTForms predates SelectChoice (WTForms 3.3 deprecates tuple choices in its favour).
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]
from wtforms.validators import DataRequired, Length

from forum.access.spoilers import EpisodeInfo, key_among

# EmptyForm is re-exported: forum/views/threads.py imports it from here.
from forum.platform.formfields import EmptyForm, TextAreaTextField, TextField, _clean, _clean_body

__all__ = [
    "BODY_LENGTH",
    "TITLE_LENGTH",
    "EditPostForm",
    "EmptyForm",
    "EpisodeOption",
    "ReplyForm",
    "ThreadForm",
    "chosen_episode",
    "episode_options",
    "offer_episodes",
    "parse_episode",
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
    # The reply's episode ("discusses up to", form field `episode`) is no WTForms field: the
    # form is built on every thread page a member reads, and a SelectField with its options
    # cost half a millisecond there. The view reads it with parse_episode and the template
    # prints episode_options.
    body = _body_field("Your reply")


@dataclass(frozen=True, slots=True)
class EpisodeOption:
    value: str  # an episode code, "" for none
    label: str


def episode_options(
    episodes: Sequence[EpisodeInfo], none_label: str, spoiler_limit: int
) -> list[EpisodeOption]:
    """The board's episodes as a select's options, after `none_label` for "". Episodes beyond
    the viewer's `spoiler_limit` are offered by code only: their titles may spoil."""
    return [EpisodeOption("", none_label)] + [
        EpisodeOption(e.code, f"{e.code} · {e.title}" if e.key <= spoiler_limit else e.code)
        for e in episodes
    ]


def offer_episodes(
    field: SelectField, episodes: Sequence[EpisodeInfo], none_label: str, spoiler_limit: int
) -> None:
    """episode_options as a SelectField's choices (the new-thread form)."""
    field.choices = [
        SelectChoice(option.value, option.label)
        for option in episode_options(episodes, none_label, spoiler_limit)
    ]


EPISODE_REFUSAL = "Pick one of this show's episodes (or none)."


def parse_episode(value: str | None, episodes: Sequence[EpisodeInfo]) -> int | None:
    """The key of the episode code `value` names, None for none (""). Raises ValueError (with
    EPISODE_REFUSAL) for a value that is no episode of the board."""
    if not (value or "").strip():
        return None
    key = key_among(episodes, value)
    if key is None:
        raise ValueError(EPISODE_REFUSAL)
    return key


def chosen_episode(field: SelectField, episodes: Sequence[EpisodeInfo]) -> int | None:
    """parse_episode for a SelectField: a bad value puts the message under the field (check
    `field.errors`) and gives None."""
    try:
        return parse_episode(field.data, episodes)
    except ValueError as refused:
        field.errors = [*field.errors, str(refused)]
        return None


class EditPostForm(FlaskForm):
    body = _body_field("Post")
