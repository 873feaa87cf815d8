"""The job that notifies whoever a new post concerns, in a fixed number of statements.

`notifications.post_added` queues `fan_out_post` for after the post's commit, so the request
costs the same whether the thread has no watchers or 5,000. The job works on sets, never per
watcher: one statement reads the post, one the few named members (the mentioned, the quoted,
the thread's starter), then three per kind that has anyone to tell: an INSERT ... SELECT that
writes or bumps every row of that kind, an UPDATE that counts the new rows into the bells, and
a SELECT that hands the written rows to the mail part (a reply with watchers only: 4 in all).
Running it twice writes nothing the second time (notifications.upsert_from).

Who hears of a post, one notification per member, the first kind that applies:
  mention (named outside quotes, code and spoilers: markup's job; at most MENTION_LIMIT per
  post, NEW_MEMBER_MENTION_LIMIT for a new member) > quote (the quoted posts' authors) >
  reply (the thread's starter) > watched_reply (the thread's watchers); an opening post tells
  its board's watchers (new_thread) instead of the thread's.
Nobody hears of: their own post; a post they may not read (a hidden post or thread reaches only
the board's moderators; a deleted post nobody); anything from a member they muted; a reply or
new thread from a thread or board they muted (mentions and quotes still reach them there); a
post they have already read past; and banned or deleted accounts hear nothing. A thread level
the member chose (watching) beats their board's mute; auto-watch doesn't.

An edit that adds mentions or quotes (notifications.post_edited) runs the same job with
`edited`: only the members it newly names, by mention or quote, are told (also when they had
read the post before: it didn't name them then); watchers and the starter heard of the post
when it was written."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import ColumnElement, Select, and_, exists, false, or_, select, true
from sqlalchemy.orm import Session

from forum.conversation import notifications
from forum.db import db_session
from forum.discussion.antispam import _is_new_member
from forum.models import (
    BoardModerator,
    BoardState,
    MemberMute,
    Notification,
    NotificationKind,
    Post,
    Role,
    Thread,
    ThreadState,
    User,
    WatchLevel,
    utcnow,
)
from forum.platform import freshness, jobs
from forum.platform.text import identity_key

# "at most 10 mentions per post notified (more render as links only)" (issue 13).
MENTION_LIMIT = 10
# A member in their first day (antispam's rule) can't page a crowd by writing names.
NEW_MEMBER_MENTION_LIMIT = 2
# More quotes than this in one post notify the first ones only.
QUOTE_LIMIT = 10
# Names looked up per post: the first ones written (more can't be notified anyway).
NAMES_LOOKED_UP = 50


@dataclass(frozen=True, slots=True)
class NewPost:
    """What the fan-out needs to know about the post, read in one statement."""

    id: int
    number: int
    thread_id: int
    board_id: int
    author_id: int | None
    starter_id: int | None
    hidden: bool  # the post or its thread: only the board's moderators may read it
    author: User | None


@jobs.task(
    retries=3,
    retry_delay=30,
    backoff=2,
    summary=lambda post_id, *_: f"post={post_id}",
)
def fan_out_post(
    post_id: int, mention_names: list[str], quoted_post_ids: list[int], edited: bool = False
) -> None:
    """The job: notify whoever post `post_id` concerns, and commit. `edited`: the names and
    quotes an edit added (notifications.post_edited); nobody else hears of it again."""
    session = db_session()
    fan_out(session, post_id, mention_names, quoted_post_ids, edited=edited)
    session.commit()


def fan_out(
    session: Session,
    post_id: int,
    mention_names: Sequence[str],
    quoted_post_ids: Sequence[int],
    now: datetime | None = None,
    *,
    edited: bool = False,
) -> int:
    """Write the notifications post `post_id` causes (not committed); how many rows were
    written or bumped. A deleted or missing post tells nobody. `edited`: an edit added these
    mentions and quotes: only those are told (the watchers and the thread's starter were told
    when it was posted), also when they had read the post before the edit named them."""
    post = _load(session, post_id)
    if post is None:
        return 0
    freshness.private(session)
    now = now or utcnow()
    named = _named_members(session, post, mention_names, quoted_post_ids, edited=edited)
    told: set[int] = set()
    written = 0
    for kind in (NotificationKind.MENTION, NotificationKind.QUOTE, NotificationKind.REPLY):
        chosen = [user_id for user_id in named.get(kind, ()) if user_id not in told]
        if chosen:
            written += _write(session, post, kind, select(User.id).where(User.id.in_(chosen)), now)
            told.update(chosen)
    if edited:
        return written
    if post.number == 1:
        board_watchers = select(BoardState.user_id).where(
            BoardState.board_id == post.board_id, BoardState.level == WatchLevel.WATCHING.value
        )
        watchers = _eligible(post, NotificationKind.NEW_THREAD, board_watchers, told)
        written += _write(session, post, NotificationKind.NEW_THREAD, watchers, now)
    else:
        thread_watchers = select(ThreadState.user_id).where(
            ThreadState.thread_id == post.thread_id,
            ThreadState.level == WatchLevel.WATCHING.value,
        )
        watchers = _eligible(post, NotificationKind.WATCHED_REPLY, thread_watchers, told)
        written += _write(session, post, NotificationKind.WATCHED_REPLY, watchers, now)
    return written


def _load(session: Session, post_id: int) -> NewPost | None:
    row = session.execute(
        select(Post, Thread.board_id, Thread.author_id, Thread.is_hidden, User)
        .join(Thread, Thread.id == Post.thread_id)
        .outerjoin(User, User.id == Post.author_id)
        .where(Post.id == post_id)
    ).first()
    if row is None:
        return None
    post, board_id, starter_id, thread_hidden, author = row
    if post.is_deleted:
        return None
    return NewPost(
        id=post.id,
        number=post.number,
        thread_id=post.thread_id,
        board_id=board_id,
        author_id=post.author_id,
        starter_id=starter_id,
        hidden=bool(post.is_hidden or thread_hidden),
        author=author,
    )


# ------------------------------------------------------------------------------ who


def _named_members(
    session: Session,
    post: NewPost,
    mention_names: Sequence[str],
    quoted_post_ids: Sequence[int],
    *,
    edited: bool = False,
) -> dict[NotificationKind, list[int]]:
    """The members the post names, by kind (before precedence): mentioned ones in the order
    written (capped), quoted posts' authors, the thread's starter (not for an edit). One
    statement, which also applies every rule of the module docstring that concerns one member
    (for an edit, all but "read past it": the post didn't name them when they read it)."""
    keys = list(dict.fromkeys(identity_key(name) for name in mention_names[:NAMES_LOOKED_UP]))
    keys = [key for key in keys if key]
    quoted = list(dict.fromkeys(int(i) for i in quoted_post_ids))[:QUOTE_LIMIT]
    # An opening post has no starter to tell, nor a reply by the starter.
    starter = post.starter_id if post.number > 1 and post.starter_id != post.author_id else None
    if edited:
        starter = None
    if not keys and not quoted and starter is None:
        return {}
    quoted_authors = select(Post.author_id).where(Post.id.in_(quoted))
    named: list[ColumnElement[bool]] = [User.username_key.in_(keys), User.id.in_(quoted_authors)]
    if starter is not None:
        named.append(User.id == starter)
    rows = session.execute(
        select(
            User.id,
            User.username_key,
            User.id.in_(quoted_authors).label("quoted"),
            _mutes_thread_or_board(post).label("mutes_thread"),
        ).where(or_(*named), *_may_be_told(post, read_past_counts=not edited))
    ).all()
    by_key = {row.username_key: row.id for row in rows}
    mentioned = [by_key[key] for key in keys if key in by_key][: _mention_limit(post)]
    return {
        NotificationKind.MENTION: mentioned,
        NotificationKind.QUOTE: [row.id for row in rows if row.quoted],
        NotificationKind.REPLY: [
            row.id for row in rows if row.id == starter and not row.mutes_thread
        ],
    }


def _mention_limit(post: NewPost) -> int:
    config = current_app.config
    if (
        post.author is not None
        and config.get("RATE_LIMITS_ENABLED", True)
        and _is_new_member(post.author, dict(config))
    ):
        return NEW_MEMBER_MENTION_LIMIT
    return MENTION_LIMIT


def _eligible(
    post: NewPost, kind: NotificationKind, candidates: Select[Any], told: set[int]
) -> Select[Any]:
    """The members among `candidates` (a SELECT of user ids) a watcher's kind may reach: the
    rules for everyone, their thread or board not muted, not told of this post by a kind
    that comes first."""
    conditions = [User.id.in_(candidates), *_may_be_told(post), ~_mutes_thread_or_board(post)]
    if told:
        conditions.append(User.id.not_in(sorted(told)))
    return select(User.id).where(*conditions)


def _may_be_told(post: NewPost, *, read_past_counts: bool = True) -> list[ColumnElement[bool]]:
    """Conditions on User for anyone this post may notify (`read_past_counts`: not those who
    read past it already)."""
    conditions: list[ColumnElement[bool]] = [User.is_banned == false()]
    if post.author_id is not None:
        conditions += [
            User.id != post.author_id,
            ~exists().where(MemberMute.user_id == User.id, MemberMute.muted_id == post.author_id),
        ]
    if read_past_counts:
        # Already read past it (a member following the thread live).
        conditions.append(
            ~exists().where(
                ThreadState.user_id == User.id,
                ThreadState.thread_id == post.thread_id,
                ThreadState.last_read_number >= post.number,
            )
        )
    if post.hidden:
        conditions.append(_moderates_board(post.board_id))
    return conditions


def _moderates_board(board_id: int) -> ColumnElement[bool]:
    """User moderates the board (permissions.moderates, as SQL): an admin, a moderator of
    every board (no board rows) or of this one; never while suspended or banned."""
    now = utcnow()
    own_boards = exists().where(BoardModerator.user_id == User.id)
    this_board = exists().where(
        BoardModerator.user_id == User.id, BoardModerator.board_id == board_id
    )
    return and_(
        or_(User.suspended_until.is_(None), User.suspended_until <= now),
        or_(
            User.role == Role.ADMIN.value,
            and_(User.role == Role.MODERATOR.value, or_(~own_boards, this_board)),
        ),
    )


def _mutes_thread_or_board(post: NewPost) -> ColumnElement[bool]:
    """User muted the post's thread, or its board without having chosen to watch this thread:
    a level the member picked for one thread beats the board's (auto-watch is no choice, so a
    thread they only replied to stays silent on a muted board)."""
    return or_(
        exists().where(
            ThreadState.user_id == User.id,
            ThreadState.thread_id == post.thread_id,
            ThreadState.level == WatchLevel.MUTED.value,
        ),
        and_(
            exists().where(
                BoardState.user_id == User.id,
                BoardState.board_id == post.board_id,
                BoardState.level == WatchLevel.MUTED.value,
            ),
            ~exists().where(
                ThreadState.user_id == User.id,
                ThreadState.thread_id == post.thread_id,
                ThreadState.level_chosen == true(),
                ThreadState.level == WatchLevel.WATCHING.value,
            ),
        ),
    )


# ------------------------------------------------------------------------------ writing


def _write(
    session: Session, post: NewPost, kind: NotificationKind, recipients: Select[Any], now: datetime
) -> int:
    """Three statements for every member `recipients` names: write or bump their rows, count
    the new ones into their bells, and hand what was written to the mail part. How many rows."""
    session.execute(
        notifications.upsert_from(
            session,
            recipients,
            kind=kind,
            thread_id=post.thread_id,
            post_id=post.id,
            actor_id=post.author_id,
            detail="",
            now=now,
        )
    )
    notifications.count_new_rows(session, recipients, kind=kind, thread_id=post.thread_id, now=now)
    written = session.execute(
        select(Notification.id, User)
        .join(User, User.id == Notification.user_id)
        .where(
            Notification.user_id.in_(recipients.correlate(None)),
            notifications.written_now(kind, post.thread_id, now),
        )
    ).all()
    for notification_id, recipient in written:
        notifications.tell_mail(session, notification_id, recipient, kind)
    return len(written)
