"""Links to the staff areas and to the public pages nobody could find (issue 11, defect 6).

Moderators and admins get header links to /mod and /mod/reports, the latter with the number of
posts waiting in *their* queue (a board moderator's counts only their boards), admins also to
/admin; everyone gets the public moderation log in the footer, members their own reports. The
count is a query, so only staff pay it (tests/test_mod_statement_counts.py pins the totals)."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from forum.models import Board, BoardModerator, Post, Report, ReportStatus, Role, User, utcnow
from tests.conftest import Browserish, Factory, StatementLog

STAFF_NAV = re.compile(r'<nav class="staff-nav" aria-label="Staff">(.*?)</nav>', re.S)


def browser(app: Flask, user: User | None = None) -> Browserish:
    client = Browserish(app.test_client())
    if user is not None:
        client.login(user.username)
    return client


def staff_nav(page: str) -> str | None:
    found = STAFF_NAV.search(page)
    return found.group(1) if found else None


def reports_badge(page: str) -> int | None:
    nav = staff_nav(page)
    assert nav is not None
    badge = re.search(r'<span class="count-badge">(\d+)<span class="visually-hidden">', nav)
    return int(badge.group(1)) if badge else None


def report(db: Session, board: Board, make: Factory, reporters: int = 1) -> Post:
    """A post on `board` with `reporters` open reports."""
    thread = make.thread(board)
    post = db.get(Post, thread.last_post_id)
    assert post is not None
    for _ in range(reporters):
        db.add(
            Report(post_id=post.id, reporter_id=make.user().id, reason="spam", created_at=utcnow())
        )
    db.commit()
    return post


def footer(page: str) -> str:
    found = re.search(r'<footer class="site-footer">(.*?)</footer>', page, re.S)
    assert found is not None
    return found.group(1)


def test_a_visitor_sees_no_staff_links_and_the_public_log_in_the_footer(app: Flask) -> None:
    page = browser(app).get("/").get_data(as_text=True)

    assert staff_nav(page) is None
    assert 'href="/mod"' not in page and 'href="/admin"' not in page
    assert 'href="/mod/log"' in footer(page)
    assert "/reports/mine" not in page


def test_a_member_finds_their_reports_and_the_log_but_no_staff_links(
    app: Flask, make: Factory
) -> None:
    page = browser(app, make.user("plain_fan")).get("/").get_data(as_text=True)

    assert staff_nav(page) is None
    assert 'href="/mod/reports"' not in page and 'href="/admin"' not in page
    assert '<a href="/reports/mine">My reports</a>' in footer(page)
    assert 'href="/mod/log"' in footer(page)
    assert browser(app, make.user()).get("/reports/mine").status_code == 200


def test_a_global_moderator_gets_the_mod_area_and_every_boards_count(
    app: Flask, db: Session, make: Factory
) -> None:
    severance, lost = make.board("severance"), make.board("lost")
    report(db, severance, make, reporters=3)  # one post, three reports: one queue entry
    report(db, lost, make)
    moderator = browser(app, make.user("mod_global", role=Role.MODERATOR))

    page = moderator.get("/").get_data(as_text=True)

    nav = staff_nav(page)
    assert nav is not None
    assert 'href="/mod"' in nav and 'href="/mod/reports"' in nav
    assert 'href="/admin"' not in page
    assert reports_badge(page) == 2
    queue = moderator.get("/mod/reports").get_data(as_text=True)
    assert queue.count('report-entry" id="reported-') == 2  # the badge counts what the queue lists


def test_a_board_moderator_counts_only_their_boards(app: Flask, db: Session, make: Factory) -> None:
    severance, lost = make.board("severance"), make.board("lost")
    report(db, severance, make)
    report(db, lost, make)
    report(db, lost, make)
    scoped = make.user("mod_of_severance", role=Role.MODERATOR)
    db.add(BoardModerator(user_id=scoped.id, board_id=severance.id))
    db.commit()

    assert reports_badge(browser(app, scoped).get("/").get_data(as_text=True)) == 1


def test_handled_reports_leave_the_count_and_none_shows_no_badge(
    app: Flask, db: Session, make: Factory
) -> None:
    post = report(db, make.board("severance"), make)
    moderator = browser(app, make.user("mod_tidy", role=Role.MODERATOR))
    assert reports_badge(moderator.get("/").get_data(as_text=True)) == 1

    db.query(Report).filter(Report.post_id == post.id).update(
        {Report.status: ReportStatus.RESOLVED.value}
    )
    db.commit()

    page = moderator.get("/").get_data(as_text=True)
    assert reports_badge(page) is None
    assert 'href="/mod/reports"' in (staff_nav(page) or "")


def test_an_admin_also_gets_the_admin_area(app: Flask, db: Session, make: Factory) -> None:
    report(db, make.board("severance"), make)

    page = browser(app, make.user("admin_ada", role=Role.ADMIN)).get("/").get_data(as_text=True)

    nav = staff_nav(page)
    assert nav is not None
    assert 'href="/mod"' in nav and 'href="/mod/reports"' in nav and 'href="/admin"' in nav
    assert reports_badge(page) == 1


@pytest.mark.parametrize("path", ["/mod", "/mod/reports", "/admin", "/mod/log", "/settings"])
def test_every_link_offered_to_an_admin_opens(app: Flask, make: Factory, path: str) -> None:
    admin = browser(app, make.user("admin_ada", role=Role.ADMIN))
    page = admin.get("/").get_data(as_text=True)
    assert f'href="{path}"' in page

    assert admin.get(path).status_code == 200


def test_members_pay_no_statement_for_the_staff_links(
    app: Flask, db: Session, make: Factory, sql: StatementLog
) -> None:
    report(db, make.board("severance"), make)
    member = browser(app, make.user("counted_fan"))
    moderator = browser(app, make.user("counted_mod", role=Role.MODERATOR))

    def statements(client: Browserish) -> list[str]:
        client.get("/settings")  # warm the per-process caches
        sql.clear()
        assert client.get("/settings").status_code == 200
        return [s for s in sql.statements if "report" in s.lower()]

    assert statements(member) == []
    assert len(statements(moderator)) == 1
