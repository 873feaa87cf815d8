"""Loaders for the moderator and admin pages: the report queue, the moderation log, user search
and a user's admin page.

Like forum/discussion/reading.py, each returns fully loaded data in a fixed number of statements,
whatever the number of rows; relationships are lazy="raise", so a template can't start an N+1.
Pages everyone reads load from forum/discussion/ (reading.py, history.py), never from here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVarTuple

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session, contains_eager, joinedload

from forum.access import permissions
from forum.access.viewer import Viewer
from forum.discussion.reading import all_boards
from forum.models import (
    Board,
    BoardModerator,
    ModAction,
    Post,
    Report,
    ReportStatus,
    Thread,
    User,
)
from forum.platform.pagination import Page, page_of
from forum.platform.text import identity_key, strip_control

REPORTS_PER_PAGE = 25
LOG_PER_PAGE = 50
USERS_PER_PAGE = 50
RECENT = 10


# ------------------------------------------------------------------------------ boards


def boards_for_suspending(session: Session, viewer: Viewer) -> Sequence[Board]:
    """The boards `viewer` may suspend members on, in index order."""
    return [board for board in all_boards(session) if permissions.moderates(viewer, board.id)]


def post_in_context(session: Session, post_id: int) -> Post | None:
    """A post with its author, thread and board: what the report, hide and purge pages show."""
    return session.scalar(
        select(Post)
        .where(Post.id == post_id)
        .options(joinedload(Post.author), joinedload(Post.thread).joinedload(Thread.board))
    )


# The columns a statement selects, kept through _in_moderated_boards.
Columns = TypeVarTuple("Columns")


def _in_moderated_boards(stmt: Select[*Columns], viewer: Viewer) -> Select[*Columns]:
    """Limit a statement that joins Thread to the boards `viewer` moderates."""
    if permissions.is_global_moderator(viewer):
        return stmt
    return stmt.where(Thread.board_id.in_(sorted(viewer.moderated_board_ids)))


# ------------------------------------------------------------------------------ report queue


@dataclass(frozen=True)
class QueueEntry:
    """One reported post, with all of its open reports (oldest first)."""

    post: Post
    reports: Sequence[Report]

    @property
    def reasons(self) -> list[str]:
        return list(dict.fromkeys(report.reason for report in self.reports))

    @property
    def first_reported_at(self) -> Any:
        return self.reports[0].created_at


@dataclass(frozen=True)
class ReportQueue:
    entries: Sequence[QueueEntry]
    page: Page


def _open_reports_by_post(viewer: Viewer) -> Select[int, datetime]:
    """Post id and first report time of each post with open reports."""
    stmt = (
        select(Report.post_id, func.min(Report.created_at).label("first_at"))
        .join(Post, Post.id == Report.post_id)
        .join(Thread, Thread.id == Post.thread_id)
        .where(Report.status == ReportStatus.OPEN.value)
        .group_by(Report.post_id)
    )
    return _in_moderated_boards(stmt, viewer)


def report_queue(
    session: Session, viewer: Viewer, page_number: int, per_page: int = REPORTS_PER_PAGE
) -> ReportQueue:
    """Posts with open reports in the boards `viewer` moderates, the longest-waiting first.
    Three statements: the count, the page of post ids, the reports with their posts."""
    by_post = _open_reports_by_post(viewer)
    total = session.scalar(select(func.count()).select_from(by_post.subquery())) or 0
    page = page_of(total, per_page, page_number)
    first_at = by_post.selected_columns.first_at
    page_rows = session.execute(
        by_post.order_by(first_at, Report.post_id).offset(page.offset).limit(per_page)
    ).all()
    post_ids = [row.post_id for row in page_rows]
    reports = session.scalars(
        select(Report)
        .where(Report.post_id.in_(post_ids), Report.status == ReportStatus.OPEN.value)
        .options(
            joinedload(Report.reporter),
            joinedload(Report.post).options(
                joinedload(Post.author), joinedload(Post.thread).joinedload(Thread.board)
            ),
        )
        .order_by(Report.created_at, Report.id)
    ).all()
    grouped: dict[int, list[Report]] = {post_id: [] for post_id in post_ids}
    for report in reports:
        grouped[report.post_id].append(report)
    entries = [QueueEntry(group[0].post, group) for group in grouped.values() if group]
    return ReportQueue(entries, page)


@dataclass(frozen=True)
class ReportCounts:
    reports: int
    posts: int


def open_report_counts(session: Session, viewer: Viewer) -> ReportCounts:
    stmt = (
        select(func.count(Report.id), func.count(Report.post_id.distinct()))
        .join(Post, Post.id == Report.post_id)
        .join(Thread, Thread.id == Post.thread_id)
        .where(Report.status == ReportStatus.OPEN.value)
    )
    reports, posts = session.execute(_in_moderated_boards(stmt, viewer)).one()
    return ReportCounts(reports, posts)


def oldest_open_report(session: Session, post_id: int) -> Report | None:
    return session.scalar(
        select(Report)
        .where(Report.post_id == post_id, Report.status == ReportStatus.OPEN.value)
        .order_by(Report.created_at, Report.id)
        .limit(1)
    )


@dataclass(frozen=True)
class MemberReports:
    reports: Sequence[Report]
    page: Page


def reports_filed_by(
    session: Session, viewer: Viewer, page_number: int, per_page: int = REPORTS_PER_PAGE
) -> MemberReports:
    total = session.scalar(select(func.count(Report.id)).where(Report.reporter_id == viewer.id))
    page = page_of(total or 0, per_page, page_number)
    reports = session.scalars(
        select(Report)
        .where(Report.reporter_id == viewer.id)
        .options(joinedload(Report.post).joinedload(Post.thread))
        .order_by(Report.created_at.desc(), Report.id.desc())
        .offset(page.offset)
        .limit(per_page)
    ).all()
    return MemberReports(reports, page)


# ------------------------------------------------------------------------------ moderation log


@dataclass(frozen=True)
class LogFilters:
    board: str = ""
    moderator: str = ""
    action: str = ""

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> LogFilters:
        def clean(name: str, limit: int) -> str:
            return strip_control(args.get(name, ""))[:limit].strip()

        return cls(
            board=clean("board", 64), moderator=clean("moderator", 30), action=clean("action", 40)
        )

    def as_args(self) -> dict[str, str]:
        """The filters in use, for links that keep them (pagination)."""
        return {key: value for key, value in vars(self).items() if value}

    def conditions(self) -> list[Any]:
        # Subqueries rather than joins, so the eager loads below stay the only joins.
        where: list[Any] = []
        if self.board:
            board_id = select(Board.id).where(Board.slug == self.board).scalar_subquery()
            where.append(ModAction.board_id == board_id)
        if self.moderator:
            actor_id = (
                select(User.id)
                .where(User.username_key == identity_key(self.moderator))
                .scalar_subquery()
            )
            where.append(ModAction.actor_id == actor_id)
        if self.action:
            where.append(ModAction.action == self.action)
        return where


@dataclass(frozen=True)
class LogPage:
    rows: Sequence[ModAction]
    page: Page
    filters: LogFilters
    boards: Sequence[Board] = field(default_factory=list)


def _log_rows(where: list[Any]) -> Select[Any]:
    return (
        select(ModAction)
        .where(*where)
        .options(joinedload(ModAction.actor), joinedload(ModAction.board))
        .order_by(ModAction.created_at.desc(), ModAction.id.desc())
    )


def mod_log(
    session: Session, filters: LogFilters, page_number: int, per_page: int = LOG_PER_PAGE
) -> LogPage:
    """The public log, newest first. Three statements: count, rows, boards for the filter."""
    where = filters.conditions()
    total = session.scalar(select(func.count(ModAction.id)).where(*where)) or 0
    page = page_of(total, per_page, page_number)
    rows = session.scalars(_log_rows(where).offset(page.offset).limit(per_page)).all()
    return LogPage(rows, page, filters, all_boards(session))


def recent_actions(session: Session, limit: int = RECENT) -> Sequence[ModAction]:
    return session.scalars(_log_rows([]).limit(limit)).all()


# ------------------------------------------------------------------------------ admin: users


@dataclass(frozen=True)
class UserSearch:
    query: str
    users: Sequence[User]
    page: Page


def _like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def user_search(
    session: Session, query: str, page_number: int, per_page: int = USERS_PER_PAGE
) -> UserSearch:
    """Users whose name or email contains `query` (look-alikes folded), by name. Two
    statements: the count and the page."""
    where: list[Any] = []
    if query:
        pattern = _like_pattern(identity_key(query))
        where.append(
            or_(
                User.username_key.like(pattern, escape="\\"),
                User.email_key.like(pattern, escape="\\"),
            )
        )
    total = session.scalar(select(func.count(User.id)).where(*where)) or 0
    page = page_of(total, per_page, page_number)
    users = session.scalars(
        select(User).where(*where).order_by(User.username_key).offset(page.offset).limit(per_page)
    ).all()
    return UserSearch(query, users, page)


@dataclass(frozen=True)
class UserRecord:
    """What an admin sees about one member."""

    user: User
    moderated_board_ids: frozenset[int]
    boards: Sequence[Board]
    recent_posts: Sequence[Post]
    reports_filed: Sequence[Report]
    history: Sequence[ModAction]


def user_record(session: Session, username: str, limit: int = RECENT) -> UserRecord | None:
    user = session.scalar(select(User).where(User.username_key == identity_key(username)))
    if user is None:
        return None
    moderated = frozenset(
        session.scalars(select(BoardModerator.board_id).where(BoardModerator.user_id == user.id))
    )
    posts = session.scalars(
        select(Post)
        .join(Post.thread)
        .where(Post.author_id == user.id)
        .options(contains_eager(Post.thread))
        .order_by(Post.created_at.desc(), Post.id.desc())
        .limit(limit)
    ).all()
    reports = session.scalars(
        select(Report)
        .where(Report.reporter_id == user.id)
        .options(joinedload(Report.post).joinedload(Post.thread))
        .order_by(Report.created_at.desc(), Report.id.desc())
        .limit(limit)
    ).all()
    history = session.scalars(_log_rows([ModAction.target_user_id == user.id]).limit(limit)).all()
    return UserRecord(user, moderated, all_boards(session), posts, reports, history)
