"""Recount every denormalised counter from the rows it summarises (`flask recount`).

The definitions are the ones forum/discussion/posting.py and forum/staff/moderation.py keep
live, so a healthy database has no differences:

- a thread counts all its posts, deleted and hidden ones too (deleting, hiding or purging a
  post changes no counter: its numbered slot stays); its last post is the highest-numbered one,
  and `last_post_at` / `last_poster_id` are that post's;
- a board counts its visible threads and every post in them (a hidden thread leaves its board's
  counts until restored); its last post is the newest post (created_at, then id) in them;
- a member counts every post they wrote, in any thread, and their unread notifications (the
  bell: rows with no read_at, forum/conversation/notifications.py).

Each table is checked by one statement whatever its size, counting in the database (GROUP BY
over posts), and a repair is one UPDATE ... FROM per table that has differences. Repaired rows
get their `cache_version` bumped, so their cached pages are rebuilt. Never commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Subquery, func, or_, select, text, update
from sqlalchemy.orm import Session, aliased

from forum.models import Board, Notification, Post, Thread, User


@dataclass(frozen=True)
class Difference:
    """One stored counter that disagrees with the rows: `actual` is what they say."""

    table: str
    row_id: int
    column: str
    stored: object
    actual: object

    def __str__(self) -> str:
        return (
            f"{self.table} {self.row_id}: {self.column} is {_shown(self.stored)}, "
            f"should be {_shown(self.actual)}"
        )


@dataclass(frozen=True)
class Checked:
    """How many rows a recount looked at."""

    boards: int
    threads: int
    users: int


def _shown(value: object) -> str:
    if value is None:
        return "none"
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    return str(value)


# ------------------------------------------------------------------------------ definitions
#
# Per table, one derived table holding every row's id and its actual counters. Each is built
# from GROUP BY passes over posts (hash joins), so checking costs a few scans of posts whatever
# the number of boards, threads or members, where a correlated subquery per row would scan
# posts once per board. The derived tables read their own alias of the counted table, so they
# stay self-contained inside an UPDATE ... FROM on it.

_Counted = type[Board] | type[Thread] | type[User]


def _board_actuals() -> Subquery:
    board = aliased(Board)
    visible = Thread.is_hidden.is_(False)
    threads = (
        select(Thread.board_id, func.count(Thread.id).label("n"))
        .where(visible)
        .group_by(Thread.board_id)
        .subquery()
    )
    posts = (
        select(
            Thread.board_id,
            func.count(Post.id).label("n"),
            func.max(Post.created_at).label("newest_at"),
        )
        .join(Thread, Thread.id == Post.thread_id)
        .where(visible)
        .group_by(Thread.board_id)
        .subquery()
    )
    # The newest post is the one with the latest created_at, the higher id among equals.
    newest = (
        select(Thread.board_id, func.max(Post.id).label("id"))
        .join(Thread, Thread.id == Post.thread_id)
        .join(posts, (posts.c.board_id == Thread.board_id) & (posts.c.newest_at == Post.created_at))
        .where(visible)
        .group_by(Thread.board_id)
        .subquery()
    )
    return (
        select(
            board.id,
            func.coalesce(threads.c.n, 0).label("thread_count"),
            func.coalesce(posts.c.n, 0).label("post_count"),
            newest.c.id.label("last_post_id"),
            posts.c.newest_at.label("last_post_at"),
        )
        .outerjoin(threads, threads.c.board_id == board.id)
        .outerjoin(posts, posts.c.board_id == board.id)
        .outerjoin(newest, newest.c.board_id == board.id)
        .subquery("actual_boards")
    )


def _thread_actuals() -> Subquery:
    thread = aliased(Thread)
    last = aliased(Post)
    posts = (
        select(
            Post.thread_id,
            func.count(Post.id).label("n"),
            func.max(Post.number).label("last_number"),
        )
        .group_by(Post.thread_id)
        .subquery()
    )
    return (
        select(
            thread.id,
            func.coalesce(posts.c.n, 0).label("post_count"),
            last.id.label("last_post_id"),
            # A thread without posts (possible only after damage) sorts by when it was
            # started, as create_thread has it before its first post.
            func.coalesce(last.created_at, thread.created_at).label("last_post_at"),
            last.author_id.label("last_poster_id"),
        )
        .outerjoin(posts, posts.c.thread_id == thread.id)
        # The last post is the highest-numbered: a seek on uq_posts_thread_number.
        .outerjoin(last, (last.thread_id == thread.id) & (last.number == posts.c.last_number))
        .subquery("actual_threads")
    )


def _user_actuals() -> Subquery:
    user = aliased(User)
    posts = (
        select(Post.author_id, func.count(Post.id).label("n")).group_by(Post.author_id).subquery()
    )
    unread = (
        select(Notification.user_id, func.count(Notification.id).label("n"))
        .where(Notification.read_at.is_(None))
        .group_by(Notification.user_id)
        .subquery()
    )
    return (
        select(
            user.id,
            func.coalesce(posts.c.n, 0).label("post_count"),
            func.coalesce(unread.c.n, 0).label("unread_notifications"),
        )
        .outerjoin(posts, posts.c.author_id == user.id)
        .outerjoin(unread, unread.c.user_id == user.id)
        .subquery("actual_users")
    )


_COUNTED: tuple[tuple[_Counted, Subquery], ...] = (
    (Board, _board_actuals()),
    (Thread, _thread_actuals()),
    (User, _user_actuals()),
)


def _counter_names(actual: Subquery) -> list[str]:
    return [column.name for column in actual.c if column.name != "id"]


def _disagrees(model: _Counted, actual: Subquery) -> ColumnElement[bool]:
    # IS DISTINCT FROM (IS NOT on SQLite): NULL against a value is a difference too.
    return or_(
        *(getattr(model, name).is_distinct_from(actual.c[name]) for name in _counter_names(actual))
    )


# ------------------------------------------------------------------------------ the recount


def differences(session: Session) -> list[Difference]:
    """Every stored counter that disagrees with the rows, by table, row id and column. Changes
    nothing; an empty list means the counters are exact."""
    found: list[Difference] = []
    for model, actual in _COUNTED:
        found += _differences_in(session, model, actual)
    return found


def repair(session: Session) -> list[Difference]:
    """Set every counter that disagrees with the rows to what they say, bump those rows'
    `cache_version`, and return what was wrong (as `differences` would have). A healthy
    database is only read: nothing is locked or written."""
    if not differences(session):
        return []
    _hold_off_writers(session)
    found: list[Difference] = []
    for model, actual in _COUNTED:
        wrong = _differences_in(session, model, actual)
        if wrong:
            session.execute(
                update(model)
                .where(model.id == actual.c.id, _disagrees(model, actual))
                .values(
                    {
                        **{name: actual.c[name] for name in _counter_names(actual)},
                        "cache_version": model.cache_version + 1,
                    }
                )
                .execution_options(synchronize_session="fetch")
            )
        found += wrong
    return found


def checked(session: Session) -> Checked:
    """How many boards, threads and users a recount covers."""
    boards, threads, users = session.execute(
        select(
            select(func.count(Board.id)).scalar_subquery(),
            select(func.count(Thread.id)).scalar_subquery(),
            select(func.count(User.id)).scalar_subquery(),
        )
    ).one()
    return Checked(boards=boards, threads=threads, users=users)


def _differences_in(session: Session, model: _Counted, actual: Subquery) -> list[Difference]:
    names = _counter_names(actual)
    rows = session.execute(
        select(
            model.id, *(getattr(model, name) for name in names), *(actual.c[name] for name in names)
        )
        .join(actual, actual.c.id == model.id)
        .where(_disagrees(model, actual))
        .order_by(model.id)
    ).all()
    found: list[Difference] = []
    for row in rows:
        row_id, values = row[0], row[1:]
        for index, name in enumerate(names):
            stored, actual_value = values[index], values[len(names) + index]
            if stored != actual_value:
                found.append(Difference(model.__tablename__, row_id, name, stored, actual_value))
    return found


def _hold_off_writers(session: Session) -> None:
    """Keep every write that moves a counter out until the caller commits: each one inserts or
    updates posts or threads (a reply, a new thread, a hide, a move, a deleted account's posts).
    Otherwise a reply committed between the recount's read and its UPDATE would be counted by
    neither. SHARE ROW EXCLUSIVE lets readers through and also keeps two repairs apart. SQLite
    needs nothing: a command's transaction holds the write lock from its start (forum/db.py)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("LOCK TABLE threads, posts IN SHARE ROW EXCLUSIVE MODE"))
