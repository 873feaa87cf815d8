"""Moderation from the web: thread and post tools, suspensions, reports, the edit history and the
public moderation log. Who may do what is tests/test_permissions_matrix.py's business; here each
action is done by someone allowed to, and we check what it does."""

from __future__ import annotations

import re
from datetime import timedelta

from flask import Flask, render_template
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from forum.access.viewer import Viewer
from forum.discussion import posting
from forum.models import (
    Board,
    BoardSuspension,
    ModAction,
    Post,
    Report,
    ReportStatus,
    Role,
    Thread,
    User,
    utcnow,
)
from forum.staff import recount
from forum.staff.moderation import LOGGED_ACTIONS
from tests.conftest import (
    Browserish,
    Factory,
    browser_for,
    file_report,
    fresh,
    latest_log_row,
    log_count,
    moderator_of,
    text_of,
)

# ------------------------------------------------------------------------------ helpers


def thread_url(thread: Thread) -> str:
    return f"/t/{thread.id}/{thread.slug}"


# ------------------------------------------------------------------------------ threads


def test_lock_refuses_member_replies_with_a_clear_message_and_keeps_the_text(
    app: Flask, db: Session, make: Factory, member: User, member_client: Browserish
) -> None:
    thread = make.thread(title="Finale theories")
    mod = browser_for(app, moderator_of(make, db))
    locked = mod.post(
        f"/mod/threads/{thread.id}", {"action": "lock", "reason": "Heated"}, page=thread_url(thread)
    )
    assert locked.status_code == 302
    assert locked.headers["Location"] == thread_url(thread)

    reply = member_client.post(
        f"/t/{thread.id}/reply", {"body": "But what about Cobel?"}, page=thread_url(thread)
    )
    assert reply.status_code == 403
    page = text_of(reply)
    assert page.count("This thread is locked") == 1  # said once, as the form's error
    assert "But what about Cobel?" in page
    fresh(db, thread)
    assert thread.is_locked and thread.post_count == 1

    mod.post(f"/mod/threads/{thread.id}", {"action": "unlock"}, page=thread_url(thread))
    again = member_client.post(
        f"/t/{thread.id}/reply", {"body": "Now it works"}, page=thread_url(thread)
    )
    assert again.status_code == 302


def test_pin_puts_the_thread_first_on_the_board_page(
    app: Flask, db: Session, make: Factory
) -> None:
    board = make.board("severance")
    older = make.thread(board, title="Episode one discussion")
    make.thread(board, title="Newest chatter")
    mod = browser_for(app, moderator_of(make, db, board))
    assert mod.post(f"/mod/threads/{older.id}", {"action": "pin"}, page="/").status_code == 302

    page = text_of(browser_for(app).get("/b/severance"))
    assert page.index("Episode one discussion") < page.index("Newest chatter")

    mod.post(f"/mod/threads/{older.id}", {"action": "unpin"}, page="/")
    page = text_of(browser_for(app).get("/b/severance"))
    assert page.index("Newest chatter") < page.index("Episode one discussion")


def test_move_keeps_both_boards_counters_equal_to_recounts(
    app: Flask, db: Session, make: Factory
) -> None:
    origin, destination = make.board("origin"), make.board("destination")
    moving = make.thread(origin, title="Wrong board", replies=3)
    make.thread(origin, title="Stays", replies=1)
    make.thread(destination, title="Already there")
    mod = browser_for(app, moderator_of(make, db, origin, destination))

    moved = mod.post(
        f"/mod/threads/{moving.id}/move",
        {"board": destination.id, "reason": "Belongs there"},
        page="/",
    )
    assert moved.status_code == 302
    fresh(db, moving)
    assert moving.board_id == destination.id
    db.expire_all()
    assert recount.differences(db) == []
    assert db.get(Board, origin.id).thread_count == 1  # type: ignore[union-attr]
    assert db.get(Board, destination.id).thread_count == 2  # type: ignore[union-attr]
    row = latest_log_row(db)
    assert (row.action, row.board_id, row.reason) == (
        "move thread",
        destination.id,
        "Belongs there",
    )


def test_moving_needs_both_boards_and_the_move_select_marks_the_current_board(
    app: Flask, db: Session, make: Factory
) -> None:
    origin, elsewhere, third = make.board("origin"), make.board("elsewhere"), make.board("third")
    thread = make.thread(origin)
    scoped = moderator_of(make, db, origin, elsewhere)
    mod = browser_for(app, scoped)
    before = log_count(db)
    refused = mod.post(f"/mod/threads/{thread.id}/move", {"board": third.id}, page="/")
    assert refused.status_code == 403
    assert "third" in text_of(refused).lower()
    assert log_count(db) == before

    page = text_of(mod.get(thread_url(thread)))
    if "thread-tools-board" in page:  # once the lead has included mod/_thread_tools.html
        assert f'<option value="{origin.id}" selected>' in page
    with app.test_request_context(thread_url(thread)):
        viewer = Viewer(scoped, moderated_board_ids=frozenset({origin.id, elsewhere.id}))
        tools = render_template(
            "mod/_thread_tools.html", thread=thread, viewer=viewer, boards=[origin, elsewhere]
        )
    assert f'<option value="{origin.id}" selected>' in tools
    assert f'<option value="{elsewhere.id}">' in tools
    assert f'value="{third.id}"' not in tools
    assert 'name="action" value="lock"' in tools and 'name="action" value="pin"' in tools
    assert 'name="csrf_token"' in tools


def test_move_to_the_same_board_changes_nothing(app: Flask, db: Session, make: Factory) -> None:
    board = make.board()
    thread = make.thread(board)
    mod = browser_for(app, moderator_of(make, db))
    before = log_count(db)
    response = mod.post(f"/mod/threads/{thread.id}/move", {"board": board.id}, page="/")
    assert response.status_code == 302
    assert log_count(db) == before


def test_rename_changes_title_and_slug(app: Flask, db: Session, make: Factory) -> None:
    thread = make.thread(title="wat")
    mod = browser_for(app, moderator_of(make, db))
    form = mod.get(f"/mod/threads/{thread.id}/rename")
    assert form.status_code == 200 and 'value="wat"' in text_of(form)
    too_short = mod.post(
        f"/mod/threads/{thread.id}/rename", {"title": "x"}, page=f"/mod/threads/{thread.id}/rename"
    )
    assert too_short.status_code == 200 and "3 to 150" in text_of(too_short)
    renamed = mod.post(
        f"/mod/threads/{thread.id}/rename",
        {"title": "Season 2 premiere", "reason": "Clearer"},
        page=f"/mod/threads/{thread.id}/rename",
    )
    assert renamed.status_code == 302
    fresh(db, thread)
    assert (thread.title, thread.slug) == ("Season 2 premiere", "season-2-premiere")
    assert renamed.headers["Location"] == thread_url(thread)
    assert latest_log_row(db).details == "from “wat”"


def test_hide_and_restore_a_thread(
    app: Flask, db: Session, make: Factory, member_client: Browserish
) -> None:
    board = make.board("severance")
    thread = make.thread(board, title="Leaked script", replies=2)
    make.thread(board, title="Fine thread")
    mod = browser_for(app, moderator_of(make, db))

    confirm = mod.get(f"/mod/threads/{thread.id}/hide/confirm?next=/b/severance")
    assert confirm.status_code == 200
    assert 'method="post"' in text_of(confirm) and 'value="/b/severance"' in text_of(confirm)
    no_reason = mod.post(f"/mod/threads/{thread.id}/hide", {"reason": ""}, page="/")
    assert no_reason.status_code == 200 and "Say why" in text_of(no_reason)
    fresh(db, thread)
    assert not thread.is_hidden

    hidden = mod.post(
        f"/mod/threads/{thread.id}/hide",
        {"reason": "Leaked material", "next": "/b/severance"},
        page="/",
    )
    assert hidden.status_code == 302 and hidden.headers["Location"] == "/b/severance"
    assert member_client.get(thread_url(thread)).status_code == 404
    assert "Leaked script" not in text_of(member_client.get("/b/severance"))
    assert mod.get(thread_url(thread)).status_code == 200
    db.expire_all()
    assert recount.differences(db) == []

    restored = mod.post(
        f"/mod/threads/{thread.id}", {"action": "restore", "reason": "Fake"}, page="/"
    )
    assert restored.status_code == 302
    assert member_client.get(thread_url(thread)).status_code == 200
    db.expire_all()
    assert recount.differences(db) == []
    assert [r.action for r in db.scalars(select(ModAction).order_by(ModAction.id))] == [
        "hide thread",
        "restore thread",
    ]


def test_hide_and_restore_a_post(
    app: Flask, db: Session, make: Factory, member: User, member_client: Browserish
) -> None:
    thread = make.thread(replies=1)
    post = db.scalar(select(Post).where(Post.thread_id == thread.id, Post.number == 2))
    assert post is not None
    mod = browser_for(app, moderator_of(make, db))
    assert mod.get(f"/mod/posts/{post.id}/hide/confirm").status_code == 200

    hidden = mod.post(f"/mod/posts/{post.id}/hide", {"reason": "Spoiler for S2"}, page="/")
    assert hidden.status_code == 302
    assert hidden.headers["Location"] == f"/p/{post.id}"
    fresh(db, post)
    assert post.is_hidden and post.hidden_reason == "Spoiler for S2"
    # Hidden posts can't be reported any more: there is nothing left for members to see.
    assert member_client.get(f"/p/{post.id}/report").status_code == 403

    restored = mod.post(f"/mod/posts/{post.id}/restore", {"reason": "Tagged now"}, page="/")
    assert restored.status_code == 302
    fresh(db, post)
    assert not post.is_hidden and post.hidden_reason == ""
    assert [(r.action, r.reason) for r in db.scalars(select(ModAction).order_by(ModAction.id))] == [
        ("hide post", "Spoiler for S2"),
        ("restore post", "Tagged now"),
    ]


def test_post_tools_partial_offers_hide_or_restore_with_a_csrf_token(
    app: Flask, db: Session, make: Factory
) -> None:
    author = make.user("chatty")
    thread = make.thread(author=author)
    post = db.scalar(select(Post).where(Post.thread_id == thread.id))
    assert post is not None
    admin = make.user("boss", role=Role.ADMIN)
    # Loaded, then detached, so the edits below are plain Python: rendering opens the
    # request's own session on the same connection.
    for loaded in (author, thread, post, admin):
        db.refresh(loaded)
    db.expunge_all()
    post.author = author
    with app.test_request_context(thread_url(thread)):
        tools = render_template(
            "mod/_post_tools.html",
            post=post,
            thread=thread,
            current_user=admin,
            viewer=Viewer(admin),
        )
        assert f"/mod/posts/{post.id}/hide/confirm" in tools
        assert "/mod/users/chatty/suspend" in tools
        assert f"/admin/posts/{post.id}/purge/confirm" in tools
        post.is_hidden, post.hidden_reason = True, "rude"
        tools = render_template(
            "mod/_post_tools.html",
            post=post,
            thread=thread,
            current_user=admin,
            viewer=Viewer(admin),
        )
        assert f'action="/mod/posts/{post.id}/restore"' in tools
        assert 'name="csrf_token"' in tools and "rude" in tools
        member_view = render_template(
            "mod/_post_tools.html",
            post=post,
            thread=thread,
            current_user=author,
            viewer=Viewer(author),
        )
    assert member_view.strip() == ""


def test_actions_send_the_moderator_back_only_to_pages_on_this_site(
    app: Flask, db: Session, make: Factory
) -> None:
    thread = make.thread()
    mod = browser_for(app, moderator_of(make, db))
    back = mod.post(
        f"/mod/threads/{thread.id}", {"action": "lock", "next": "/b/x?page=2"}, page="/"
    )
    assert back.headers["Location"] == "/b/x?page=2"
    evil = mod.post(
        f"/mod/threads/{thread.id}", {"action": "unlock", "next": "https://evil.example/"}, page="/"
    )
    assert evil.headers["Location"] == thread_url(thread)


def test_unknown_action_is_refused_and_changes_nothing(
    app: Flask, db: Session, make: Factory
) -> None:
    thread = make.thread()
    mod = browser_for(app, moderator_of(make, db))
    before = log_count(db)
    response = mod.post(f"/mod/threads/{thread.id}", {"action": "delete-everything"}, page="/")
    assert response.status_code == 400
    assert log_count(db) == before


def test_missing_objects_are_404(app: Flask, db: Session, make: Factory) -> None:
    mod = browser_for(app, moderator_of(make, db))
    assert mod.post("/mod/threads/999999", {"action": "lock"}, page="/").status_code == 404
    assert mod.get("/mod/posts/999999/hide/confirm").status_code == 404
    assert mod.get("/mod/users/nobody-here/suspend").status_code == 404
    thread = make.thread()
    assert (
        mod.post(f"/mod/threads/{thread.id}/move", {"board": 999999}, page="/").status_code == 404
    )


# ------------------------------------------------------------------------------ suspensions


def test_suspension_blocks_posting_replying_and_reporting_then_ends_by_itself(
    app: Flask, db: Session, make: Factory, member: User, member_client: Browserish
) -> None:
    board = make.board("severance")
    thread = make.thread(board)
    other_post = make.reply(thread, make.user())
    mod = browser_for(app, moderator_of(make, db))

    form = mod.get(f"/mod/users/{member.username}/suspend")
    assert form.status_code == 200
    assert re.search(r'<input checked id="duration-0"[^>]*value="day"', text_of(form))
    suspended = mod.post(
        f"/mod/users/{member.username}/suspend",
        {"duration": "week", "reason": "Spoiling finales"},
        page="/",
    )
    assert suspended.status_code == 302
    fresh(db, member)
    assert member.suspended_until is not None and not member.is_banned
    assert timedelta(days=6, hours=23) < member.suspended_until - utcnow() <= timedelta(days=7)

    new_thread = member_client.post(
        "/b/severance/new", {"title": "Hello there", "body": "Hi"}, page="/"
    )
    assert new_thread.status_code == 403
    assert "suspended" in text_of(new_thread)
    assert db.scalar(select(func.count(Thread.id)).where(Thread.board_id == board.id)) == 1
    reply = member_client.post(f"/t/{thread.id}/reply", {"body": "Let me in"}, page="/")
    assert reply.status_code == 403
    assert "suspended" in text_of(reply) and "Let me in" in text_of(reply)
    report = member_client.post(f"/p/{other_post.id}/report", {"reason": "spam"}, page="/")
    assert report.status_code == 403 and "suspended" in text_of(report)
    assert db.scalar(select(func.count(Report.id))) == 0
    # Reading still works.
    assert member_client.get(thread_url(thread)).status_code == 200

    with app.test_request_context("/"):
        banner = _banner_for(member)
    assert "suspended until" in banner and "Spoiling finales" in banner

    member.suspended_until = utcnow() - timedelta(minutes=1)
    db.commit()
    again = member_client.post(f"/t/{thread.id}/reply", {"body": "Back again"}, page="/")
    assert again.status_code == 302
    with app.test_request_context("/"):
        assert _banner_for(member).strip() == ""


def test_custom_suspension_ban_and_lift(
    app: Flask, db: Session, make: Factory, member: User, member_client: Browserish
) -> None:
    thread = make.thread()
    mod = browser_for(app, moderator_of(make, db))
    url = f"/mod/users/{member.username}/suspend"
    missing_days = mod.post(url, {"duration": "custom", "reason": "Spam"}, page=url)
    assert missing_days.status_code == 200 and "number of days" in text_of(missing_days)
    no_reason = mod.post(url, {"duration": "day"}, page=url)
    assert no_reason.status_code == 200 and "Say why" in text_of(no_reason)
    assert log_count(db) == 0

    assert (
        mod.post(url, {"duration": "custom", "days": "3", "reason": "Spam"}, page=url).status_code
        == 302
    )
    fresh(db, member)
    assert member.suspended_until is not None
    assert timedelta(days=2, hours=23) < member.suspended_until - utcnow() <= timedelta(days=3)

    assert mod.post(url, {"duration": "ban", "reason": "Spam bot"}, page=url).status_code == 302
    fresh(db, member)
    assert member.is_banned and member.suspended_until is None
    with app.test_request_context("/"):
        assert "banned" in _banner_for(member)
    assert "banned" in text_of(mod.get(url))

    lifted = mod.post(f"/mod/users/{member.username}/lift", {"reason": "Appeal accepted"}, page=url)
    assert lifted.status_code == 302
    fresh(db, member)
    assert not member.is_suspended()
    assert (
        member_client.post(f"/t/{thread.id}/reply", {"body": "Thanks"}, page="/").status_code == 302
    )
    assert [r.action for r in db.scalars(select(ModAction).order_by(ModAction.id))] == [
        "suspend user",
        "ban user",
        "lift suspension",
    ]


def test_moderators_cannot_suspend_each_other_or_admins_but_admins_can(
    app: Flask, db: Session, make: Factory
) -> None:
    first, second = moderator_of(make, db, name="mod_one"), moderator_of(make, db, name="mod_two")
    admin = make.user("the_admin", role=Role.ADMIN)
    mod = browser_for(app, first)
    for target in (second, admin, first):
        refused = mod.post(
            f"/mod/users/{target.username}/suspend",
            {"duration": "day", "reason": "Power trip"},
            page="/",
        )
        assert refused.status_code == 403, target.username
    assert log_count(db) == 0
    boss = browser_for(app, admin)
    assert (
        boss.post(
            f"/mod/users/{second.username}/suspend",
            {"duration": "day", "reason": "Abuse of tools"},
            page="/",
        ).status_code
        == 302
    )
    fresh(db, second)
    assert second.is_suspended()
    # A suspended moderator loses the moderator tools while it lasts.
    assert browser_for(app, second).get("/mod").status_code == 403


# ------------------------------------------------------------------------------ board suspensions


def test_a_board_moderators_site_wide_ban_is_refused_with_the_reason(
    app: Flask, db: Session, make: Factory, member: User
) -> None:
    board = make.board("severance")
    mod = browser_for(app, moderator_of(make, db, board, name="mod_sev"))
    url = f"/mod/users/{member.username}/suspend"

    for data in (
        {"duration": "ban", "reason": "Power trip"},
        {"duration": "week", "reason": "Power trip"},
    ):
        refused = mod.post(url, data, page="/")
        assert refused.status_code == 403
        assert "site-wide suspensions and bans are for global moderators and admins" in text_of(
            refused
        )
    refused = mod.post(f"/mod/users/{member.username}/lift", {}, page="/")
    assert refused.status_code == 403
    fresh(db, member)
    assert not member.is_suspended() and log_count(db) == 0

    # Their suspension page offers only their boards, and no ban.
    page = text_of(mod.get(url))
    assert "Suspend on a board" in page and "Ban (no end date)" not in page
    assert re.search(rf'<option[^>]*value="{board.id}"[^>]*>Severance</option>', page)
    assert "Suspend everywhere" not in page
    # A global moderator's page has both.
    everywhere = text_of(browser_for(app, moderator_of(make, db, name="mod_all")).get(url))
    assert "Suspend everywhere" in everywhere and "Ban (no end date)" in everywhere


def test_a_board_suspension_bars_posting_on_that_board_only_and_is_logged(
    app: Flask, db: Session, make: Factory, member: User, member_client: Browserish
) -> None:
    severance, lost = make.board("severance"), make.board("lost")
    here = make.thread(severance, title="Innie talk")
    there = make.thread(lost, title="The island")
    own = make.reply(here, member, "My own words")
    mod = browser_for(app, moderator_of(make, db, severance, name="mod_sev"))

    done = mod.post(
        f"/mod/users/{member.username}/board-suspend",
        {"board": severance.id, "duration": "custom", "days": "3", "reason": "Spoiling the finale"},
        page="/",
    )
    assert done.status_code == 302
    row = latest_log_row(db)
    assert (row.action, row.board_id, row.target_user_id) == (
        "board suspension",
        severance.id,
        member.id,
    )
    assert "on Severance until" in row.details

    reply = member_client.post(f"/t/{here.id}/reply", {"body": "Let me in"}, page="/")
    assert reply.status_code == 403
    assert "suspended from posting on Severance" in text_of(reply)
    assert "Let me in" in text_of(reply)  # the typed text stays
    started = member_client.post("/b/severance/new", {"title": "New one", "body": "Hi"}, page="/")
    assert started.status_code == 403 and "Spoiling the finale" in text_of(started)
    edit = member_client.post(f"/p/{own.id}/edit", {"body": "Changed"}, page="/")
    assert edit.status_code == 403
    for page in ("/b/severance", thread_url(here)):
        assert "suspended from posting on Severance" in text_of(member_client.get(page)), page
    # Everywhere else nothing changed.
    assert "suspended from posting" not in text_of(member_client.get("/b/lost"))
    assert (
        member_client.post(f"/t/{there.id}/reply", {"body": "Hello island"}, page="/").status_code
        == 302
    )
    fresh(db, here)
    assert here.post_count == 2  # the opening post and the member's earlier reply

    log = text_of(browser_for(app).get("/mod/log?action=board+suspension"))
    assert "Spoiling the finale" in log and member.username in log

    # Lifting it lets them back in, and is logged too.
    lifted = mod.post(
        f"/mod/users/{member.username}/board-lift",
        {"board": severance.id, "reason": "Appeal"},
        page="/",
    )
    assert lifted.status_code == 302
    assert latest_log_row(db).action == "lift board suspension"
    assert member_client.post(f"/t/{here.id}/reply", {"body": "Back"}, page="/").status_code == 302


def test_a_board_suspension_ends_by_itself(
    app: Flask, db: Session, make: Factory, member: User, member_client: Browserish
) -> None:
    board = make.board("severance")
    thread = make.thread(board)
    mod = browser_for(app, moderator_of(make, db, board))
    mod.post(
        f"/mod/users/{member.username}/board-suspend",
        {"board": board.id, "duration": "day", "reason": "Cool off"},
        page="/",
    )
    assert member_client.post(f"/t/{thread.id}/reply", {"body": "x"}, page="/").status_code == 403

    db.execute(update(BoardSuspension).values(until=utcnow() - timedelta(minutes=1)))
    db.commit()
    assert (
        member_client.post(f"/t/{thread.id}/reply", {"body": "Back"}, page="/").status_code == 302
    )
    assert "suspended from posting" not in text_of(member_client.get("/b/severance"))


def test_board_moderators_suspend_members_only_on_their_own_boards(
    app: Flask, db: Session, make: Factory, member: User
) -> None:
    severance, lost = make.board("severance"), make.board("lost")
    mine = moderator_of(make, db, severance, name="mod_sev")
    colleague = moderator_of(make, db, lost, name="mod_lost")
    mod = browser_for(app, mine)
    url = f"/mod/users/{member.username}/board-suspend"

    elsewhere = mod.post(url, {"board": lost.id, "duration": "day", "reason": "x"}, page="/")
    assert elsewhere.status_code == 403 and "t moderate Lost, so you can" in text_of(elsewhere)
    colleague_refused = mod.post(
        f"/mod/users/{colleague.username}/board-suspend",
        {"board": severance.id, "duration": "day", "reason": "x"},
        page="/",
    )
    assert colleague_refused.status_code == 403
    missing = mod.post(url, {"board": 987654, "duration": "day", "reason": "x"}, page="/")
    assert missing.status_code == 404
    no_ban = mod.post(url, {"board": severance.id, "duration": "ban", "reason": "x"}, page="/")
    assert no_ban.status_code == 200 and "Not a valid choice" in text_of(no_ban)
    assert "x" in text_of(no_ban)
    assert log_count(db) == 0
    assert db.scalar(select(func.count()).select_from(BoardSuspension)) == 0


# ------------------------------------------------------------------------------ reports


def test_report_flow_end_to_end(
    app: Flask, db: Session, make: Factory, member: User, member_client: Browserish
) -> None:
    board = make.board("severance")
    thread = make.thread(board, title="Finale")
    post = make.reply(thread, make.user("spoiler_sam"), "Mark is *actually* ...")
    post_id = post.id

    form = member_client.get(f"/p/{post_id}/report")
    assert form.status_code == 200
    for reason in ("spoiler", "harassment", "spam", "off-topic", "other"):
        assert f'value="{reason}"' in text_of(form)
    sent = member_client.post(
        f"/p/{post_id}/report",
        {"reason": "spoiler", "details": "Finale spoiler, untagged"},
        page=f"/p/{post_id}/report",
    )
    assert sent.status_code == 302
    again = member_client.post(
        f"/p/{post_id}/report", {"reason": "spam"}, page=f"/p/{post_id}/report"
    )
    assert again.status_code == 200 and "already reported" in text_of(again)
    second_reporter = browser_for(app, make.user("watcher"))
    assert (
        second_reporter.post(f"/p/{post_id}/report", {"reason": "off-topic"}, page="/").status_code
        == 302
    )
    assert db.scalar(select(func.count(Report.id))) == 2
    assert log_count(db) == 0  # filing a report is a member's action, not a moderator's

    mine = text_of(member_client.get("/reports/mine"))
    assert "Finale" in mine and "open" in mine and "Waiting for a moderator" in mine

    mod = browser_for(app, moderator_of(make, db, board))
    queue = text_of(mod.get("/mod/reports"))
    assert queue.count(f'id="reported-{post_id}"') == 1
    assert "spoiler" in queue and "off-topic" in queue and "Finale spoiler, untagged" in queue
    assert f'href="/p/{post_id}"' in queue

    no_text = mod.post(f"/mod/reports/{post_id}", {"action": "resolve"}, page="/mod/reports")
    assert no_text.status_code == 302
    assert db.scalar(select(func.count(Report.id)).where(Report.status == "open")) == 2
    resolved = mod.post(
        f"/mod/reports/{post_id}",
        {"action": "resolve", "resolution": "Hid the post, warned Sam"},
        page="/mod/reports",
    )
    assert resolved.status_code == 302
    statuses = db.execute(select(Report.status, Report.resolution)).all()
    assert set(statuses) == {("resolved", "Hid the post, warned Sam")}
    assert "No open reports" in text_of(mod.get("/mod/reports"))
    mine = text_of(member_client.get("/reports/mine"))
    assert "resolved" in mine and "Hid the post, warned Sam" in mine
    row = latest_log_row(db)
    assert (row.action, row.target_post_id, log_count(db)) == ("resolve report", post_id, 1)


def test_dismissing_needs_no_text_and_shows_as_dismissed(
    app: Flask, db: Session, make: Factory, member: User, member_client: Browserish
) -> None:
    thread = make.thread()
    post = make.reply(thread, make.user())
    file_report(db, post, member, "other")
    mod = browser_for(app, moderator_of(make, db))
    assert (
        mod.post(f"/mod/reports/{post.id}", {"action": "dismiss"}, page="/mod/reports").status_code
        == 302
    )
    assert db.scalar(select(Report.status)) == ReportStatus.DISMISSED.value
    assert "dismissed" in text_of(member_client.get("/reports/mine"))
    # Handling again finds nothing open: no second log row.
    assert (
        mod.post(f"/mod/reports/{post.id}", {"action": "dismiss"}, page="/mod/reports").status_code
        == 302
    )
    assert log_count(db) == 1


def test_members_cannot_report_their_own_posts(
    app: Flask, db: Session, make: Factory, member: User, member_client: Browserish
) -> None:
    thread = make.thread(author=member)
    post = db.scalar(select(Post).where(Post.thread_id == thread.id))
    assert post is not None
    response = member_client.post(f"/p/{post.id}/report", {"reason": "spam"}, page="/")
    assert response.status_code == 403 and "your own post" in text_of(response)


def test_visitors_are_asked_to_log_in_to_report(app: Flask, make: Factory) -> None:
    post = make.reply(make.thread(), make.user())
    response = browser_for(app).get(f"/p/{post.id}/report")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert browser_for(app).get("/reports/mine").status_code == 302


def test_report_queue_only_shows_moderated_boards(
    app: Flask, db: Session, make: Factory, member: User
) -> None:
    mine, theirs = make.board("mine"), make.board("theirs")
    post_here = make.reply(make.thread(mine, title="Here"), make.user())
    post_there = make.reply(make.thread(theirs, title="There"), make.user())
    file_report(db, post_here, member)
    file_report(db, post_there, member)
    mod = browser_for(app, moderator_of(make, db, mine))
    queue = text_of(mod.get("/mod/reports"))
    assert f'id="reported-{post_here.id}"' in queue
    assert f'id="reported-{post_there.id}"' not in queue
    assert "1</strong> open report" in text_of(mod.get("/mod"))
    refused = mod.post(f"/mod/reports/{post_there.id}", {"action": "dismiss"}, page="/mod")
    assert refused.status_code == 403
    assert db.scalar(select(func.count(Report.id)).where(Report.status == "open")) == 2


def test_report_queue_is_oldest_first_grouped_by_post_and_paged(
    app: Flask, db: Session, make: Factory
) -> None:
    thread = make.thread()
    reporters = [make.user(f"reporter{n}") for n in range(2)]
    posts = [posting.add_post(db, thread, reporters[0], f"Post {n}") for n in range(26)]
    db.commit()
    start = utcnow() - timedelta(days=1)
    for n, post in enumerate(posts):
        for reporter in reporters:
            db.add(
                Report(
                    post_id=post.id,
                    reporter_id=reporter.id,
                    reason="spam",
                    created_at=start + timedelta(minutes=n),
                )
            )
    db.commit()
    mod = browser_for(app, moderator_of(make, db))
    first = text_of(mod.get("/mod/reports"))
    ids = [int(found) for found in re.findall(r'id="reported-(\d+)"', first)]
    assert ids == [post.id for post in posts[:25]]
    second = text_of(mod.get("/mod/reports?page=2"))
    assert re.findall(r'id="reported-(\d+)"', second) == [str(posts[25].id)]


# ------------------------------------------------------------------------------ edit history


def test_revisions_show_every_version_with_escaped_diffs(
    app: Flask, db: Session, make: Factory, member: User, member_client: Browserish
) -> None:
    thread = make.thread(author=member, body="Season 3 was rushed")
    post = db.scalar(select(Post).where(Post.thread_id == thread.id))
    assert post is not None
    assert browser_for(app).get(f"/p/{post.id}/revisions").status_code == 404  # never edited
    for body in (
        "Season 3 was <script>alert(1)</script> rushed",
        "Season 2 was <script>alert(1)</script> rushed",
    ):
        assert (
            member_client.post(
                f"/p/{post.id}/edit", {"body": body}, page=f"/p/{post.id}/edit"
            ).status_code
            == 302
        )
    mod = moderator_of(make, db)
    fresh(db, post)
    posting_mod = browser_for(app, mod)
    assert (
        posting_mod.post(
            f"/p/{post.id}/edit", {"body": "Season 2 was rushed"}, page=f"/p/{post.id}/edit"
        ).status_code
        == 302
    )
    assert latest_log_row(db).action == "edit post"

    page = text_of(browser_for(app).get(f"/p/{post.id}/revisions"))
    assert page.count('class="activity card"') == 4
    assert "Original" in page and "Version 4" in page
    assert "<script>" not in page
    assert "<ins> &lt;script&gt;alert(1)&lt;/script&gt;</ins>" in page
    assert "<del> 3</del><ins> 2</ins>" in page
    assert member.username in page and mod.username in page


def test_revisions_of_hidden_posts_are_for_moderators(
    app: Flask, db: Session, make: Factory, member: User, member_client: Browserish
) -> None:
    thread = make.thread(author=member)
    post = db.scalar(select(Post).where(Post.thread_id == thread.id))
    assert post is not None
    member_client.post(f"/p/{post.id}/edit", {"body": "Edited"}, page=f"/p/{post.id}/edit")
    mod = browser_for(app, moderator_of(make, db))
    mod.post(f"/mod/posts/{post.id}/hide", {"reason": "Rude"}, page="/")
    assert browser_for(app).get(f"/p/{post.id}/revisions").status_code == 403
    assert mod.get(f"/p/{post.id}/revisions").status_code == 200


# ------------------------------------------------------------------------------ the log


def every_action_by_web(app: Flask, db: Session, make: Factory) -> list[tuple[str, str, int]]:
    """Do every moderator and admin action through the web as an admin; return, for each, the
    action expected in the log, the action logged, and the number of rows it added."""
    board, other = make.board("severance"), make.board("lost")
    target = make.user("target_tom")
    thread = make.thread(board, author=target, title="Spoilers inside", replies=1)
    post = db.scalar(select(Post).where(Post.thread_id == thread.id, Post.number == 2))
    assert post is not None
    opening = db.scalar(select(Post).where(Post.thread_id == thread.id, Post.number == 1))
    assert opening is not None
    file_report(db, post, make.user())
    file_report(db, opening, make.user())
    admin = browser_for(app, make.user("admin_ann", role=Role.ADMIN))
    t, p, u = f"/mod/threads/{thread.id}", f"/mod/posts/{post.id}", "/mod/users/target_tom"
    steps: list[tuple[str, str, dict[str, object]]] = [
        ("lock thread", t, {"action": "lock"}),
        ("unlock thread", t, {"action": "unlock"}),
        ("pin thread", t, {"action": "pin"}),
        ("unpin thread", t, {"action": "unpin"}),
        ("rename thread", f"{t}/rename", {"title": "Spoilers (S2)"}),
        ("move thread", f"{t}/move", {"board": other.id}),
        ("hide thread", f"{t}/hide", {"reason": "Leak"}),
        ("restore thread", t, {"action": "restore"}),
        ("hide post", f"{p}/hide", {"reason": "Rude"}),
        ("restore post", f"{p}/restore", {}),
        ("edit post", f"/p/{post.id}/edit", {"body": "Tidied up"}),
        (
            "resolve report",
            f"/mod/reports/{post.id}",
            {"action": "resolve", "resolution": "Edited"},
        ),
        ("dismiss report", f"/mod/reports/{opening.id}", {"action": "dismiss"}),
        ("suspend user", f"{u}/suspend", {"duration": "day", "reason": "Spoilers"}),
        ("ban user", f"{u}/suspend", {"duration": "ban", "reason": "Again"}),
        ("lift suspension", f"{u}/lift", {}),
        (
            "board suspension",
            f"{u}/board-suspend",
            {"board": board.id, "duration": "day", "reason": "Rude"},
        ),
        ("lift board suspension", f"{u}/board-lift", {"board": board.id}),
        (
            "change role",
            "/admin/users/target_tom/role",
            {"role": "moderator", "boards": [board.id]},
        ),
        ("create board", "/admin/boards/new", {"slug": "dark", "name": "Dark"}),
        ("edit board", "/admin/boards/dark/edit", {"name": "Dark (2017)"}),
        ("reorder boards", "/admin/boards/dark/move", {"direction": "up"}),
        ("archive board", "/admin/boards/dark/archive", {}),
        ("unarchive board", "/admin/boards/dark/unarchive", {}),
        # The thread was moved to "lost" above.
        (
            "save episode",
            "/b/lost/episodes",
            {"season": 1, "number": 1, "title": "Pilot", "aired": "2004-09-22"},
        ),
        ("set thread episode", f"/t/{thread.id}/episode", {"episode": "S1E1", "reason": "Ep"}),
        ("open episode threads", "/b/lost/episodes/open", {}),
        ("change settings", "/admin/settings", {"site_name": "Fanboard", "registration": "open"}),
        ("purge post", f"/admin/posts/{post.id}/purge", {"reason": "Doxxing"}),
        (
            "delete account",
            f"/admin/users/{make.user('spam_sam').username}/delete",
            {"reason": "Spam"},
        ),
    ]
    done = []
    for action, url, data in steps:
        before = log_count(db)
        response = admin.post(url, data, page="/")
        assert response.status_code == 302, (action, response.status_code)
        done.append(
            (
                action,
                latest_log_row(db).action if log_count(db) > before else "",
                log_count(db) - before,
            )
        )
    return done


def test_every_action_writes_exactly_one_log_row_shown_on_the_first_page(
    app: Flask, db: Session, make: Factory
) -> None:
    done = every_action_by_web(app, db, make)
    wrong = [
        (expected, logged, added)
        for expected, logged, added in done
        if (logged, added) != (expected, 1)
    ]
    assert wrong == []
    assert {action for action, *_ in done} == {str(action) for action in LOGGED_ACTIONS}
    page = text_of(browser_for(app).get("/mod/log"))
    for action in LOGGED_ACTIONS:
        assert f"<td>{action}" in page, action
    assert "admin_ann" in page and "Doxxing" in page


def test_log_is_public_newest_first_and_filters(app: Flask, db: Session, make: Factory) -> None:
    severance, lost = make.board("severance"), make.board("lost")
    in_severance = make.thread(severance, title="Innie talk")
    in_lost = make.thread(lost, title="The island")
    maria = browser_for(app, moderator_of(make, db, name="mod_maria"))
    omar = browser_for(app, moderator_of(make, db, name="mod_omar"))
    maria.post(f"/mod/threads/{in_severance.id}", {"action": "lock", "reason": "r1"}, page="/")
    omar.post(f"/mod/threads/{in_lost.id}", {"action": "pin", "reason": "r2"}, page="/")
    maria.post(f"/mod/threads/{in_lost.id}", {"action": "lock", "reason": "r3"}, page="/")

    visitor = browser_for(app)
    everything = visitor.get("/mod/log")
    assert everything.status_code == 200
    page = text_of(everything)
    assert page.index("r3") < page.index("r2") < page.index("r1")

    def reasons(query: str) -> list[str]:
        found = re.findall(r"<td>(r\d)</td>", text_of(visitor.get(f"/mod/log?{query}")))
        return found

    assert reasons("board=lost") == ["r3", "r2"]
    assert reasons("moderator=MOD_MARIA") == ["r3", "r1"]
    assert reasons("action=lock+thread") == ["r3", "r1"]
    assert reasons("board=lost&moderator=mod_maria&action=lock+thread") == ["r3"]
    assert reasons("board=no-such-board") == []
    filtered = text_of(visitor.get("/mod/log?board=lost"))
    assert '<option value="lost" selected>' in filtered


def test_log_pages_hold_fifty_rows_and_keep_filters_in_links(
    app: Flask, db: Session, make: Factory
) -> None:
    board = make.board("severance")
    actor = make.user("busy_mod", role=Role.MODERATOR)
    now = utcnow()
    db.add_all(
        ModAction(
            actor_id=actor.id,
            action="lock thread",
            board_id=board.id,
            reason=f"n{n}",
            created_at=now - timedelta(minutes=n),
        )
        for n in range(55)
    )
    db.commit()
    visitor = browser_for(app)
    first = text_of(visitor.get("/mod/log?board=severance"))
    assert first.count("<tr>") == 51  # 50 rows and the header
    assert "page=2" in first and "board=severance" in first
    second = text_of(visitor.get("/mod/log?board=severance&page=2"))
    assert re.findall(r"<td>(n\d+)</td>", second) == ["n50", "n51", "n52", "n53", "n54"]


def _banner_for(member: User) -> str:
    return render_template(
        "mod/_suspension_banner.html", current_user=member, viewer=Viewer(member)
    )
