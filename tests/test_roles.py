"""The role fixtures of tests/conftest.py are who they say they are: each is checked against
the site itself, so a test that names `board_moderator` or `suspended_member` really acts as one.
"""

from __future__ import annotations

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from forum.models import Board, Post, Thread, User
from tests.conftest import PASSWORD, Browserish, DeletedAccount, Factory, LoginAs, log_count, who


def post_count(db: Session) -> int:
    return db.scalar(select(func.count(Post.id))) or 0


def test_visitor_is_nobody_and_is_sent_to_log_in(visitor: Browserish) -> None:
    assert who(visitor) is None
    assert visitor.get("/settings").status_code == 302


def test_member_posts_and_may_not_moderate(
    login_as: LoginAs, member: User, make: Factory, db: Session
) -> None:
    thread = make.thread()
    browser = login_as(member)

    replied = browser.post(f"/t/{thread.id}/reply", {"body": "Agreed"}, page="/settings")

    assert who(browser) == member.username
    assert replied.status_code == 302
    assert [browser.get(url).status_code for url in ("/mod", "/admin")] == [403, 403]


def test_hostile_member_may_not_touch_the_members_post(
    login_as: LoginAs, member: User, hostile_member: User, make: Factory, db: Session
) -> None:
    thread = make.thread(author=member, body="Mel's opening post")
    post_id = thread.last_post_id
    mallory = login_as(hostile_member)

    edit = mallory.post(f"/p/{post_id}/edit", {"body": "Mallory was here"}, page="/settings")
    delete = mallory.post(f"/p/{post_id}/delete", page="/settings")
    lock = mallory.post(
        f"/mod/threads/{thread.id}", {"action": "lock", "reason": "mine"}, page="/settings"
    )

    assert (edit.status_code, delete.status_code, lock.status_code) == (403, 403, 403)
    db.expire_all()
    post = db.get(Post, post_id)
    assert post is not None and post.source == "Mel's opening post" and not post.is_deleted
    assert log_count(db) == 0


def test_board_moderator_moderates_one_board_only(
    login_as: LoginAs, board_moderator: User, moderated_board: Board, make: Factory, db: Session
) -> None:
    own = make.thread(board=moderated_board)
    other = make.thread(board=make.board("severance"))
    morgan = login_as(board_moderator)

    locked = morgan.post(
        f"/mod/threads/{own.id}", {"action": "lock", "reason": "Cooling off"}, page="/mod"
    )
    refused = morgan.post(
        f"/mod/threads/{other.id}", {"action": "lock", "reason": "Cooling off"}, page="/mod"
    )

    assert (locked.status_code, refused.status_code) == (302, 403)
    assert morgan.get("/admin").status_code == 403
    locked_now = db.scalars(
        select(Thread.is_locked).where(Thread.id.in_([own.id, other.id])).order_by(Thread.id)
    ).all()
    assert locked_now == [True, False]


def test_global_moderator_moderates_every_board_but_is_no_admin(
    login_as: LoginAs, global_moderator: User, make: Factory, db: Session
) -> None:
    threads = [make.thread(board=make.board(slug)) for slug in ("partner-track", "severance")]
    gloria = login_as(global_moderator)

    answers = [
        gloria.post(
            f"/mod/threads/{thread.id}", {"action": "lock", "reason": "Calm"}, page="/mod"
        ).status_code
        for thread in threads
    ]

    assert answers == [302, 302]
    assert gloria.get("/admin").status_code == 403


def test_admin_reaches_the_admin_area(login_as: LoginAs, admin: User) -> None:
    assert login_as(admin).get("/admin").status_code == 200


def test_suspended_member_signs_in_and_reads_but_may_not_post(
    login_as: LoginAs, suspended_member: User, make: Factory, db: Session
) -> None:
    thread = make.thread()
    sam = login_as(suspended_member)
    before = post_count(db)

    reply = sam.post(f"/t/{thread.id}/reply", {"body": "Sneaking in"}, page="/settings")

    assert who(sam) == suspended_member.username
    assert sam.get(f"/t/{thread.id}/{thread.slug}").status_code == 200
    assert reply.status_code == 403
    assert post_count(db) == before


def test_deleted_account_is_gone_but_its_posts_stay(
    app: Flask, deleted_account: DeletedAccount, db: Session
) -> None:
    gone = deleted_account
    page = Browserish(app.test_client()).get(f"/t/{gone.thread_id}")
    stranger = Browserish(app.test_client())
    stranger.get("/login")

    assert db.scalar(select(User).where(User.username == gone.username)) is None
    assert who(gone.stale_browser) is None
    login = stranger.post("/login", {"username": gone.username, "password": PASSWORD})
    assert login.status_code == 200 and who(stranger) is None
    followed = page if page.status_code == 200 else stranger.get(page.headers["Location"])
    html = followed.get_data(as_text=True)
    assert "Posted before leaving" in html and "deleted user" in html
    assert gone.username not in html
    assert Browserish(app.test_client()).get(f"/u/{gone.username}").status_code == 404
