"""Forms of the moderator area, the admin area and member reports. Every text field strips
control characters (like forum/platform/formfields.py), so nothing invisible reaches the public log.

Forms that post from another page carry a hidden `next`: the view sends the moderator back
there (through forum.platform.security.safe_next) once the action is done."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    TextAreaField,
)
from wtforms.validators import (
    AnyOf,
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
)
from wtforms.widgets import CheckboxInput, ListWidget

try:
    # types-WTForms lags WTForms 3.3, which added SelectChoice.
    from wtforms import SelectChoice  # type: ignore[attr-defined]
except ImportError:  # WTForms < 3.3 only knows (value, label) tuples
    SelectChoice = None

from forum.discussion.forms import TITLE_LENGTH
from forum.models import BoardStatus, ReportReason, Role
from forum.platform.formfields import HiddenTextField, TextAreaTextField, TextField, add_error
from forum.platform.text import strip_control
from forum.staff.showfile import SLUG, TEXT_FIELDS

REASON_LENGTH = 500
FACT_LENGTH = 300
MAX_SUSPENSION_DAYS = 3650


def choice(value: Any, label: str) -> Any:
    """One option of a select, radio or checkbox group. WTForms 3.3 deprecates (value, label)
    tuples (they go in 3.4) in favour of SelectChoice; older versions need the tuples."""
    return SelectChoice(value, label) if SelectChoice is not None else (value, label)


def _clean(value: Any) -> Any:
    # A field left out of the request is "", like an empty one: the columns are NOT NULL.
    if value is None:
        return ""
    return strip_control(value).strip() if isinstance(value, str) else value


def _reason(required: bool = False, label: str = "Reason", **options: Any) -> TextField:
    first = (
        DataRequired("Say why: it is shown in the public moderation log.")
        if required
        else Optional()
    )
    return TextField(
        label,
        [first, Length(max=REASON_LENGTH, message=f"Keep it under {REASON_LENGTH} characters.")],
        filters=[_clean],
        description="Shown in the public moderation log.",
        **options,
    )


def first_error(form: FlaskForm) -> str:
    """One readable line for forms posted from other pages, which have no page to show
    errors on: the 400 page says what was wrong."""
    for errors in form.errors.values():
        if errors:
            return str(errors[0])
    return "That form was incomplete."


class ReturningForm(FlaskForm):
    next = HiddenTextField()


# ------------------------------------------------------------------------------ threads, posts

THREAD_ACTIONS = ("lock", "unlock", "pin", "unpin", "restore")


class ThreadActionForm(ReturningForm):
    """Lock, pin and restore share one form; the button pressed is the action."""

    action = HiddenTextField(validators=[AnyOf(THREAD_ACTIONS, message="Unknown action.")])
    reason = _reason()


class HideForm(ReturningForm):
    reason = _reason(required=True)


class ReasonForm(ReturningForm):
    reason = _reason()


class MoveThreadForm(ReturningForm):
    # Any id is accepted here; the view answers 404 for a missing board and 403 for one the
    # moderator doesn't moderate.
    board = SelectField(
        "Move to", coerce=int, validate_choice=False, validators=[InputRequired("Choose a board.")]
    )
    reason = _reason()


class RenameThreadForm(ReturningForm):
    title = TextField(
        "New title",
        [
            DataRequired("Give the thread a title."),
            Length(*TITLE_LENGTH, message="Titles are 3 to 150 characters long."),
        ],
        filters=[_clean],
    )
    reason = _reason()


# ------------------------------------------------------------------------------ reports

REPORT_REASON_LABELS = {
    ReportReason.SPOILER: "Unmarked spoiler",
    ReportReason.HARASSMENT: "Harassment or abuse",
    ReportReason.SPAM: "Spam or advertising",
    ReportReason.OFF_TOPIC: "Off-topic",
    ReportReason.OTHER: "Something else",
}


class ReportForm(FlaskForm):
    reason = RadioField(
        "What's wrong with this post?",
        choices=[choice(reason.value, label) for reason, label in REPORT_REASON_LABELS.items()],
        validators=[InputRequired("Choose a reason.")],
    )
    details = TextAreaTextField(
        "Anything the moderators should know? (optional)",
        [Optional(), Length(max=1000, message="Keep it under 1,000 characters.")],
        filters=[_clean],
    )


REPORT_ACTIONS = ("resolve", "dismiss")


class HandleReportsForm(ReturningForm):
    action = HiddenTextField(validators=[AnyOf(REPORT_ACTIONS, message="Unknown action.")])
    resolution = TextField(
        "Action taken",
        [
            Optional(),
            Length(max=REASON_LENGTH, message=f"Keep it under {REASON_LENGTH} characters."),
        ],
        filters=[_clean],
        description="Shown to the members who reported it and in the moderation log.",
    )

    def validate(self, extra_validators: Any = None) -> bool:
        # Not validate_resolution: Optional() ends the field's chain when it is empty.
        valid: bool = super().validate(extra_validators)
        if valid and self.action.data == "resolve" and not self.resolution.data:
            add_error(self.resolution, "Say what you did about it, so the reporters know.")
            return False
        return valid


# ------------------------------------------------------------------------------ users

SUSPENSION_CHOICES = [
    choice("day", "1 day"),
    choice("week", "1 week"),
    choice("custom", "A number of days"),
    choice("ban", "Ban (no end date)"),
]


def _days(**options: Any) -> IntegerField:
    return IntegerField(
        "Days",
        [
            Optional(),
            NumberRange(1, MAX_SUSPENSION_DAYS, f"Choose 1 to {MAX_SUSPENSION_DAYS:,} days."),
        ],
        description="Only for “A number of days”.",
        **options,
    )


class SuspendForm(ReturningForm):
    duration = RadioField(
        "How long",
        choices=SUSPENSION_CHOICES,
        default="day",
        validators=[InputRequired("Choose how long.")],
    )
    days = _days()
    reason = _reason(required=True)

    def validate(self, extra_validators: Any = None) -> bool:
        # Not validate_days: Optional() ends the field's chain when it is empty.
        valid: bool = super().validate(extra_validators)
        if self.duration.data == "custom" and self.days.data is None and not self.days.errors:
            add_error(self.days, "Enter the number of days.")
            return False
        return valid

    def ends_at(self, now: datetime) -> datetime | None:
        """When the suspension ends; None is a ban."""
        days = {"day": 1, "week": 7, "custom": self.days.data}.get(self.duration.data)
        return None if days is None else now + timedelta(days=days)


BOARD_SUSPENSION_CHOICES = SUSPENSION_CHOICES[:3]  # a board suspension always ends


class BoardSuspendForm(SuspendForm):
    """Bar a member from posting on one board (board moderators' tool; no bans)."""

    # Any id is accepted here; the view answers 404 for a missing board and 403 for one the
    # moderator doesn't moderate.
    # Same names as the site-wide form's fields, other ids: both forms share one page.
    board = SelectField(
        "Board",
        coerce=int,
        validate_choice=False,
        validators=[InputRequired("Choose a board.")],
        id="board-board",
    )
    duration = RadioField(
        "How long",
        choices=BOARD_SUSPENSION_CHOICES,
        default="day",
        validators=[InputRequired("Choose how long.")],
        id="board-duration",
    )
    days = _days(id="board-days")
    reason = _reason(required=True, id="board-reason")


class BoardLiftForm(ReturningForm):
    board = IntegerField(validators=[InputRequired("Choose a board.")])
    reason = _reason()


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class RoleForm(FlaskForm):
    role = RadioField(
        "Role",
        choices=[choice(role.value, role.value.capitalize()) for role in Role],
        validators=[InputRequired("Choose a role.")],
    )
    boards = MultiCheckboxField(
        "Boards they moderate",
        coerce=int,
        description="Only for moderators. None checked: every board.",
    )


# ------------------------------------------------------------------------------ boards


class FactsField(TextAreaField):
    """Board facts as "key: value" lines; the data is a dict once the text parses."""

    # The text as typed until it parses (and on a GET), then the facts.
    data: dict[str, str] | str | None  # type: ignore[assignment]

    def _value(self) -> str:
        if isinstance(self.data, dict):
            return "\n".join(f"{key}: {value}" for key, value in self.data.items())
        return self.data or ""

    def process_formdata(self, valuelist: list[Any]) -> None:
        text = strip_control(valuelist[0]) if valuelist else ""
        self.data = text
        facts: dict[str, str] = {}
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            key, colon, value = line.partition(":")
            if not colon or not key.strip() or not value.strip():
                raise ValueError(f"Line {number}: write each fact as “key: value”.")
            if len(value.strip()) > FACT_LENGTH:
                raise ValueError(f"Line {number}: keep each fact under {FACT_LENGTH} characters.")
            facts[key.strip()] = value.strip()
        self.data = facts


def _text(label: str, name: str, required: bool = False) -> TextField:
    limit = TEXT_FIELDS[name]
    first = DataRequired(f"Enter the {label.lower()}.") if required else Optional()
    return TextField(
        label, [first, Length(max=limit, message=f"Up to {limit} characters.")], filters=[_clean]
    )


class BoardForm(FlaskForm):
    slug = TextField(
        "Address",
        [
            DataRequired("Choose the board's address."),
            Regexp(SLUG, message="Use lowercase letters, digits and hyphens (up to 64)."),
        ],
        filters=[_clean],
        description="The board lives at /b/<address>; it can't change later.",
    )
    name = _text("Name", "name", required=True)
    description = TextAreaTextField(
        "Description",
        [
            Optional(),
            Length(
                max=TEXT_FIELDS["description"],
                message=f"Up to {TEXT_FIELDS['description']:,} characters.",
            ),
        ],
        filters=[_clean],
    )
    network = _text("Network", "network")
    status = SelectField(
        "Status",
        default="",
        choices=[
            choice("", "(none)"),
            *(choice(status.value, status.value.capitalize()) for status in BoardStatus),
        ],
    )
    premiered = IntegerField(
        "Premiered (year)", [Optional(), NumberRange(1900, 2100, "A year from 1900 to 2100.")]
    )
    facts = FactsField(
        "Facts", description="One per line, as “key: value”, e.g. “Creator: Dan Erickson”."
    )

    def board_values(self) -> dict[str, Any]:
        """The editable fields, as forum.staff.moderation.create_board / update_board take them."""
        return {
            "name": self.name.data,
            "description": self.description.data or "",
            "network": self.network.data or "",
            "status": self.status.data or "",
            "premiered": self.premiered.data,
            "facts": self.facts.data if isinstance(self.facts.data, dict) else {},
        }


BOARD_MOVES = ("up", "down")


class BoardOrderForm(FlaskForm):
    direction = HiddenTextField(validators=[AnyOf(BOARD_MOVES, message="Unknown direction.")])


# ------------------------------------------------------------------------------ site


class SettingsForm(FlaskForm):
    site_name = TextField(
        "Site name",
        [DataRequired("Give the site a name."), Length(max=60, message="Up to 60 characters.")],
        filters=[_clean],
    )
    tagline = TextField(
        "Tagline", [Optional(), Length(max=200, message="Up to 200 characters.")], filters=[_clean]
    )
    registration = RadioField(
        "Registration",
        choices=[
            choice("open", "Open: anyone can sign up"),
            choice("closed", "Closed: no new accounts"),
        ],
        validators=[InputRequired("Choose open or closed.")],
    )
    rules_markdown = TextAreaTextField(
        "Rules and guidelines",
        [Optional(), Length(max=20_000, message="Up to 20,000 characters.")],
        filters=[lambda v: strip_control(v).strip() if isinstance(v, str) else v],
        description="Markdown. Shown on the sign-up page.",
    )
    require_second_factor = BooleanField(
        "Require a second factor for moderators and admins",
        description="They must add a passkey or an authenticator app before using the "
        "moderator and admin pages.",
    )
