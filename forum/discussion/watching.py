"""A fan's own spoiler state: how far they have watched each show, and their spoiler settings.

Both live on the user row (forum/models.py `User.watch_progress`, `sees_all_spoilers`,
`hides_show_news`), which every signed-in request loads anyway: the next request on any of the
member's devices sees a change, with no cache to clear. No public page shows them, so the
writes are declared private (forum/platform/freshness.py). Nothing here commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from forum.access.spoilers import Catalogue, key_among, progress_of
from forum.access.viewer import Viewer
from forum.discussion.episode_codes import CAUGHT_UP, NOTHING_WATCHED, code_of
from forum.models import Board, User
from forum.platform import freshness

# The `watched` values that are not episode codes.
NOTHING_YET = "none"
ALL_CAUGHT_UP = "all"


@dataclass(frozen=True, slots=True)
class ProgressSet:
    key: int  # what the member's progress on the board is now


@dataclass(frozen=True, slots=True)
class ProgressRefused:
    message: str


def watched_key(catalogue: Catalogue, board: Board, watched: str, today: date) -> int | None:
    """The progress key `watched` names on `board`: "none", "all" (its last episode aired by
    `today`) or the code of one of its episodes; None for anything else."""
    choice = watched.strip().lower()
    if choice == NOTHING_YET:
        return NOTHING_WATCHED
    if choice == ALL_CAUGHT_UP:
        return catalogue.caught_up_key(board.id, today)
    return key_among(catalogue.of(board.id), watched)


def set_progress(
    session: Session,
    user: User,
    board: Board,
    watched: str,
    *,
    catalogue: Catalogue,
    today: date,
    forward: bool = False,
) -> ProgressSet | ProgressRefused:
    """Set how far `user` has watched `board`'s show. With `forward`, progress only moves up
    (an "I've watched this" button must not undo a member who is further along)."""
    key = watched_key(catalogue, board, watched, today)
    if key is None:
        return ProgressRefused(_not_an_episode(catalogue, board, watched))
    # Read again under the row's lock (FOR UPDATE on PostgreSQL; SQLite writers are serialised
    # by BEGIN IMMEDIATE): two devices saving progress on different shows at once must not
    # write back each other's stale copy of the JSON.
    session.refresh(user, ["watch_progress"], with_for_update=True)
    progress = progress_of(user)
    if forward:
        key = max(key, progress.get(board.id, NOTHING_WATCHED))
    # A new dict: the JSON column notices assignment, not changes made inside it.
    user.watch_progress = {
        **{str(board_id): value for board_id, value in progress.items()},
        str(board.id): key,
    }
    freshness.private(session)
    return ProgressSet(key)


def _not_an_episode(catalogue: Catalogue, board: Board, watched: str) -> str:
    episodes = catalogue.of(board.id)
    if not episodes:
        return f"{board.name} has no episodes listed yet, so progress can only be “none” or “all”."
    shown = watched.strip()[:20] or "nothing"
    return (
        f"“{shown}” isn't an episode of {board.name}: choose one from "
        f"{episodes[0].code} to {episodes[-1].code}, “none” or “all”."
    )


def set_spoiler_preferences(
    session: Session, user: User, *, sees_all_spoilers: bool, hides_show_news: bool
) -> None:
    user.sees_all_spoilers = sees_all_spoilers
    user.hides_show_news = hides_show_news
    freshness.private(session)


def progress_words(key: int) -> str:
    """Where a member is, for "You're at ...": "S1E6", "the start", "the latest episode"."""
    if key == NOTHING_WATCHED:
        return "the start: nothing watched yet"
    if key == CAUGHT_UP:
        return "the latest episode"
    return code_of(key)


@dataclass(frozen=True, slots=True)
class ShownProgress:
    """A member's progress on one show as the progress line prints it."""

    key: int | None  # None: never set on this show
    line: str  # "You're at S1E6", "You haven't set your progress", ...
    caught_up: bool


def shown_progress(viewer: Viewer, board_id: int) -> ShownProgress:
    key = viewer.progress.get(board_id)
    if key is None:
        line = "You haven't set your progress"
    elif key == NOTHING_WATCHED:
        line = "You haven't started yet"
    elif key == CAUGHT_UP:
        line = "You're caught up"
    else:
        line = f"You're at {code_of(key)}"
    return ShownProgress(key, line, key == CAUGHT_UP)
