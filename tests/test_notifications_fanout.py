"""The fan-out job (forum/conversation/fan_out.py) on its own: a fixed number of statements
whatever the number of watchers, idempotent when retried, precedence between kinds, the
mention limits, and who never hears of a post (hidden posts and threads, banned accounts)."""

from __future__ import annotations

from collections.abc import Sequence

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from forum.conversation import fan_out, notifications
from forum.models import (
    BoardModerator,
    BoardState,
    Notification,
    NotificationKind,
    Post,
    Role,
    Thread,
    ThreadState,
    User,
    WatchLevel,
)
from tests.conftest import Factory, StatementLog, fresh


def watched_thread(make: Factory, db: Session, watchers: int) -> tuple[Thread, list[User]]:
    """A thread by its starter with `watchers` other members watching it."""
    thread = make.thread(author=make.user())
    fans = [make.user() for _ in range(watchers)]
    db.add_all(
        ThreadState(user_id=fan.id, thread_id=thread.id, level=WatchLevel.WATCHING.value)
        for fan in fans
    )
    db.commit()
    return thread, fans


def told(db: Session, kind: NotificationKind | None = None) -> list[Notification]:
    db.expire_all()
    query = select(Notification).order_by(Notification.user_id)
    if kind is not None:
        query = query.where(Notification.kind == kind.value)
    return list(db.scalars(query))


def bells(db: Session, users: list[User]) -> list[int]:
    db.expire_all()
    return [
        db.scalar(select(User.unread_notifications).where(User.id == user.id)) or 0
        for user in users
    ]


def run(
    app: Flask, db: Session, post: Post, mentions: Sequence[str] = (), quoted: Sequence[int] = ()
) -> int:
    """The job's work on the test's session, committed as the job would."""
    with app.app_context():
        written = fan_out.fan_out(db, post.id, list(mentions), list(quoted))
        db.commit()
    return written


def test_the_fan_out_costs_the_same_for_1_and_200_watchers(
    app: Flask, make: Factory, db: Session, sql: StatementLog
) -> None:
    counts = []
    for watchers in (1, 200):
        thread, fans = watched_thread(make, db, watchers)
        # By the starter, so nobody is told at once by mail (watched threads go in the digest):
        # the count is the fan-out's own.
        starter = db.get(User, thread.author_id)
        assert starter is not None
        post = make.reply(thread, starter)
        sql.clear()
        written = run(app, db, post)
        counts.append(len(sql))
        assert written == watchers
        assert bells(db, fans) == [1] * watchers

    # The post; the watchers' upsert; the bells; the written rows handed to the mail part.
    assert counts[0] == counts[1] == 4, counts


def test_a_retried_job_writes_nothing_twice(app: Flask, make: Factory, db: Session) -> None:
    thread, fans = watched_thread(make, db, 3)
    post = make.reply(thread, make.user())

    assert run(app, db, post) == 4  # three watchers and the starter
    before = [(row.user_id, row.kind, row.count) for row in told(db)]

    assert run(app, db, post) == 0
    with app.app_context():
        fan_out.fan_out_post.func(post.id, [], [])  # the job itself, as Huey retries it

    assert [(row.user_id, row.kind, row.count) for row in told(db)] == before
    assert bells(db, fans) == [1, 1, 1]


def test_a_retry_after_reading_does_not_notify_again(
    app: Flask, make: Factory, db: Session
) -> None:
    thread, fans = watched_thread(make, db, 1)
    post = make.reply(thread, make.user())
    run(app, db, post)
    for row in told(db):
        row.read_at = row.created_at
    fans[0].unread_notifications = 0
    db.commit()

    run(app, db, post)

    assert len(told(db)) == 2  # the starter's and the watcher's, both read
    assert bells(db, fans) == [0]


def test_later_posts_bump_and_older_ones_dont(app: Flask, make: Factory, db: Session) -> None:
    thread, fans = watched_thread(make, db, 1)
    first = make.reply(thread, make.user())
    second = make.reply(thread, make.user())

    run(app, db, first)
    run(app, db, second)
    run(app, db, first)  # a late retry of the first: not newer than the row's latest

    (row,) = told(db, NotificationKind.WATCHED_REPLY)
    assert (row.count, row.post_id, row.latest_post_id) == (2, first.id, second.id)
    assert bells(db, fans) == [1]


def test_precedence_one_notification_per_member(app: Flask, make: Factory, db: Session) -> None:
    starter = make.user("starter_sue")
    thread = make.thread(author=starter)
    quoted_author = make.user("quoted_quinn")
    quoted = make.reply(thread, quoted_author, "Quotable")
    watcher = make.user("watcher_wes")
    db.add_all(
        ThreadState(user_id=user.id, thread_id=thread.id, level=WatchLevel.WATCHING.value)
        for user in (starter, quoted_author, watcher)
    )
    db.commit()
    post = make.reply(thread, make.user("poster_pat"), "@watcher_wes look")

    run(app, db, post, ["watcher_wes", "STARTER_SUE"], [quoted.id])

    kinds = {row.user_id: row.kind for row in told(db)}
    assert kinds == {
        watcher.id: NotificationKind.MENTION.value,
        starter.id: NotificationKind.MENTION.value,
        quoted_author.id: NotificationKind.QUOTE.value,
    }


def test_at_most_ten_mentions_and_two_for_a_new_member(
    app: Flask, make: Factory, db: Session
) -> None:
    names = [make.user(f"named_{n:02}").username for n in range(12)]
    thread = make.thread(author=make.user())
    veteran = make.user("veteran_val")
    veteran.is_trusted = True
    newcomer = make.user("newcomer_ned")
    db.commit()

    run(app, db, make.reply(thread, veteran, "many names"), names)
    mentioned = {row.user_id for row in told(db, NotificationKind.MENTION)}
    assert len(mentioned) == 10

    app.config["RATE_LIMITS_ENABLED"] = True  # antispam's new-member rules apply
    other = make.thread(author=make.user())
    run(app, db, make.reply(other, newcomer, "many names"), list(reversed(names)))
    rows = [row for row in told(db, NotificationKind.MENTION) if row.thread_id == other.id]
    assert len(rows) == 2
    by_name = {user.id: user.username for user in db.scalars(select(User))}
    assert sorted(by_name[row.user_id] for row in rows) == ["named_10", "named_11"]


def test_a_hidden_post_reaches_only_the_boards_moderators(
    app: Flask, make: Factory, db: Session
) -> None:
    board = make.board()
    thread = make.thread(board=board, author=make.user())
    member = make.user("member_watching")
    here = make.user("mod_here", role=Role.MODERATOR)
    elsewhere = make.user("mod_elsewhere", role=Role.MODERATOR)
    db.add(BoardModerator(user_id=here.id, board_id=board.id))
    db.add(BoardModerator(user_id=elsewhere.id, board_id=make.board().id))
    for user in (member, here, elsewhere):
        db.add(ThreadState(user_id=user.id, thread_id=thread.id, level=WatchLevel.WATCHING.value))
    post = make.reply(thread, make.user())
    post.is_hidden = True
    db.commit()

    run(app, db, post)

    assert {row.user_id for row in told(db, NotificationKind.WATCHED_REPLY)} == {here.id}
    assert not [row for row in told(db) if row.user_id == thread.author_id]


def test_a_deleted_post_and_a_banned_watcher_hear_nothing(
    app: Flask, make: Factory, db: Session
) -> None:
    thread, fans = watched_thread(make, db, 2)
    fans[0].is_banned = True
    db.commit()
    post = make.reply(thread, make.user())

    run(app, db, post)
    assert {row.user_id for row in told(db, NotificationKind.WATCHED_REPLY)} == {fans[1].id}

    deleted = make.reply(thread, make.user())
    deleted.is_deleted = True
    db.commit()
    assert run(app, db, deleted) == 0


def test_a_watcher_who_read_past_it_isnt_told(app: Flask, make: Factory, db: Session) -> None:
    thread, fans = watched_thread(make, db, 2)
    post = make.reply(thread, make.user())
    state = db.get(ThreadState, (fans[0].id, thread.id))
    assert state is not None
    state.last_read_number = post.number
    db.commit()

    run(app, db, post)

    assert {row.user_id for row in told(db, NotificationKind.WATCHED_REPLY)} == {fans[1].id}


def test_the_author_is_never_told_of_their_own_post(app: Flask, make: Factory, db: Session) -> None:
    author = make.user("self_sam")
    thread = make.thread(author=author)
    db.add(ThreadState(user_id=author.id, thread_id=thread.id, level=WatchLevel.WATCHING.value))
    db.commit()
    post = make.reply(thread, author, "@self_sam")

    assert run(app, db, post, ["self_sam"], [thread.last_post_id or 0]) == 0
    fresh(db, author)
    assert author.unread_notifications == 0
    assert db.scalar(select(func.count(Notification.id))) == 0


def test_a_thread_the_member_chose_to_watch_beats_their_board_mute(
    app: Flask, make: Factory, db: Session
) -> None:
    thread = make.thread(author=make.user())
    chose = make.user("chose_to_watch")
    auto = make.user("auto_watched")
    for user, chosen in ((chose, True), (auto, False)):
        db.add(BoardState(user_id=user.id, board_id=thread.board_id, level=WatchLevel.MUTED.value))
        db.add(
            ThreadState(
                user_id=user.id,
                thread_id=thread.id,
                level=WatchLevel.WATCHING.value,
                level_chosen=chosen,
            )
        )
    db.commit()

    run(app, db, make.reply(thread, make.user()))

    # The chosen level wins; auto-watch (never chosen) stays silenced by the board's mute.
    assert {row.user_id for row in told(db, NotificationKind.WATCHED_REPLY)} == {chose.id}
    assert bells(db, [chose, auto]) == [1, 0]


def test_an_edit_tells_only_the_members_it_newly_names(
    app: Flask, make: Factory, db: Session
) -> None:
    thread, fans = watched_thread(make, db, 1)
    quoted_author = make.user("quoted_quill")
    quoted = make.reply(thread, quoted_author, "Quotable")
    named = make.user("named_nia")
    post = make.reply(thread, make.user("editor_ed"), "First draft")
    run(app, db, post)  # as posted: the starter (reply) and the watcher (watched reply)
    as_posted = [(row.user_id, row.kind, row.count) for row in told(db)]
    # Since then: a member who watches now, and the one the edit names, who read past it.
    late = make.user("late_watcher")
    db.add(ThreadState(user_id=late.id, thread_id=thread.id, level=WatchLevel.WATCHING.value))
    db.add(ThreadState(user_id=named.id, thread_id=thread.id, last_read_number=post.number))
    db.commit()

    with app.app_context():
        notifications.post_edited(db, post, ["named_nia"], [quoted.id])
        db.commit()  # the job is queued at the commit (run at once in tests)

    rows = told(db)
    added = {
        (named.id, NotificationKind.MENTION.value, 1),
        (quoted_author.id, NotificationKind.QUOTE.value, 1),
    }
    # The watchers and the starter aren't told again (the late watcher not at all).
    assert {(row.user_id, row.kind, row.count) for row in rows} == set(as_posted) | added
    assert bells(db, [named, quoted_author, late, fans[0]]) == [1, 1, 0, 1]

    # Nothing added, nothing queued; a retried edit job writes nothing twice.
    with app.app_context():
        notifications.post_edited(db, post, [], [])
        db.commit()
        fan_out.fan_out_post.func(post.id, ["named_nia"], [quoted.id], True)
    assert len(told(db)) == len(rows)
    assert bells(db, [named, quoted_author]) == [1, 1]
