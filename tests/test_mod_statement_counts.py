"""The moderator and admin list pages run a fixed number of SQL statements, however many rows
they show: each test measures a page with one row, then with thirty, and pins the budget.

Budgets count the login too: loading the logged-in user is 1 statement, and 2 for moderators
(their boards). Visitors pay nothing for it. Moderators and admins also pay 1 for the header's
open-report count (forum/staff/navigation.py); members don't.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from sqlalchemy.orm import Session

from forum.discussion import posting
from forum.models import Board, ModAction, Post, Report, Role, Thread, User, utcnow
from tests.conftest import Browserish, Factory, StatementLog, browser_for, moderator_of

MEMBER_LOGIN = 1
MODERATOR_LOGIN = 2
STAFF_HEADER = 1
MODERATOR = MODERATOR_LOGIN + STAFF_HEADER
ADMIN = MEMBER_LOGIN + STAFF_HEADER


def statements_for(browser: Browserish, url: str, sql: StatementLog) -> int:
    browser.get(url)  # the first request may warm per-process caches; measure the steady state
    sql.clear()
    response = browser.get(url)
    assert response.status_code == 200, url
    return len(sql)


# ------------------------------------------------------------------------------ report queue


def report_posts(db: Session, thread: Thread, reporters: list[User], count: int) -> None:
    start = utcnow() - timedelta(hours=1)
    for n in range(count):
        post = posting.add_post(db, thread, reporters[0], f"Reported post {n}")
        db.flush()
        for reporter in reporters[1:]:
            db.add(
                Report(
                    post_id=post.id,
                    reporter_id=reporter.id,
                    reason="spam",
                    details="Selling things",
                    created_at=start + timedelta(seconds=n),
                )
            )
    db.commit()


def test_report_queue_statements_do_not_grow_with_reports(
    app: Flask, db: Session, make: Factory, sql: StatementLog
) -> None:
    board = make.board()
    thread = make.thread(board)
    reporters = [make.user() for _ in range(3)]
    global_mod = browser_for(app, moderator_of(make, db))
    scoped_mod = browser_for(app, moderator_of(make, db, board))
    admin = browser_for(app, make.user(role=Role.ADMIN))

    report_posts(db, thread, reporters, 1)
    one = [statements_for(b, "/mod/reports", sql) for b in (global_mod, scoped_mod, admin)]
    report_posts(db, thread, reporters, 29)
    thirty = [statements_for(b, "/mod/reports", sql) for b in (global_mod, scoped_mod, admin)]
    page_two = statements_for(global_mod, "/mod/reports?page=2", sql)

    # count, one page of post ids, their reports (with posts, threads, boards and reporters)
    queue = 3
    assert one == thirty == [MODERATOR + queue, MODERATOR + queue, ADMIN + queue]
    assert page_two == MODERATOR + queue


def test_dashboard_statements_are_fixed(
    app: Flask, db: Session, make: Factory, sql: StatementLog
) -> None:
    board = make.board()
    thread = make.thread(board)
    reporters = [make.user() for _ in range(2)]
    mod = moderator_of(make, db)
    browser = browser_for(app, mod)
    report_posts(db, thread, reporters, 1)
    add_log_rows(db, mod, board, thread, 1)
    one = statements_for(browser, "/mod", sql)
    report_posts(db, thread, reporters, 29)
    add_log_rows(db, mod, board, thread, 29)
    assert one == statements_for(browser, "/mod", sql) == MODERATOR + 2


# ------------------------------------------------------------------------------ moderation log


def add_log_rows(db: Session, actor: User | None, board: Board, thread: Thread, count: int) -> None:
    """Rows of every target kind (thread, post, user, board, none) and a deleted actor."""
    post = db.get(Post, thread.last_post_id)
    assert post is not None
    now = utcnow()
    for n in range(count):
        row = ModAction(
            actor_id=actor.id if actor and n % 5 else None,
            created_at=now,
            reason=f"reason {n}",
            board_id=board.id,
        )
        kind = n % 5
        if kind == 0:
            row.action, row.target_thread_id, row.target_label = "lock thread", thread.id, "T"
        elif kind == 1:
            row.action, row.target_post_id, row.target_label = "hide post", post.id, "post #1"
        elif kind == 2:
            row.action, row.target_user_id, row.target_label = "suspend user", post.author_id, "u"
            row.board_id = None
        elif kind == 3:
            row.action, row.target_board_id, row.target_label = "edit board", board.id, "B"
        else:
            row.action, row.board_id = "change settings", None
        db.add(row)
    db.commit()


def test_mod_log_statements_do_not_grow_with_rows(
    app: Flask, db: Session, make: Factory, sql: StatementLog
) -> None:
    board = make.board("severance")
    thread = make.thread(board)
    actor = make.user("mod_maria", role=Role.MODERATOR)
    visitor, admin = browser_for(app), browser_for(app, make.user(role=Role.ADMIN))
    urls = [
        "/mod/log",
        "/mod/log?board=severance&moderator=mod_maria&action=lock+thread",
        "/mod/log?page=2",
    ]

    add_log_rows(db, actor, board, thread, 1)
    one = [statements_for(visitor, url, sql) for url in urls]
    one.append(statements_for(admin, "/mod/log", sql))
    add_log_rows(db, actor, board, thread, 59)
    sixty = [statements_for(visitor, url, sql) for url in urls]
    sixty.append(statements_for(admin, "/mod/log", sql))

    log = 3  # count, one page of rows (with actors and boards), the boards for the filter
    assert one == sixty == [log, log, log, ADMIN + log]


# ------------------------------------------------------------------------------ admin


def test_admin_user_search_statements_do_not_grow_with_users(
    app: Flask, db: Session, make: Factory, sql: StatementLog
) -> None:
    admin = browser_for(app, make.user("admin_ada", role=Role.ADMIN))
    make.user("fan_first")
    one = [statements_for(admin, url, sql) for url in ("/admin/users", "/admin/users?q=fan")]
    for n in range(29):
        make.user(f"fan_{n}")
    thirty = [statements_for(admin, url, sql) for url in ("/admin/users", "/admin/users?q=fan")]
    assert one == thirty == [ADMIN + 2, ADMIN + 2]  # count, one page of users


def test_admin_user_page_statements_are_fixed(
    app: Flask, db: Session, make: Factory, sql: StatementLog
) -> None:
    admin_user = make.user("admin_ada", role=Role.ADMIN)
    admin = browser_for(app, admin_user)
    fan = make.user("fan_busy")
    board = make.board()
    thread = make.thread(board, author=fan)
    url = "/admin/users/fan_busy"

    def activity(count: int) -> None:
        for n in range(count):
            post = posting.add_post(db, thread, fan, f"Post {n}")
            target = posting.add_post(db, thread, admin_user, f"Other {n}")
            db.flush()
            db.add(
                Report(post_id=target.id, reporter_id=fan.id, reason="spam", created_at=utcnow())
            )
            db.add(
                ModAction(
                    actor_id=admin_user.id,
                    action="suspend user",
                    created_at=utcnow(),
                    target_user_id=fan.id,
                    target_label=fan.username,
                    reason=f"r{post.id}",
                )
            )
        db.commit()

    activity(1)
    one = statements_for(admin, url, sql)
    activity(15)
    # user, their moderated boards, posts, reports filed, history, all boards (for the role form)
    assert one == statements_for(admin, url, sql) == ADMIN + 6


# ------------------------------------------------------------------------------ member pages


def test_my_reports_and_revisions_statements_are_fixed(
    app: Flask,
    db: Session,
    make: Factory,
    sql: StatementLog,
    member: User,
    member_client: Browserish,
) -> None:
    thread = make.thread(author=make.user())
    target = db.get(Post, thread.last_post_id)
    assert target is not None

    def reports(count: int) -> None:
        for _ in range(count):
            post = posting.add_post(db, thread, make.user(), "Something")
            db.flush()
            db.add(
                Report(post_id=post.id, reporter_id=member.id, reason="spam", created_at=utcnow())
            )
        db.commit()

    def edits(count: int) -> None:
        for n in range(count):
            posting.edit_post(db, target, f"Version {n}", editor=member)
        db.commit()

    reports(1)
    edits(1)
    visitor = browser_for(app)
    one = [
        statements_for(member_client, "/reports/mine", sql),
        statements_for(visitor, f"/p/{target.id}/revisions", sql),
    ]
    reports(29)
    edits(9)
    thirty = [
        statements_for(member_client, "/reports/mine", sql),
        statements_for(visitor, f"/p/{target.id}/revisions", sql),
    ]
    # My reports: count and one page (with posts and threads). Revisions: post, versions.
    assert one == thirty == [MEMBER_LOGIN + 2, 2]
