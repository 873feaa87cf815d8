"""Watching and muting (use cases and the /watching loader): how closely a member follows a
thread or a board, the members they muted, and whether replying watches a thread for them.

Every write here is the member's own business: no page a visitor sees shows it, so each is
declared private (forum/platform/freshness.py) and the anonymous cache keeps every page.
Nothing here commits.

Levels (forum/models.py WatchLevel): a watched thread notifies every reply, a watched board
every new thread; muted means nothing from it notifies, and a muted board's threads leave the
member's latest views (the index lists it last, folded). A member mute collapses the muted
member's posts for the muter and stops every notification from them, with one exception:
the site's own notices (a moderator acted on your post, your report was resolved) are not
from a member, so muting a moderator never silences them (`MUTE_EXEMPT_KINDS`).

The viewer loads mutes and board levels only for members whose `has_conversation_settings`
is set (forum/access/viewer.py), so every write that adds one sets it; nothing clears it (a
member with none left pays two small indexed queries per page, never a missed mute).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import and_, delete, func, select
from sqlalchemy.orm import Session, contains_eager

from forum import db
from forum.access import permissions, spoilers
from forum.access.viewer import Viewer
from forum.access.visibility import visible_threads
from forum.conversation import thread_states
from forum.discussion.presenting import Moment
from forum.models import (
    Board,
    BoardState,
    MemberMute,
    NotificationKind,
    Thread,
    ThreadState,
    User,
    WatchLevel,
)
from forum.platform import freshness
from forum.platform.links import link
from forum.platform.pagination import Page, page_of
from forum.platform.text import identity_key

# Notifications a member mute never stops: they come from the site, not from the member.
MUTE_EXEMPT_KINDS = frozenset({NotificationKind.MODERATED, NotificationKind.REPORT_RESOLVED})


def parse_level(raw: str | None) -> WatchLevel | None:
    """The level a form sent ("watching", "normal", "muted"), None for anything else."""
    try:
        return WatchLevel((raw or "").strip().lower())
    except ValueError:
        return None


def _has_settings(user: User) -> None:
    """The viewer loads this member's mutes and board levels from now on."""
    if not user.has_conversation_settings:
        user.has_conversation_settings = True


# ------------------------------------------------------------------------------ threads


def set_thread_level(session: Session, viewer: Viewer, thread: Thread, level: WatchLevel) -> bool:
    """`viewer` follows the thread at `level` (chosen: auto-watch never changes it again).
    False, with nothing written, when the thread is hidden from them. One upsert."""
    assert viewer.user is not None
    if not permissions.can_see_thread(viewer, thread):
        return False
    thread_states.set_level(session, viewer.user.id, thread.id, level)
    freshness.private(session)
    return True


# ------------------------------------------------------------------------------ boards


def set_board_level(session: Session, user: User, board: Board, level: WatchLevel) -> None:
    """`user` watches the board's new threads, mutes it, or goes back to normal. The row's
    "mark all read" (forum/conversation/unread.py) is left as it is. One upsert."""
    insert = db.upsert(session, BoardState).values(
        user_id=user.id, board_id=board.id, level=level.value
    )
    session.execute(
        insert.on_conflict_do_update(
            index_elements=[BoardState.user_id, BoardState.board_id],
            set_={"level": level.value},
        )
    )
    _has_settings(user)
    freshness.private(session)


# ------------------------------------------------------------------------------ members


@dataclass(frozen=True, slots=True)
class MuteRefused:
    message: str


def mute_member(session: Session, user: User, target: User) -> MuteRefused | None:
    """`user` mutes `target`: their posts collapse for `user` and they can't notify them
    (except MUTE_EXEMPT_KINDS). Staff may be muted like anyone. Muting twice is a no-op.
    `target` is never told."""
    if target.id == user.id:
        return MuteRefused("You can't mute yourself.")
    insert = db.upsert(session, MemberMute).values(user_id=user.id, muted_id=target.id)
    session.execute(insert.on_conflict_do_nothing(index_elements=["user_id", "muted_id"]))
    _has_settings(user)
    freshness.private(session)
    return None


def unmute_member(session: Session, user: User, target: User) -> bool:
    """`user` stops muting `target`; False when they weren't muted."""
    removed = session.execute(
        delete(MemberMute).where(MemberMute.user_id == user.id, MemberMute.muted_id == target.id)
    )
    freshness.private(session)
    return bool(getattr(removed, "rowcount", 0))


def member_by_name(session: Session, username: str) -> User | None:
    return session.scalar(select(User).where(User.username_key == identity_key(username)))


# ------------------------------------------------------------------------------ settings


def set_auto_watch(session: Session, user: User, on: bool) -> None:
    """Whether starting or replying to a thread watches it (thread_states.after_posting)."""
    user.auto_watch = on
    freshness.private(session)


# ------------------------------------------------------------------------------ /watching


@dataclass(frozen=True, slots=True)
class FollowedThread:
    """A thread the member watches or muted, as /watching prints it."""

    thread_id: int
    # As this member may see it: masked for an episode they haven't reached.
    title: str
    masked: bool
    url: str
    board_name: str
    board_url: str
    level: str
    # Watched because they posted in it (auto-watch), not by their own choice.
    automatic: bool
    last_posted: Moment
    action: str  # where its level form posts


@dataclass(frozen=True, slots=True)
class FollowedBoard:
    name: str
    url: str
    level: str
    action: str


@dataclass(frozen=True, slots=True)
class MutedMember:
    username: str
    url: str
    unmute_action: str


@dataclass(frozen=True, slots=True)
class WatchingPage:
    threads: Sequence[FollowedThread]
    page: Page
    boards: Sequence[FollowedBoard]
    members: Sequence[MutedMember]
    auto_watch: bool


def watching_page(
    session: Session, viewer: Viewer, page_number: int, per_page: int
) -> WatchingPage:
    """What `viewer` follows: one page of the threads they watch or muted (watched first, most
    recently active first; only threads they may see, titles masked for them), the boards they
    watch or muted, the members they muted. Four statements at most: the threads' count and
    page, the boards and the members (each of the last two only when the viewer has any: the
    viewer already holds their ids)."""
    user = viewer.user
    assert user is not None
    followed = and_(
        ThreadState.user_id == user.id,
        ThreadState.level.in_([WatchLevel.WATCHING.value, WatchLevel.MUTED.value]),
        visible_threads(viewer),
    )
    total = session.scalar(
        select(func.count()).select_from(ThreadState).join(Thread).where(followed)
    )
    page = page_of(total or 0, per_page, page_number)
    rows = session.execute(
        select(ThreadState, Thread)
        .join(Thread, Thread.id == ThreadState.thread_id)
        .join(Thread.board)
        .where(followed)
        .options(contains_eager(Thread.board))
        # "watching" sorts before "muted" backwards: watched threads first.
        .order_by(ThreadState.level.desc(), Thread.last_post_at.desc(), Thread.id.desc())
        .offset(page.offset)
        .limit(per_page)
    ).all()
    now = datetime.now(UTC)
    threads = []
    for state, thread in rows:
        title = spoilers.thread_title(viewer, thread)
        threads.append(
            FollowedThread(
                thread_id=thread.id,
                title=title.text,
                masked=title.masked,
                url=link("threads.thread", thread_id=thread.id, slug=thread.slug),
                board_name=thread.board.name,
                board_url=link("boards.board", slug=thread.board.slug),
                level=state.level,
                automatic=not state.level_chosen,
                last_posted=Moment.of(thread.last_post_at, now),
                action=link("watching.thread_level", thread_id=thread.id),
            )
        )
    return WatchingPage(
        threads,
        page,
        _followed_boards(session, viewer),
        _muted_members(session, viewer),
        user.auto_watch,
    )


def _followed_boards(session: Session, viewer: Viewer) -> list[FollowedBoard]:
    levels = {
        board_id: mark.level
        for board_id, mark in viewer.board_marks.items()
        if mark.level != WatchLevel.NORMAL
    }
    if not levels:
        return []
    boards = session.scalars(
        select(Board).where(Board.id.in_(sorted(levels))).order_by(Board.position, Board.name)
    )
    return [
        FollowedBoard(
            board.name,
            link("boards.board", slug=board.slug),
            levels[board.id],
            link("watching.board_level", slug=board.slug),
        )
        for board in boards
    ]


def _muted_members(session: Session, viewer: Viewer) -> list[MutedMember]:
    if not viewer.muted_user_ids:
        return []
    members = session.scalars(
        select(User).where(User.id.in_(sorted(viewer.muted_user_ids))).order_by(User.username)
    )
    return [
        MutedMember(
            member.username,
            link("users.profile", username=member.username),
            link("watching.unmute", username=member.username),
        )
        for member in members
    ]
