"""Forms of the episode pages: a fan's watch progress and spoiler settings, an admin's episode,
a moderator's "this thread discusses" (forum/views/episodes.py). Text fields strip control
characters before validation (forum/platform/formfields.py).

Several of these post from pages whose views don't build them (the board page, a thread's
moderator tools, /settings): those partials write their inputs out with csrf_token(), and
only the POST view builds the form, to validate what came."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, IntegerField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from forum.discussion.episode_codes import MAX_NUMBER, MAX_SEASON
from forum.platform.formfields import HiddenTextField, TextField, _clean

EPISODE_TITLE_LENGTH = 200  # models.Episode.title
REASON_LENGTH = 500  # as the moderator forms' reasons (forum/staff/mod_forms.py)


class ProgressForm(FlaskForm):
    """`watched`: an episode code of the board ("S1E6"), "none" or "all"; which one is the use
    case's question (forum/discussion/watching.py), since the board's episodes are data."""

    watched = TextField("Watched up to", [DataRequired("Choose an episode.")], filters=[_clean])
    # "1": only ever move progress forward (the "I've watched this" button of an episode thread).
    forward = HiddenTextField(filters=[_clean])
    next = HiddenTextField(filters=[_clean])


class SpoilerSettingsForm(FlaskForm):
    sees_all_spoilers = BooleanField("Show me everything: no spoiler protection")
    hides_show_news = BooleanField("Hide renewal and cancellation news until I reveal it")


class EpisodeForm(FlaskForm):
    """An admin adds an episode, or changes the one with this season and number."""

    season = IntegerField(
        "Season",
        [
            InputRequired("Give the season's number."),
            NumberRange(1, MAX_SEASON, f"Seasons are numbered 1 to {MAX_SEASON}."),
        ],
    )
    number = IntegerField(
        "Episode",
        [
            InputRequired("Give the episode's number in its season."),
            NumberRange(1, MAX_NUMBER, f"Episodes are numbered 1 to {MAX_NUMBER}."),
        ],
    )
    title = TextField(
        "Title",
        [
            DataRequired("Give the episode a title."),
            Length(
                max=EPISODE_TITLE_LENGTH,
                message=f"Titles are up to {EPISODE_TITLE_LENGTH} characters long.",
            ),
        ],
        filters=[_clean],
    )
    aired = DateField(
        "Air date",
        [Optional()],
        description="Leave it empty if nobody knows yet; a future date means not aired yet.",
    )


class ThreadEpisodeForm(FlaskForm):
    """A moderator ties a thread to one of its board's episodes (`episode` empty: none) and
    marks it as show news or not."""

    episode = TextField("Episode", filters=[_clean])
    is_news = BooleanField("Renewal or cancellation news")
    reason = TextField(
        "Reason",
        [
            Optional(),
            Length(max=REASON_LENGTH, message=f"Keep it under {REASON_LENGTH} characters."),
        ],
        filters=[_clean],
    )
