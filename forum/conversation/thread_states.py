"""A member's row for one thread (ThreadState): how far they have read and how closely they
follow it. One upsert per change, the same statement on SQLite and PostgreSQL; never commits.

Posting moves both at once (`after_posting`): your own post is read, and the thread is watched
when the member auto-watches (unless they chose a level for it themselves)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import case, func
from sqlalchemy.orm import Session

from forum import db
from forum.models import ThreadState, User, WatchLevel


def _greatest(session: Session) -> Any:
    """The larger of two values: SQLite's two-argument max(), PostgreSQL's greatest()."""
    return func.max if session.get_bind().dialect.name == "sqlite" else func.greatest


def after_posting(session: Session, author: User, thread_id: int, number: int) -> None:
    """`author` just wrote post `number` of the thread: it counts as read, and the thread is
    watched if they auto-watch and never chose its level. One statement."""
    level = WatchLevel.WATCHING if author.auto_watch else WatchLevel.NORMAL
    insert = db.upsert(session, ThreadState).values(
        user_id=author.id, thread_id=thread_id, last_read_number=number, level=level.value
    )
    excluded = insert.excluded
    session.execute(
        insert.on_conflict_do_update(
            index_elements=[ThreadState.user_id, ThreadState.thread_id],
            set_={
                "last_read_number": _greatest(session)(
                    ThreadState.last_read_number, excluded.last_read_number
                ),
                # Auto-watch only raises a level nobody chose (never un-mutes a thread).
                "level": case(
                    (ThreadState.level_chosen, ThreadState.level),
                    (ThreadState.level == WatchLevel.MUTED.value, ThreadState.level),
                    (excluded.level == WatchLevel.WATCHING.value, excluded.level),
                    else_=ThreadState.level,
                ),
            },
        )
    )


def upsert_read_mark(session: Session, user_id: int, thread_id: int, number: int) -> None:
    """The member has read the thread up to post `number` (never moves back). One statement."""
    insert = db.upsert(session, ThreadState).values(
        user_id=user_id, thread_id=thread_id, last_read_number=number
    )
    session.execute(
        insert.on_conflict_do_update(
            index_elements=[ThreadState.user_id, ThreadState.thread_id],
            set_={
                "last_read_number": _greatest(session)(
                    ThreadState.last_read_number, insert.excluded.last_read_number
                )
            },
        )
    )


def set_level(session: Session, user_id: int, thread_id: int, level: WatchLevel) -> None:
    """The member chose how closely to follow the thread. One statement."""
    insert = db.upsert(session, ThreadState).values(
        user_id=user_id, thread_id=thread_id, level=level.value, level_chosen=True
    )
    session.execute(
        insert.on_conflict_do_update(
            index_elements=[ThreadState.user_id, ThreadState.thread_id],
            set_={"level": level.value, "level_chosen": True},
        )
    )
