"""Moderator and admin actions. Each writes exactly one ModAction row, in the same transaction
as the change it records; none of them commits. Who may call them is forum/access/permissions.py's
business: these functions assume the caller already asked.

Every logged action counts as a site-wide change for the page cache (declared in `log_action`,
forum/platform/freshness.py): actions are rare, and a lock, a rename or a suspension shows on
pages far from the row it changes (lists, profiles, the index).

Reports start here too: `file_report` is a member's action, so it writes no log row (the log
records what moderators do); handling a report is logged like every moderator action."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from forum.access.spoilers import public_thread_label, thread_may_be_masked, thread_slug
from forum.accounts import membership
from forum.conversation import notifications
from forum.discussion import posting, quote_copies
from forum.models import (
    Board,
    BoardModerator,
    BoardSuspension,
    ModAction,
    Post,
    PostRevision,
    Report,
    ReportReason,
    ReportStatus,
    Role,
    SiteSetting,
    Thread,
    User,
    utcnow,
)
from forum.platform import freshness
from forum.search import search_documents


class LoggedAction(StrEnum):
    """Every `action` a ModAction row can carry. log_action takes only these, so an action that
    writes a log row is in the moderation log's filter (LOGGED_ACTIONS) by construction."""

    LOCK_THREAD = "lock thread"
    UNLOCK_THREAD = "unlock thread"
    PIN_THREAD = "pin thread"
    UNPIN_THREAD = "unpin thread"
    RENAME_THREAD = "rename thread"
    MOVE_THREAD = "move thread"
    HIDE_THREAD = "hide thread"
    RESTORE_THREAD = "restore thread"
    HIDE_POST = "hide post"
    RESTORE_POST = "restore post"
    EDIT_POST = "edit post"
    PURGE_POST = "purge post"
    RESOLVE_REPORT = "resolve report"
    DISMISS_REPORT = "dismiss report"
    SUSPEND_USER = "suspend user"
    BAN_USER = "ban user"
    LIFT_SUSPENSION = "lift suspension"
    BOARD_SUSPENSION = "board suspension"
    LIFT_BOARD_SUSPENSION = "lift board suspension"
    DELETE_ACCOUNT = "delete account"
    CHANGE_ROLE = "change role"
    CREATE_BOARD = "create board"
    EDIT_BOARD = "edit board"
    ARCHIVE_BOARD = "archive board"
    UNARCHIVE_BOARD = "unarchive board"
    REORDER_BOARDS = "reorder boards"
    CHANGE_SETTINGS = "change settings"
    SET_THREAD_EPISODE = "set thread episode"
    SAVE_EPISODE = "save episode"
    OPEN_EPISODE_THREADS = "open episode threads"


LOGGED_ACTIONS: tuple[LoggedAction, ...] = tuple(LoggedAction)


def log_action(
    session: Session,
    actor: User,
    action: LoggedAction,
    *,
    board_id: int | None = None,
    target: Board | Thread | Post | User | None = None,
    reason: str = "",
    details: str = "",
) -> ModAction:
    row = ModAction(
        actor_id=actor.id,
        # A plain string that is no LoggedAction fails here, not silently outside the filter.
        action=LoggedAction(action).value,
        board_id=board_id,
        reason=reason,
        details=details,
        created_at=utcnow(),
    )
    if isinstance(target, Board):
        row.target_board_id, row.target_label = target.id, target.name
        row.board_id = row.board_id or target.id
    elif isinstance(target, Thread):
        # The log is public: a thread that may be masked for some readers is named by its
        # episode, never by its title (forum/access/spoilers.py).
        row.target_thread_id, row.target_label = target.id, public_thread_label(target)
        row.board_id = row.board_id or target.board_id
    elif isinstance(target, Post):
        row.target_post_id, row.target_label = target.id, f"post #{target.number}"
    elif isinstance(target, User):
        row.target_user_id, row.target_label = target.id, target.username
    session.add(row)
    freshness.changed(session, site=True)
    return row


# ------------------------------------------------------------------------------ threads


def set_locked(
    session: Session, actor: User, thread: Thread, locked: bool, reason: str = ""
) -> None:
    thread.is_locked = locked
    log_action(
        session,
        actor,
        LoggedAction.LOCK_THREAD if locked else LoggedAction.UNLOCK_THREAD,
        target=thread,
        reason=reason,
    )
    what = "locked your thread" if locked else "unlocked your thread"
    notifications.moderated(session, actor=actor, thread=thread, what=what, reason=reason)


def set_pinned(
    session: Session, actor: User, thread: Thread, pinned: bool, reason: str = ""
) -> None:
    thread.is_pinned = pinned
    log_action(
        session,
        actor,
        LoggedAction.PIN_THREAD if pinned else LoggedAction.UNPIN_THREAD,
        target=thread,
        reason=reason,
    )


def rename_thread(
    session: Session, actor: User, thread: Thread, title: str, reason: str = ""
) -> None:
    old = thread.title
    thread.title = title
    thread.slug = thread_slug(title, thread.episode_key, thread.is_news)
    search_documents.index_title(session, thread.id, title)
    log_action(
        session,
        actor,
        LoggedAction.RENAME_THREAD,
        target=thread,
        reason=reason,
        # The old title of a thread some readers have masked stays out of the public log.
        details="" if thread_may_be_masked(thread) else f"from “{old}”",
    )
    notifications.moderated(
        session, actor=actor, thread=thread, what="renamed your thread", reason=reason
    )


def set_thread_hidden(
    session: Session, actor: User, thread: Thread, hidden: bool, reason: str = ""
) -> None:
    """Hidden threads leave their board's counts and listing; restoring brings them back."""
    if thread.is_hidden != hidden:
        thread.is_hidden = hidden
        session.flush()
        sign = -1 if hidden else 1
        _shift_board_totals(session, thread.board_id, sign, sign * thread.post_count)
        # Quotes of its posts elsewhere are copies of text that leaves (or comes back) with it.
        posting.refresh_copies(session, thread_id=thread.id)
    log_action(
        session,
        actor,
        LoggedAction.HIDE_THREAD if hidden else LoggedAction.RESTORE_THREAD,
        target=thread,
        reason=reason,
    )
    what = "hid your thread" if hidden else "restored your thread"
    notifications.moderated(session, actor=actor, thread=thread, what=what, reason=reason)


def move_thread(
    session: Session, actor: User, thread: Thread, destination: Board, reason: str = ""
) -> None:
    origin_id = thread.board_id
    if origin_id == destination.id:
        return
    thread.board_id = destination.id
    session.flush()
    if not thread.is_hidden:
        _shift_board_totals(session, origin_id, -1, -thread.post_count)
        _shift_board_totals(session, destination.id, 1, thread.post_count)
    origin_name = session.scalar(select(Board.name).where(Board.id == origin_id))
    log_action(
        session,
        actor,
        LoggedAction.MOVE_THREAD,
        target=thread,
        board_id=destination.id,
        reason=reason,
        details=f"from {origin_name} to {destination.name}",
    )
    what = f"moved your thread to {destination.name}"
    notifications.moderated(session, actor=actor, thread=thread, what=what, reason=reason)


def _shift_board_totals(session: Session, board_id: int, threads: int, posts: int) -> None:
    """Adjust a board's counters and recompute its latest post from its visible threads."""
    latest = session.execute(
        select(Thread.last_post_id, Thread.last_post_at)
        .where(Thread.board_id == board_id, Thread.is_hidden.is_(False))
        .order_by(Thread.last_post_at.desc(), Thread.id.desc())
        .limit(1)
    ).first()
    session.execute(
        update(Board)
        .where(Board.id == board_id)
        .values(
            thread_count=Board.thread_count + threads,
            post_count=Board.post_count + posts,
            last_post_id=latest.last_post_id if latest else None,
            last_post_at=latest.last_post_at if latest else None,
        )
        .execution_options(synchronize_session=False)
    )
    board = session.get(Board, board_id)
    if board is not None:
        session.expire(board)


# ------------------------------------------------------------------------------ posts


def set_post_hidden(
    session: Session, actor: User, post: Post, hidden: bool, reason: str = ""
) -> None:
    post.is_hidden = hidden
    post.hidden_reason = reason if hidden else ""
    # Quotes of it are copies of its text: they leave (or come back) with it.
    posting.refresh_copies(session, post_id=post.id)
    board_id = session.scalar(select(Thread.board_id).where(Thread.id == post.thread_id))
    log_action(
        session,
        actor,
        LoggedAction.HIDE_POST if hidden else LoggedAction.RESTORE_POST,
        target=post,
        board_id=board_id,
        reason=reason,
    )
    what = f"{'hid' if hidden else 'restored'} your post #{post.number}"
    notifications.moderated(session, actor=actor, post=post, what=what, reason=reason)


def edit_others_post(
    session: Session, actor: User, post: Post, body: str, reason: str = ""
) -> posting.Refused | None:
    if refused := posting.edit_post(session, post, body, editor=actor):
        return refused
    board_id = session.scalar(select(Thread.board_id).where(Thread.id == post.thread_id))
    log_action(
        session, actor, LoggedAction.EDIT_POST, target=post, board_id=board_id, reason=reason
    )
    what = f"edited your post #{post.number}"
    notifications.moderated(session, actor=actor, post=post, what=what, reason=reason)
    return None


def purge_post(session: Session, actor: User, post: Post, reason: str = "") -> None:
    """Admin only: remove a post's text for good (the numbered slot stays as a stub)."""
    board_id = session.scalar(select(Thread.board_id).where(Thread.id == post.thread_id))
    log_action(
        session, actor, LoggedAction.PURGE_POST, target=post, board_id=board_id, reason=reason
    )
    what = f"removed your post #{post.number}"
    notifications.moderated(session, actor=actor, post=post, what=what, reason=reason)
    post.source = ""
    post.html = ""
    post.is_deleted = True
    # Its words must not stay findable; an opener's document keeps the thread's title.
    search_documents.purge_text(session, post.id, post.number)
    # Nor quoted elsewhere; and with no text left it quotes nothing.
    posting.refresh_copies(session, post_id=post.id)
    quote_copies.replace(session, post.id, ())
    session.execute(delete(PostRevision).where(PostRevision.post_id == post.id))


# ------------------------------------------------------------------------------ reports


def has_reported(session: Session, reporter: User, post: Post) -> bool:
    return (
        session.scalar(
            select(Report.id).where(Report.post_id == post.id, Report.reporter_id == reporter.id)
        )
        is not None
    )


def file_report(
    session: Session, reporter: User, post: Post, reason: ReportReason, details: str = ""
) -> Report:
    """A member flags a post for the moderators of its board. One report per member and post
    (a unique constraint): callers check has_reported first to answer kindly."""
    report = Report(
        post_id=post.id,
        reporter_id=reporter.id,
        reason=reason.value,
        details=details,
        created_at=utcnow(),
    )
    session.add(report)
    freshness.private(session)  # reports show on the moderators' pages only, never cached
    session.flush()
    return report


def handle_report(
    session: Session, actor: User, report: Report, status: ReportStatus, resolution: str = ""
) -> None:
    """Resolve or dismiss a report (and the other open reports of the same post)."""
    now = utcnow()
    # Before the update: the members told are those whose reports were open.
    notifications.report_resolved(
        session, report, actor=actor, status=status, resolution=resolution
    )
    session.execute(
        update(Report)
        .where(Report.post_id == report.post_id, Report.status == ReportStatus.OPEN.value)
        .values(status=status.value, handled_by_id=actor.id, handled_at=now, resolution=resolution)
        .execution_options(synchronize_session="fetch")
    )
    post = session.get_one(Post, report.post_id)
    board_id = session.scalar(select(Thread.board_id).where(Thread.id == post.thread_id))
    action = (
        LoggedAction.RESOLVE_REPORT
        if status is ReportStatus.RESOLVED
        else LoggedAction.DISMISS_REPORT
    )
    log_action(session, actor, action, target=post, board_id=board_id, reason=resolution)


# ------------------------------------------------------------------------------ users


def suspend(session: Session, actor: User, user: User, until: datetime | None, reason: str) -> None:
    """Suspend until a moment, or ban (until None). The user can still log in and read."""
    user.is_banned = until is None
    user.suspended_until = until
    user.suspension_reason = reason
    details = "banned" if until is None else f"until {until:%Y-%m-%d %H:%M} UTC"
    log_action(
        session,
        actor,
        LoggedAction.BAN_USER if until is None else LoggedAction.SUSPEND_USER,
        target=user,
        reason=reason,
        details=details,
    )


def lift_suspension(session: Session, actor: User, user: User, reason: str = "") -> None:
    user.is_banned = False
    user.suspended_until = None
    user.suspension_reason = ""
    log_action(session, actor, LoggedAction.LIFT_SUSPENSION, target=user, reason=reason)


def suspend_on_board(
    session: Session, actor: User, user: User, board: Board, until: datetime, reason: str
) -> None:
    """Bar a member from posting on one board until `until` (replacing an earlier one there).
    They still read it, and post everywhere else."""
    existing = session.get(BoardSuspension, (user.id, board.id))
    if existing is None:
        session.add(
            BoardSuspension(
                user_id=user.id,
                board_id=board.id,
                until=until,
                reason=reason,
                actor_id=actor.id,
                created_at=utcnow(),
            )
        )
    else:
        existing.until, existing.reason, existing.actor_id = until, reason, actor.id
        existing.created_at = utcnow()
    _refresh_board_suspended_until(session, user)
    log_action(
        session,
        actor,
        LoggedAction.BOARD_SUSPENSION,
        target=user,
        board_id=board.id,
        reason=reason,
        details=f"on {board.name} until {until:%Y-%m-%d %H:%M} UTC",
    )


def lift_board_suspension(
    session: Session, actor: User, user: User, board: Board, reason: str = ""
) -> bool:
    """End a running board suspension; False (and nothing logged) when there is none."""
    ended = session.execute(
        delete(BoardSuspension)
        .where(
            BoardSuspension.user_id == user.id,
            BoardSuspension.board_id == board.id,
            BoardSuspension.until > utcnow(),
        )
        .execution_options(synchronize_session="fetch")
    )
    if not ended.rowcount:  # type: ignore[attr-defined]
        return False
    _refresh_board_suspended_until(session, user)
    log_action(
        session,
        actor,
        LoggedAction.LIFT_BOARD_SUSPENSION,
        target=user,
        board_id=board.id,
        reason=reason,
        details=f"on {board.name}",
    )
    return True


def _refresh_board_suspended_until(session: Session, user: User) -> None:
    """Keep the user row's summary (read by forum/accounts/auth.py) equal to their latest running
    board suspension's end."""
    session.flush()
    user.board_suspended_until = session.scalar(
        select(func.max(BoardSuspension.until)).where(
            BoardSuspension.user_id == user.id, BoardSuspension.until > utcnow()
        )
    )


def running_board_suspensions(session: Session, user: User) -> list[tuple[BoardSuspension, Board]]:
    found = session.execute(
        select(BoardSuspension, Board)
        .join(Board, Board.id == BoardSuspension.board_id)
        .where(BoardSuspension.user_id == user.id, BoardSuspension.until > utcnow())
        .order_by(Board.position, Board.name)
    )
    return [(suspension, board) for suspension, board in found]


def delete_account(session: Session, actor: User, user: User, reason: str) -> None:
    """Admin only: remove an account; posts stay as by "deleted user"
    (forum/accounts/membership.py)."""
    log_action(session, actor, LoggedAction.DELETE_ACCOUNT, target=user, reason=reason)
    membership.delete_account(session, user)


def set_role(
    session: Session, actor: User, user: User, role: Role, board_ids: list[int] | None = None
) -> None:
    """Change a role; for moderators, `board_ids` limits them to those boards (empty: all)."""
    old = user.role
    user.role = role.value
    session.execute(delete(BoardModerator).where(BoardModerator.user_id == user.id))
    scope = ""
    if role is Role.MODERATOR and board_ids:
        session.add_all(BoardModerator(user_id=user.id, board_id=b) for b in board_ids)
        names = session.scalars(
            select(Board.name).where(Board.id.in_(board_ids)).order_by(Board.name)
        ).all()
        scope = f" of {', '.join(names)}"
    log_action(
        session,
        actor,
        LoggedAction.CHANGE_ROLE,
        target=user,
        details=f"from {old} to {role.value}{scope}",
    )


# ------------------------------------------------------------------------------ boards, site


BOARD_FIELDS = ("name", "description", "network", "status", "premiered", "facts")


def create_board(session: Session, actor: User, slug: str, **values: Any) -> Board:
    position = (session.scalar(select(func.max(Board.position))) or 0) + 1
    board = Board(slug=slug, position=position, **values)
    session.add(board)
    session.flush()
    log_action(session, actor, LoggedAction.CREATE_BOARD, target=board)
    return board


def update_board(session: Session, actor: User, board: Board, **values: Any) -> None:
    changed = [key for key in BOARD_FIELDS if key in values and getattr(board, key) != values[key]]
    for key in changed:
        setattr(board, key, values[key])
    log_action(
        session,
        actor,
        LoggedAction.EDIT_BOARD,
        target=board,
        details=f"changed {', '.join(changed)}" if changed else "no changes",
    )


def set_archived(session: Session, actor: User, board: Board, archived: bool) -> None:
    board.is_archived = archived
    log_action(
        session,
        actor,
        LoggedAction.ARCHIVE_BOARD if archived else LoggedAction.UNARCHIVE_BOARD,
        target=board,
    )


def move_board(session: Session, actor: User, board: Board, direction: int) -> None:
    """Swap a board with its neighbour in the index order (direction -1 up, +1 down)."""
    boards = list(session.scalars(select(Board).order_by(Board.position, Board.name)))
    for position, each in enumerate(boards):
        each.position = position
    index = boards.index(board)
    other = index + direction
    if 0 <= other < len(boards):
        boards[index].position, boards[other].position = other, index
    log_action(
        session,
        actor,
        LoggedAction.REORDER_BOARDS,
        target=board,
        details="moved up" if direction < 0 else "moved down",
    )


def save_settings(session: Session, actor: User, values: dict[str, str]) -> None:
    existing = {s.key: s for s in session.scalars(select(SiteSetting))}
    changed = []
    for key, value in values.items():
        setting = existing.get(key)
        if setting is None:
            session.add(SiteSetting(key=key, value=value))
            changed.append(key)
        elif setting.value != value:
            setting.value = value
            changed.append(key)
    log_action(
        session,
        actor,
        LoggedAction.CHANGE_SETTINGS,
        details=f"changed {', '.join(changed)}" if changed else "no changes",
    )
