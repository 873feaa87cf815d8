"""Notifications end to end through HTTP: a post by one member (jobs run in the request in
tests), the other member's bell in the header's bytes and their /notifications list; every
kind, grouping, marking read (one, all, by reading the thread), IDOR and CSRF, and what the
list must never show (hidden and deleted posts, hidden threads, masked titles)."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from forum.conversation import notifications
from forum.models import (
    BoardState,
    MemberMute,
    Notification,
    NotificationKind,
    Report,
    Thread,
    ThreadState,
    User,
    WatchLevel,
    utcnow,
)
from tests.conftest import Browserish, Factory, LoginAs, StatementLog, file_report, fresh
from tests.notification_helpers import (
    bell,
    latest_post,
    notifications_page,
    reply,
    rows_of,
    start_thread,
    unread_of,
)

TITLE = "Will Partner Track get a season 2?"


@pytest.fixture
def alice(make: Factory) -> User:
    return make.user("alice_a")


@pytest.fixture
def bob(make: Factory) -> User:
    return make.user("bob_b")


def started_by(db: Session, login_as: LoginAs, make: Factory, author: User) -> Thread:
    return start_thread(db, login_as(author), make.board(), TITLE, "Hoping for it.")


# ------------------------------------------------------------------------------ each kind


def test_a_reply_tells_the_threads_starter(
    db: Session, make: Factory, login_as: LoginAs, alice: User, bob: User
) -> None:
    thread = started_by(db, login_as, make, alice)
    a = login_as(alice)
    assert bell(a) == 0

    reply(login_as(bob), thread, "Renewed, surely.")

    assert bell(a) == 1
    page = notifications_page(a)
    (row,) = rows_of(db, alice)
    opens = f"/notifications/{row.id}/go"
    assert f'bob_b replied to your thread <a href="{opens}"><em>{TITLE}</em></a>' in page
    assert "Unread" in page
    assert row.kind == NotificationKind.REPLY.value
    # Opening it goes to the reply and clears it.
    assert a.get(opens).headers["Location"] == f"/p/{latest_post(db, thread).id}"
    assert bell(a) == 0


def test_a_reply_tells_the_watchers_grouped_one_row_per_thread(
    db: Session, make: Factory, login_as: LoginAs, alice: User, bob: User
) -> None:
    carol = make.user("carol_c")
    thread = started_by(db, login_as, make, alice)
    reply(login_as(carol), thread, "Carol was here (and now watches).")
    b = login_as(bob)

    for n in range(3):
        reply(b, thread, f"Reply {n} from bob")

    c = login_as(carol)
    assert bell(c) == 1
    rows = rows_of(db, carol)
    assert len(rows) == 1  # the flood bound: one unread row per thread and kind
    assert rows[0].count == 3 and rows[0].kind == NotificationKind.WATCHED_REPLY.value
    first = latest_post(db, thread).number - 2
    page = notifications_page(c)
    assert f'3 new replies in <a href="/notifications/{rows[0].id}/go"><em>{TITLE}</em></a>' in page
    assert rows[0].post_id is not None
    # The link goes to the first of the three.
    assert db.scalar(select(Thread.id).where(Thread.id == thread.id)) == thread.id
    assert first == 3


def test_a_mention_tells_the_member_named(
    db: Session, make: Factory, login_as: LoginAs, alice: User, bob: User
) -> None:
    dave = make.user("Dave_D")
    thread = started_by(db, login_as, make, alice)

    reply(login_as(bob), thread, "What do you think, @dave_d?")

    assert bell(login_as(dave)) == 1
    assert [row.kind for row in rows_of(db, dave)] == [NotificationKind.MENTION.value]
    assert "bob_b mentioned you in" in notifications_page(login_as(dave))


def test_a_mention_outranks_the_reply_to_the_starter(
    db: Session, make: Factory, login_as: LoginAs, alice: User, bob: User
) -> None:
    thread = started_by(db, login_as, make, alice)

    reply(login_as(bob), thread, "@alice_a you called it.")

    assert [row.kind for row in rows_of(db, alice)] == [NotificationKind.MENTION.value]
    assert unread_of(db, alice) == 1


def test_a_quote_tells_the_quoted_posts_author(
    db: Session, make: Factory, login_as: LoginAs, alice: User, bob: User
) -> None:
    erin = make.user("erin_e")
    thread = started_by(db, login_as, make, alice)
    reply(login_as(erin), thread, "The goats did it.")
    erins = latest_post(db, thread)
    # Erin replied, so she watches the thread: the quote outranks her watched reply.
    reply(login_as(bob), thread, f"> [erin_e wrote](/p/{erins.id}):\n> The goats did it.\n\nNo!")

    assert [row.kind for row in rows_of(db, erin)] == [NotificationKind.QUOTE.value]
    assert "bob_b quoted you in" in notifications_page(login_as(erin))


def test_a_new_thread_tells_the_boards_watchers(
    db: Session, make: Factory, login_as: LoginAs, alice: User, bob: User
) -> None:
    board = make.board("watched-show")
    db.add(BoardState(user_id=alice.id, board_id=board.id, level=WatchLevel.WATCHING.value))
    alice.has_conversation_settings = True
    db.commit()

    start_thread(db, login_as(bob), board, "Casting news thread", "Who is in?")

    a = login_as(alice)
    assert bell(a) == 1
    assert "bob_b started a new thread: <a" in notifications_page(a)
    assert [row.kind for row in rows_of(db, alice)] == [NotificationKind.NEW_THREAD.value]


def test_a_moderator_hiding_a_post_tells_its_author(
    db: Session,
    make: Factory,
    login_as: LoginAs,
    alice: User,
    bob: User,
    global_moderator: User,
) -> None:
    thread = started_by(db, login_as, make, alice)
    reply(login_as(bob), thread, "Something rude")
    post = latest_post(db, thread)
    mod = login_as(global_moderator)

    response = mod.post(
        f"/mod/posts/{post.id}/hide",
        {"reason": "Be kind"},
        page=f"/mod/posts/{post.id}/hide/confirm",
    )
    assert response.status_code == 302

    b = login_as(bob)
    assert bell(b) == 1
    page = notifications_page(b)
    assert f"A moderator hid your post #{post.number} (reason: Be kind) in" in page
    assert TITLE in page


def test_a_moderator_deleting_a_post_tells_its_author_but_an_author_deleting_tells_nobody(
    db: Session,
    make: Factory,
    login_as: LoginAs,
    alice: User,
    bob: User,
    global_moderator: User,
) -> None:
    thread = started_by(db, login_as, make, alice)
    b = login_as(bob)
    reply(b, thread, "Off-topic rant")
    rant = latest_post(db, thread)
    reply(b, thread, "Never mind me")
    own = latest_post(db, thread)
    page = f"/t/{thread.id}/{thread.slug}"

    assert login_as(global_moderator).post(f"/p/{rant.id}/delete", {}, page=page).status_code == 302
    assert b.post(f"/p/{own.id}/delete", {}, page=page).status_code == 302

    assert bell(b) == 1
    assert f"A moderator deleted your post #{rant.number} in" in notifications_page(b)


def test_a_moderator_locking_tells_the_starter_but_not_for_their_own_thread(
    db: Session, make: Factory, login_as: LoginAs, alice: User, global_moderator: User
) -> None:
    thread = started_by(db, login_as, make, alice)
    own = started_by(db, login_as, make, global_moderator)
    mod = login_as(global_moderator)

    for target in (thread, own):
        response = mod.post(
            f"/mod/threads/{target.id}", {"action": "lock"}, page=f"/t/{target.id}/{target.slug}"
        )
        assert response.status_code == 302

    assert "A moderator locked your thread in" in notifications_page(login_as(alice))
    assert rows_of(db, global_moderator) == []


def test_a_resolved_report_tells_the_reporter(
    db: Session,
    make: Factory,
    login_as: LoginAs,
    alice: User,
    bob: User,
    global_moderator: User,
) -> None:
    thread = started_by(db, login_as, make, alice)
    reply(login_as(bob), thread, "Spoiler without a tag")
    post = latest_post(db, thread)
    file_report(db, post, alice)

    response = login_as(global_moderator).post(
        f"/mod/reports/{post.id}",
        {"action": "resolve", "resolution": "Hid the spoiler"},
        page="/mod/reports",
    )
    assert response.status_code == 302

    page = notifications_page(login_as(alice))
    assert "Your report of a post in" in page
    assert "was resolved (action taken: Hid the spoiler)." in page
    report = db.scalar(select(Report).where(Report.post_id == post.id))
    assert report is not None and report.status == "resolved"


# ------------------------------------------------------------------------------ mutes


@pytest.mark.parametrize("muted", ["member", "thread", "board"])
def test_mutes_block(
    db: Session, make: Factory, login_as: LoginAs, alice: User, bob: User, muted: str
) -> None:
    thread = started_by(db, login_as, make, alice)
    if muted == "member":
        db.add(MemberMute(user_id=alice.id, muted_id=bob.id))
    elif muted == "thread":
        state = db.get(ThreadState, (alice.id, thread.id))
        assert state is not None
        state.level, state.level_chosen = WatchLevel.MUTED.value, True
    else:
        db.add(BoardState(user_id=alice.id, board_id=thread.board_id, level="muted"))
    alice.has_conversation_settings = True
    db.commit()

    reply(login_as(bob), thread, "Can you hear me?")

    assert bell(login_as(alice)) == 0
    assert rows_of(db, alice) == []


def test_a_muted_member_cant_mention_you_but_a_muted_thread_still_can(
    db: Session, make: Factory, login_as: LoginAs, alice: User, bob: User
) -> None:
    thread = started_by(db, login_as, make, alice)
    state = db.get(ThreadState, (alice.id, thread.id))
    assert state is not None
    state.level = WatchLevel.MUTED.value
    db.commit()

    reply(login_as(bob), thread, "@alice_a over here")
    assert [row.kind for row in rows_of(db, alice)] == [NotificationKind.MENTION.value]

    db.add(MemberMute(user_id=alice.id, muted_id=bob.id))
    db.commit()
    reply(login_as(bob), thread, "@alice_a again")
    assert rows_of(db, alice)[0].count == 1


# ------------------------------------------------------------------------------ never leak


def test_a_hidden_reply_leaves_no_name_or_link(
    db: Session,
    make: Factory,
    login_as: LoginAs,
    alice: User,
    bob: User,
    global_moderator: User,
) -> None:
    thread = started_by(db, login_as, make, alice)
    reply(login_as(make.user("sneaky_sid")), thread, "A post soon hidden")
    post = latest_post(db, thread)
    login_as(global_moderator).post(
        f"/mod/posts/{post.id}/hide", {"reason": "spam"}, page=f"/mod/posts/{post.id}/hide/confirm"
    )

    page = notifications_page(login_as(alice))

    assert "sneaky_sid" not in page
    assert f"/p/{post.id}" not in page
    assert "A post you were notified about is no longer available." in page
    assert "A post soon hidden" not in page


def test_a_hidden_thread_leaves_no_title(
    db: Session,
    make: Factory,
    login_as: LoginAs,
    alice: User,
    bob: User,
    global_moderator: User,
) -> None:
    thread = started_by(db, login_as, make, alice)
    carol = make.user("carol_c")
    reply(login_as(carol), thread, "watching")
    reply(login_as(bob), thread, "a reply carol hears of")
    response = login_as(global_moderator).post(
        f"/mod/threads/{thread.id}/hide",
        {"reason": "off topic"},
        page=f"/t/{thread.id}/{thread.slug}",
    )
    assert response.status_code == 302, response.get_data(as_text=True)

    page = notifications_page(login_as(carol))

    assert TITLE not in page
    assert "About a thread you can no longer see." in page
    assert f"/t/{thread.id}" not in page
    # The starter hears of it in words, without the title of a thread they can't see.
    alices = notifications_page(login_as(alice))
    assert "A moderator hid your thread (reason: off topic)." in alices
    assert TITLE not in alices


def test_a_masked_title_stays_masked(
    db: Session, make: Factory, login_as: LoginAs, alice: User, bob: User
) -> None:
    secret = "Finale: the goats were the villains all along"
    board = make.board("spoiled-show")
    thread = start_thread(db, login_as(alice), board, secret, "What a twist.")
    thread.episode_key = 1008  # S1E8, which no visitor boundary reaches on an empty board
    db.commit()
    reply(login_as(bob), thread, "Unbelievable.")

    page = notifications_page(login_as(alice))

    assert secret not in page
    assert "Episode thread for S1E8" in page


def test_a_deleted_post_leaves_no_name(
    db: Session, make: Factory, login_as: LoginAs, alice: User, bob: User
) -> None:
    thread = started_by(db, login_as, make, alice)
    b = login_as(bob)
    reply(b, thread, "I will delete this")
    post = latest_post(db, thread)
    assert b.post(f"/p/{post.id}/delete", page=f"/t/{thread.id}/{thread.slug}").status_code == 302

    page = notifications_page(login_as(alice))

    assert "bob_b" not in page.split("<main", 1)[1]
    assert "no longer available" in page


# ------------------------------------------------------------------------------ reading


def test_mark_one_read_and_all_read_adjust_the_bell(
    app: Flask, db: Session, make: Factory, login_as: LoginAs, alice: User, bob: User
) -> None:
    threads = [started_by(db, login_as, make, alice) for _ in range(3)]
    b = login_as(bob)
    for thread in threads:
        reply(b, thread, f"Reply in {thread.id}")
    a = login_as(alice)
    assert bell(a) == 3
    first = rows_of(db, alice)[0]

    response = a.post(f"/notifications/{first.id}/read", page="/notifications")
    assert response.status_code == 302
    assert bell(a) == 2
    # Again: already read, nothing changes.
    assert a.post(f"/notifications/{first.id}/read", page="/notifications").status_code == 302
    assert bell(a) == 2

    assert a.post("/notifications/read-all", page="/notifications").status_code == 302
    assert bell(a) == 0
    assert unread_of(db, alice) == 0
    assert "Mark all read" not in notifications_page(a)


def test_another_members_notification_is_not_found_and_unchanged(
    db: Session, make: Factory, login_as: LoginAs, alice: User, bob: User, hostile_member: User
) -> None:
    thread = started_by(db, login_as, make, alice)
    reply(login_as(bob), thread, "For alice")
    target = rows_of(db, alice)[0]
    mallory = login_as(hostile_member)

    response = mallory.post(f"/notifications/{target.id}/read", page="/notifications")

    assert response.status_code == 404
    fresh(db, target)
    assert target.read_at is None
    assert unread_of(db, alice) == 1
    # Mark all read reaches only her own.
    mallory.post("/notifications/read-all", page="/notifications")
    assert unread_of(db, alice) == 1


def test_the_posts_need_csrf(
    db: Session, make: Factory, login_as: LoginAs, alice: User, bob: User
) -> None:
    thread = started_by(db, login_as, make, alice)
    reply(login_as(bob), thread, "For alice")
    target = rows_of(db, alice)[0]
    a = login_as(alice)

    assert a.raw_post(f"/notifications/{target.id}/read").status_code == 400
    assert a.raw_post("/notifications/read-all").status_code == 400

    assert unread_of(db, alice) == 1


def test_visitors_go_to_log_in(visitor: Browserish) -> None:
    for response in (
        visitor.get("/notifications"),
        visitor.post("/notifications/read-all", page="/login"),
        visitor.post("/notifications/1/read", page="/login"),
    ):
        assert response.status_code == 302
        assert "/login" in response.headers["Location"]


def test_reading_the_thread_marks_its_notifications_read(
    db: Session, make: Factory, login_as: LoginAs, alice: User, bob: User
) -> None:
    thread = started_by(db, login_as, make, alice)
    reply(login_as(bob), thread, "Read me")
    a = login_as(alice)
    assert bell(a) == 1

    assert a.get(f"/t/{thread.id}/{thread.slug}").status_code == 200

    assert bell(a) == 0
    assert all(row.read_at is not None for row in rows_of(db, alice))


def test_an_empty_list_says_so(login_as: LoginAs, alice: User) -> None:
    page = notifications_page(login_as(alice))
    assert "No notifications yet." in page
    assert "Mark all read" not in page


def test_the_list_is_paged_newest_first(
    db: Session, make: Factory, login_as: LoginAs, alice: User, bob: User
) -> None:
    threads = [make.thread(author=alice, title=f"Paged thread {n:02}") for n in range(23)]
    for thread in threads:
        notifications.notify(
            db,
            recipient_id=alice.id,
            kind=NotificationKind.WATCHED_REPLY,
            thread_id=thread.id,
            post_id=thread.last_post_id,
            actor_id=bob.id,
        )
        db.commit()
    a = login_as(alice)

    first, second = notifications_page(a), notifications_page(a, 2)

    assert first.index("Paged thread 22") < first.index("Paged thread 03")
    assert "Paged thread 02" not in first and "Paged thread 02" in second
    assert first.count('class="notification ') + first.count('class="notification"') == 20
    assert bell(a) == 23


# ------------------------------------------------------------------------------ statements


def _fill(db: Session, make: Factory, user: User, actor: User, count: int) -> None:
    for n in range(count):
        thread = make.thread(author=make.user(), title=f"Busy thread {n}")
        notifications.notify(
            db,
            recipient_id=user.id,
            kind=NotificationKind.MENTION if n % 2 else NotificationKind.WATCHED_REPLY,
            thread_id=thread.id,
            post_id=thread.last_post_id,
            actor_id=make.user().id if n % 3 else actor.id,
        )
        db.commit()


def _statements(browser: Browserish, sql: StatementLog) -> int:
    browser.get("/search")
    sql.clear()
    assert browser.get("/notifications").status_code == 200
    return len(sql)


def test_the_list_costs_a_fixed_number_of_statements(
    app: Flask,
    db: Session,
    make: Factory,
    login_as: LoginAs,
    sql: StatementLog,
    alice: User,
    bob: User,
) -> None:
    carol = make.user("carol_c")
    with app.app_context():  # a mention's mail is a job queued at the commit
        _fill(db, make, alice, bob, 1)
        _fill(db, make, carol, bob, 30)

    one, thirty = _statements(login_as(alice), sql), _statements(login_as(carol), sql)

    # The member (Flask-Login), the total for the pager, the page's rows with their threads,
    # posts and actors.
    assert one == thirty == 3


def test_recount_fixes_the_bell(
    db: Session, make: Factory, login_as: LoginAs, alice: User, bob: User
) -> None:
    from forum.staff import recount

    thread = started_by(db, login_as, make, alice)
    reply(login_as(bob), thread, "Counted")
    assert recount.differences(db) == []
    alice.unread_notifications = 7
    db.commit()

    found = recount.repair(db)
    db.commit()

    assert [(d.column, d.stored, d.actual) for d in found] == [("unread_notifications", 7, 1)]
    assert unread_of(db, alice) == 1


def test_a_read_row_and_a_new_one_coexist(
    db: Session, make: Factory, login_as: LoginAs, alice: User, bob: User
) -> None:
    thread = started_by(db, login_as, make, alice)
    b = login_as(bob)
    reply(b, thread, "First")
    a = login_as(alice)
    a.post("/notifications/read-all", page="/notifications")

    reply(b, thread, "Second")

    rows = rows_of(db, alice)
    assert [row.read_at is None for row in rows] == [False, True]
    assert bell(a) == 1
    assert db.scalar(select(Notification.count).where(Notification.id == rows[1].id)) == 1
    assert rows[0].read_at is not None and rows[0].read_at <= utcnow()


# ------------------------------------------------------------------------------ opening one


def test_opening_a_notification_reads_it_and_goes_to_the_post(
    db: Session, make: Factory, login_as: LoginAs, sql: StatementLog, alice: User, bob: User
) -> None:
    threads = [started_by(db, login_as, make, alice) for _ in range(2)]
    b = login_as(bob)
    for thread in threads:
        reply(b, thread, "Open me")
    a = login_as(alice)
    assert bell(a) == 2
    first, _second = rows_of(db, alice)

    opened = a.get(f"/notifications/{first.id}/go")

    assert opened.status_code == 302
    assert opened.headers["Location"] == f"/p/{first.post_id}"
    assert bell(a) == 1  # exact: only that one
    fresh(db, first)
    assert first.read_at is not None
    # Again: it still leads there, and nothing is written.
    sql.clear()
    again = a.get(f"/notifications/{first.id}/go")
    assert again.headers["Location"] == f"/p/{first.post_id}"
    assert not [s for s in sql.statements if s.lstrip().upper().startswith(("UPDATE", "INSERT"))]
    assert bell(a) == 1


def test_a_notification_about_the_thread_opens_the_thread(
    db: Session, make: Factory, login_as: LoginAs, alice: User, global_moderator: User
) -> None:
    thread = started_by(db, login_as, make, alice)
    response = login_as(global_moderator).post(
        f"/mod/threads/{thread.id}", {"action": "lock"}, page=f"/t/{thread.id}/{thread.slug}"
    )
    assert response.status_code == 302
    a = login_as(alice)
    (row,) = rows_of(db, alice)
    assert row.post_id is None

    opened = a.get(f"/notifications/{row.id}/go")

    assert opened.status_code == 302
    assert opened.headers["Location"] == f"/t/{thread.id}/{thread.slug}"
    assert bell(a) == 0


def test_opening_one_about_a_post_gone_since_goes_back_to_the_list_naming_nothing(
    db: Session,
    make: Factory,
    login_as: LoginAs,
    alice: User,
    bob: User,
    global_moderator: User,
) -> None:
    thread = started_by(db, login_as, make, alice)
    reply(login_as(make.user("sneaky_sid")), thread, "A post soon hidden")
    post = latest_post(db, thread)
    login_as(global_moderator).post(
        f"/mod/posts/{post.id}/hide", {"reason": "spam"}, page=f"/mod/posts/{post.id}/hide/confirm"
    )
    a = login_as(alice)
    (row,) = rows_of(db, alice)
    assert f"/notifications/{row.id}/go" not in notifications_page(a)  # no link to it

    opened = a.get(f"/notifications/{row.id}/go")

    assert opened.status_code == 302
    assert opened.headers["Location"] == "/notifications"
    page = a.get("/notifications").get_data()
    assert b"no longer available" in page
    assert b"sneaky_sid" not in page and b"A post soon hidden" not in page
    assert f"/p/{post.id}".encode() not in page
    assert bell(a) == 0  # opened is read


def test_opening_another_members_notification_is_not_found(
    db: Session, make: Factory, login_as: LoginAs, alice: User, bob: User, hostile_member: User
) -> None:
    thread = started_by(db, login_as, make, alice)
    reply(login_as(bob), thread, "For alice")
    (target,) = rows_of(db, alice)

    answer = login_as(hostile_member).get(f"/notifications/{target.id}/go")

    assert answer.status_code == 404
    assert f"/p/{target.post_id}".encode() not in answer.get_data()
    assert unread_of(db, alice) == 1
    assert login_as(alice).get("/notifications/987654/go").status_code == 404


def test_a_visitor_opening_one_goes_to_log_in(visitor: Browserish) -> None:
    answer = visitor.get("/notifications/1/go")
    assert answer.status_code == 302
    assert "/login" in answer.headers["Location"]


def test_a_grouped_row_clears_when_its_latest_post_is_read_not_its_first(
    db: Session, make: Factory, login_as: LoginAs, alice: User, bob: User
) -> None:
    # 19 posts: bob's three replies are posts 20 (page 1) and 21, 22 (page 2).
    thread = make.thread(author=make.user(), title="Grouped over two pages", replies=18)
    db.add(
        ThreadState(
            user_id=alice.id,
            thread_id=thread.id,
            last_read_number=19,
            level=WatchLevel.WATCHING.value,
            level_chosen=True,
        )
    )
    db.commit()
    b = login_as(bob)
    for n in range(3):
        reply(b, thread, f"Reply {n} over two pages")
    a = login_as(alice)
    (row,) = rows_of(db, alice)
    assert row.count == 3
    page_one = f"/t/{thread.id}/{thread.slug}"

    assert a.get(page_one).status_code == 200
    assert bell(a) == 1  # page 1 shows the first of the three only
    assert rows_of(db, alice)[0].read_at is None

    assert a.get(f"{page_one}?page=2").status_code == 200
    assert bell(a) == 0
    assert rows_of(db, alice)[0].read_at is not None
