"""Who is looking at a page: built once per request and passed to loaders, presenters and
permission functions.

A `Viewer` holds the signed-in member (or nobody) and the per-member state that decides what
they see and may do: the boards they moderate, their running board suspensions, the members
they muted and their levels on boards (watching, muted, marked read), each loaded in one query
and only for the members who have any. The `User` row carries no request state: it is the account.

Visitors are `VISITOR`, built without touching the session cookie or the database, so a cached
anonymous page stays a cheap hit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType

from flask import current_app, g
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import Session

from forum.models import (
    BoardModerator,
    BoardState,
    BoardSuspension,
    MemberMute,
    Role,
    User,
    WatchLevel,
    utcnow,
)

_NO_SUSPENSIONS: Mapping[int, BoardSuspension] = MappingProxyType({})
_NO_LIMITS: Mapping[int, int] = MappingProxyType({})
_NO_BOARD_STATES: Mapping[int, BoardMark] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class BoardMark:
    """A member's own state on one board (a BoardState row, detached from the session)."""

    level: str = WatchLevel.NORMAL.value
    marked_read_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Viewer:
    """The person a response is for. `user` is None for a visitor."""

    user: User | None = None
    # The boards a board-scoped moderator moderates; empty for everyone else (a moderator
    # without any moderates all boards: forum/access/permissions.py).
    moderated_board_ids: frozenset[int] = frozenset()
    # The member's running board suspensions by board id.
    board_suspensions: Mapping[int, BoardSuspension] = field(
        default_factory=lambda: _NO_SUSPENSIONS
    )
    # Spoilers (forum/access/spoilers.py): the key of the last episode this viewer has seen,
    # per board, and for boards not listed. The defaults see no episode at all, so a viewer
    # built without them (a job, a test) is protected from every episode spoiler.
    spoiler_limits: Mapping[int, int] = field(default_factory=lambda: _NO_LIMITS)
    spoiler_default: int = 0
    # The member's own watch progress (what they set), by board.
    progress: Mapping[int, int] = field(default_factory=lambda: _NO_LIMITS)
    # Renewal and cancellation news is hidden from this member until revealed.
    hides_news: bool = False
    # Conversation (forum/conversation/): the members this member muted (their posts collapse,
    # they can't notify), and the member's level and "mark all read" per board.
    muted_user_ids: frozenset[int] = frozenset()
    board_marks: Mapping[int, BoardMark] = field(default_factory=lambda: _NO_BOARD_STATES)

    @property
    def is_authenticated(self) -> bool:
        return self.user is not None

    @property
    def id(self) -> int | None:
        return self.user.id if self.user is not None else None

    @property
    def role(self) -> str | None:
        return self.user.role if self.user is not None else None

    @property
    def username(self) -> str:
        return self.user.username if self.user is not None else ""

    @property
    def unread_notifications(self) -> int:
        """The bell's count: on the user row, so no page pays a query for it."""
        return self.user.unread_notifications if self.user is not None else 0

    def board_level(self, board_id: int) -> str:
        mark = self.board_marks.get(board_id)
        return mark.level if mark is not None else WatchLevel.NORMAL.value

    @property
    def muted_board_ids(self) -> frozenset[int]:
        return frozenset(
            board_id
            for board_id, mark in self.board_marks.items()
            if mark.level == WatchLevel.MUTED
        )

    def read_floor(self, board_id: int) -> datetime | None:
        """Threads with no post after this count as read for this member (their own "mark all
        read", on this board or site-wide, whichever is later); None: no floor."""
        mark = self.board_marks.get(board_id)
        board_floor = mark.marked_read_at if mark is not None else None
        site_floor = self.user.marked_read_at if self.user is not None else None
        if board_floor is None or site_floor is None:
            return board_floor or site_floor
        return max(board_floor, site_floor)

    def spoiler_limit(self, board_id: int) -> int:
        """The key of the last episode of the board's show this viewer has seen."""
        return self.spoiler_limits.get(board_id, self.spoiler_default)


VISITOR = Viewer()


def viewer_for(session: Session, user: User | None, now: datetime | None = None) -> Viewer:
    """The viewer `user` is, with their per-member state loaded. Members pay a query only for
    state they have: a board moderator for their boards, a member with a board suspension
    running for those suspensions, a member with mutes or board levels for those."""
    if user is None or not user.is_authenticated:
        return VISITOR
    now = now or utcnow()
    moderated: frozenset[int] = frozenset()
    if user.role == Role.MODERATOR:
        moderated = frozenset(
            session.scalars(
                select(BoardModerator.board_id).where(BoardModerator.user_id == user.id)
            )
        )
    suspensions = _NO_SUSPENSIONS
    if user.board_suspended_until is not None and user.board_suspended_until > now:
        suspensions = MappingProxyType(
            {
                suspension.board_id: suspension
                for suspension in session.scalars(
                    select(BoardSuspension).where(
                        BoardSuspension.user_id == user.id, BoardSuspension.until > now
                    )
                )
            }
        )
    muted: frozenset[int] = frozenset()
    board_marks = _NO_BOARD_STATES
    if user.has_conversation_settings:
        muted = frozenset(
            session.scalars(select(MemberMute.muted_id).where(MemberMute.user_id == user.id))
        )
        board_marks = MappingProxyType(
            {
                state.board_id: BoardMark(state.level, state.marked_read_at)
                for state in session.scalars(
                    select(BoardState).where(BoardState.user_id == user.id)
                )
            }
        )
    return Viewer(user, moderated, suspensions, muted_user_ids=muted, board_marks=board_marks)


def current_viewer() -> Viewer:
    """This request's viewer, built on first use and kept for the rest of the request."""
    found: Viewer | None = g.get("viewer")
    if found is None:
        # Imported here: auth imports this module to reset the viewer on log-in and log-out,
        # and settings and spoilers import it for the Viewer.
        from forum.access.spoilers import with_limits
        from forum.accounts.auth import carries_login
        from forum.db import db_session
        from forum.platform.settings import get_settings

        session = db_session()
        user = current_user._get_current_object() if carries_login() else None
        found = g.viewer = with_limits(
            viewer_for(session, user),
            get_settings(session).episodes,
            utcnow().date(),
            current_app.config["SPOILER_GRACE_DAYS"],
        )
    return found


def forget_viewer() -> None:
    """Logging in or out changes who is looking: the next current_viewer() builds anew."""
    g.pop("viewer", None)
