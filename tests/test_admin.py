"""The admin area from the web: show boards, roles, site settings, user search and purging."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from forum.models import Board, BoardModerator, ModAction, Post, PostRevision, Role, Thread, User
from forum.platform import settings
from tests.conftest import (
    Browserish,
    Factory,
    StatementLog,
    browser_for,
    file_report,
    fresh,
    latest_log_row,
    log_count,
    text_of,
)


@pytest.fixture
def admin(make: Factory) -> User:
    return make.user("admin_ada", role=Role.ADMIN)


@pytest.fixture
def admin_client(app: Flask, admin: User) -> Browserish:
    return browser_for(app, admin)


def board_names_on_index(app: Flask) -> list[str]:
    page = text_of(browser_for(app).get("/"))
    return re.findall(r'<h2 class="board-name"><a href="/b/[^"]+">([^<]+)</a>', page)


# ------------------------------------------------------------------------------ boards


def test_a_board_created_from_the_web_appears_on_the_index(
    app: Flask, db: Session, admin_client: Browserish
) -> None:
    form = admin_client.get("/admin/boards/new")
    assert form.status_code == 200
    assert '<label class="field-label" for="facts">' in text_of(form)
    created = admin_client.post(
        "/admin/boards/new",
        {
            "slug": "the-bear",
            "name": "The Bear",
            "description": "Yes, chef.",
            "network": "FX",
            "status": "renewed",
            "premiered": "2022",
            "facts": "Creator: Christopher Storer\n\nSetting: Chicago",
        },
        page="/admin/boards/new",
    )
    assert created.status_code == 302 and created.headers["Location"] == "/b/the-bear"
    board = db.scalar(select(Board).where(Board.slug == "the-bear"))
    assert board is not None
    assert (board.name, board.network, board.status, board.premiered) == (
        "The Bear",
        "FX",
        "renewed",
        2022,
    )
    assert board.facts == {"Creator": "Christopher Storer", "Setting": "Chicago"}
    assert "The Bear" in board_names_on_index(app)
    assert latest_log_row(db).action == "create board"


def test_board_form_errors_name_the_problem(
    db: Session, make: Factory, admin_client: Browserish
) -> None:
    make.board("taken")
    page = "/admin/boards/new"
    duplicate = admin_client.post(page, {"slug": "taken", "name": "Again"}, page=page)
    assert duplicate.status_code == 200 and "already lives at that address" in text_of(duplicate)
    bad_slug = admin_client.post(page, {"slug": "Not A Slug", "name": "X"}, page=page)
    assert "lowercase letters" in text_of(bad_slug)
    bad_facts = admin_client.post(
        page, {"slug": "ok", "name": "Ok", "facts": "a: b\nnonsense"}, page=page
    )
    assert "Line 2" in text_of(bad_facts) and "nonsense" in text_of(bad_facts)
    assert db.scalar(select(func.count(Board.id))) == 1
    assert log_count(db) == 0


def test_edit_a_board(db: Session, make: Factory, admin_client: Browserish) -> None:
    board = make.board(
        "severance",
        name="Severance",
        network="Apple TV+",
        status="airing",
        facts={"creator": "Dan Erickson"},
    )
    form = text_of(admin_client.get("/admin/boards/severance/edit"))
    assert 'value="Severance"' in form and "creator: Dan Erickson" in form
    assert '<option selected value="airing">' in form
    saved = admin_client.post(
        "/admin/boards/severance/edit",
        {
            "name": "Severance (Lumon)",
            "network": "Apple TV+",
            "status": "renewed",
            "premiered": "2022",
            "facts": "creator: Dan Erickson\nseasons: 2",
            "slug": "hijacked",  # the address can't change
        },
        page="/admin/boards/severance/edit",
    )
    assert saved.status_code == 302
    fresh(db, board)
    assert (board.slug, board.name, board.status, board.premiered) == (
        "severance",
        "Severance (Lumon)",
        "renewed",
        2022,
    )
    assert board.facts == {"creator": "Dan Erickson", "seasons": "2"}
    row = latest_log_row(db)
    assert row.action == "edit board" and "name" in row.details and "facts" in row.details


def test_archiving_hides_a_board_from_the_index_but_keeps_it_readable_and_closed(
    app: Flask, db: Session, make: Factory, admin_client: Browserish, member: User
) -> None:
    board = make.board("lost", name="Lost")
    thread = make.thread(board, title="The numbers")
    confirm = admin_client.get("/admin/boards/lost/archive/confirm")
    assert confirm.status_code == 200 and 'method="post"' in text_of(confirm)
    assert admin_client.post("/admin/boards/lost/archive", page="/admin").status_code == 302
    fresh(db, board)
    assert board.is_archived

    assert "Lost" not in board_names_on_index(app)
    visitor_page = browser_for(app).get("/b/lost")
    assert visitor_page.status_code == 200 and "The numbers" in text_of(visitor_page)
    fan = browser_for(app, member)
    refused = fan.post("/b/lost/new", {"title": "Still here?", "body": "Anyone?"}, page="/")
    assert refused.status_code == 403
    reply = fan.post(f"/t/{thread.id}/reply", {"body": "Late reply"}, page="/")
    assert reply.status_code == 403 and "archived" in text_of(reply)
    assert db.scalar(select(func.count(Thread.id))) == 1

    assert admin_client.post("/admin/boards/lost/unarchive", page="/admin").status_code == 302
    assert "Lost" in board_names_on_index(app)
    assert [r.action for r in db.scalars(select(ModAction).order_by(ModAction.id))] == [
        "archive board",
        "unarchive board",
    ]


def test_reorder_boards_with_up_and_down(
    app: Flask, db: Session, make: Factory, admin_client: Browserish
) -> None:
    for position, name in enumerate(("Alpha", "Bravo", "Charlie"), 1):
        make.board(name.lower(), name=name, position=position)
    assert board_names_on_index(app) == ["Alpha", "Bravo", "Charlie"]
    page = text_of(admin_client.get("/admin"))
    assert page.index(">Alpha<") < page.index(">Bravo<") < page.index(">Charlie<")
    assert (
        admin_client.post(
            "/admin/boards/charlie/move", {"direction": "up"}, page="/admin"
        ).status_code
        == 302
    )
    assert board_names_on_index(app) == ["Alpha", "Charlie", "Bravo"]
    admin_client.post("/admin/boards/alpha/move", {"direction": "down"}, page="/admin")
    assert board_names_on_index(app) == ["Charlie", "Alpha", "Bravo"]
    assert log_count(db) == 2


# ------------------------------------------------------------------------------ users


def test_role_change_with_board_scope(
    app: Flask, db: Session, make: Factory, admin_client: Browserish
) -> None:
    severance, lost = make.board("severance", name="Severance"), make.board("lost", name="Lost")
    candidate = make.user("helper_hana")
    in_severance, in_lost = make.thread(severance), make.thread(lost)

    page = text_of(admin_client.get("/admin/users/helper_hana"))
    assert re.search(r'<input checked id="role-0"[^>]*value="member"', page)
    assert f'value="{severance.id}"' in page and "<legend" in page

    saved = admin_client.post(
        "/admin/users/helper_hana/role",
        {"role": "moderator", "boards": [severance.id]},
        page="/admin/users/helper_hana",
    )
    assert saved.status_code == 302
    fresh(db, candidate)
    assert candidate.role == "moderator"
    assert list(db.scalars(select(BoardModerator.board_id))) == [severance.id]
    page = text_of(admin_client.get("/admin/users/helper_hana"))
    assert re.search(r'<input checked id="role-1"[^>]*value="moderator"', page)
    assert re.search(rf'<input checked id="boards-\d"[^>]*value="{severance.id}"', page)
    assert latest_log_row(db).details == "from member to moderator of Severance"

    helper = browser_for(app, candidate)
    assert (
        helper.post(f"/mod/threads/{in_severance.id}", {"action": "lock"}, page="/").status_code
        == 302
    )
    assert (
        helper.post(f"/mod/threads/{in_lost.id}", {"action": "lock"}, page="/").status_code == 403
    )

    admin_client.post(
        "/admin/users/helper_hana/role", {"role": "member"}, page="/admin/users/helper_hana"
    )
    fresh(db, candidate)
    assert candidate.role == "member"
    assert db.scalar(select(func.count()).select_from(BoardModerator)) == 0
    assert browser_for(app, candidate).get("/mod").status_code == 403


def test_admins_cannot_change_their_own_role(
    db: Session, admin: User, admin_client: Browserish
) -> None:
    page = text_of(admin_client.get(f"/admin/users/{admin.username}"))
    assert "can't change your own role" in page
    refused = admin_client.post(
        f"/admin/users/{admin.username}/role", {"role": "member"}, page="/admin"
    )
    assert refused.status_code == 403
    fresh(db, admin)
    assert admin.role == "admin" and log_count(db) == 0


def test_user_search_by_name_or_email_paged(make: Factory, admin_client: Browserish) -> None:
    make.user("marsha")
    make.user("gerald")
    for n in range(55):
        make.user(f"bulk{n:02d}")
    by_name = text_of(admin_client.get("/admin/users?q=MARS"))
    assert ">marsha<" in by_name and ">gerald<" not in by_name
    by_email = text_of(admin_client.get("/admin/users?q=gerald@example"))
    assert ">gerald<" in by_email and ">marsha<" not in by_email
    # LIKE wildcards are literal text here.
    assert "No users match" in text_of(admin_client.get("/admin/users?q=%25"))
    first = text_of(admin_client.get("/admin/users?q=bulk"))
    assert first.count('href="/admin/users/bulk') == 50
    assert "q=bulk" in first and "page=2" in first
    second = text_of(admin_client.get("/admin/users?q=bulk&page=2"))
    assert second.count('href="/admin/users/bulk') == 5


def test_user_page_shows_posts_reports_and_moderation_history(
    app: Flask, db: Session, make: Factory, admin_client: Browserish
) -> None:
    fan = make.user("busy_bee")
    thread = make.thread(author=fan, title="My theory thread")
    other = make.reply(thread, make.user(), "Another take")
    file_report(db, other, fan, "off-topic")
    admin_client.post(
        "/mod/users/busy_bee/suspend", {"duration": "day", "reason": "Flooding"}, page="/"
    )
    page = text_of(admin_client.get("/admin/users/busy_bee"))
    assert "My theory thread" in page
    assert "off-topic" in page
    assert "suspend user" in page and "Flooding" in page
    assert "busy_bee@example.org" in page


# ------------------------------------------------------------------------------ settings


def test_settings_save_and_are_used(app: Flask, db: Session, admin_client: Browserish) -> None:
    with app.app_context():
        assert settings.registration_open(db) is True
        assert settings.get_settings(db).site_name == "Showboard"

    page = text_of(admin_client.get("/admin/settings"))
    assert re.search(r'<input checked id="registration-0"[^>]*value="open"', page)
    saved = admin_client.post(
        "/admin/settings",
        {
            "site_name": "Fanboard",
            "tagline": "TV, together",
            "registration": "closed",
            "rules_markdown": "Be **kind**. <script>x</script>",
        },
        page="/admin/settings",
    )
    assert saved.status_code == 302
    assert latest_log_row(db).action == "change settings"

    page = text_of(admin_client.get("/admin/settings"))
    assert 'value="Fanboard"' in page
    assert re.search(r'<input checked id="registration-1"[^>]*value="closed"', page)
    with app.app_context():
        current = settings.get_settings(db)
        assert (current.site_name, current.tagline, current.registration_open) == (
            "Fanboard",
            "TV, together",
            False,
        )
        assert "<strong>kind</strong>" in current.rules_html
        assert "<script>" not in current.rules_html
        assert settings.registration_open(db) is False


def test_settings_are_cached_and_a_save_refreshes_them(
    app: Flask, db: Session, admin: User, sql: StatementLog
) -> None:
    with app.app_context():
        settings.get_settings(db)
        sql.clear()
        settings.get_settings(db)
        settings.registration_open(db)
        assert len(sql) == 0

        settings.save(db, admin, "Renamed", "", False, "")
        db.commit()
        assert settings.get_settings(db).site_name == "Showboard"  # another process's view
        settings.forget_cached()
        assert settings.get_settings(db).site_name == "Renamed"
        assert settings.registration_open(db) is False


# ------------------------------------------------------------------------------ purge


def test_purge_removes_text_and_history_for_good(
    app: Flask, db: Session, make: Factory, admin_client: Browserish, member: User
) -> None:
    thread = make.thread(author=member, body="My address is 1 Main St")
    post = db.scalar(select(Post).where(Post.thread_id == thread.id))
    assert post is not None
    fan = browser_for(app, member)
    fan.post(f"/p/{post.id}/edit", {"body": "Oops, removed"}, page=f"/p/{post.id}/edit")
    assert db.scalar(select(func.count(PostRevision.id))) == 2

    confirm = admin_client.get(f"/admin/posts/{post.id}/purge/confirm")
    assert confirm.status_code == 200 and "can't be undone" in text_of(confirm)
    purged = admin_client.post(
        f"/admin/posts/{post.id}/purge", {"reason": "Personal data"}, page="/"
    )
    assert purged.status_code == 302
    fresh(db, post)
    assert (post.source, post.html, post.is_deleted) == ("", "", True)
    assert db.scalar(select(func.count(PostRevision.id))) == 0
    row = latest_log_row(db)
    assert (row.action, row.target_post_id, row.reason) == ("purge post", post.id, "Personal data")
    assert browser_for(app).get(f"/p/{post.id}/revisions").status_code == 403
    assert "1 Main St" not in text_of(browser_for(app).get(f"/t/{thread.id}/{thread.slug}"))


def test_missing_admin_objects_are_404(admin_client: Browserish) -> None:
    assert admin_client.get("/admin/boards/nope/edit").status_code == 404
    assert admin_client.get("/admin/users/nobody").status_code == 404
    assert admin_client.get("/admin/posts/999999/purge/confirm").status_code == 404
    assert admin_client.post("/admin/boards/nope/archive", page="/admin").status_code == 404
