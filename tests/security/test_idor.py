"""Insecure direct object references: a member (mallory) changes ids in URLs and forms to reach
other members' posts, threads, reports, sessions, settings and profiles, and the moderation and
admin routes (found in the URL map at run time, so new ones are covered as they land). A
moderator of one board tries the same on another board.

Every refusal is checked to change nothing; a control request by someone allowed shows each
route does work, so the refusal is the permission check's doing.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from flask import Flask
from flask_login.utils import encode_cookie
from sqlalchemy import select
from sqlalchemy.orm import Session

from forum.models import AuthSession, Report, User
from tests.conftest import PASSWORD, Browserish, browser_for
from tests.html_scan import csrf_token, read
from tests.security.targets import (
    FORMS,
    SECRET,
    Aim,
    Forum,
    changed_tables,
    route_url,
    rules,
    rules_only_app,
    snapshot,
)

APP = rules_only_app()
PUBLIC = {"/mod/log"}  # the moderation log is public by design
MOD_AND_ADMIN = [
    (method, rule)
    for prefix in ("/mod", "/admin")
    for method in ("GET", "POST")
    for rule in rules(APP, method, prefix)
    if rule not in PUBLIC
]
# Routes about one thread or post: a board's moderator may use them on that board only.
BOARD_SCOPED = [
    (method, rule)
    for method, rule in MOD_AND_ADMIN
    if rule.startswith("/mod/") and ("<int:thread_id>" in rule or "<int:post_id>" in rule)
]


@dataclass
class Actor:
    """A logged-in browser and the CSRF token of its session (valid as long as the session)."""

    client: Browserish
    token: str


def actor(app: Flask, username: str) -> Actor:
    client = browser_for(app, username)
    return Actor(client, client.token("/settings"))


def send(who: Actor, method: str, rule: str, aim: Aim, username: str = "victor") -> int:
    """One request to `rule` aimed at `aim`; a POST carries a valid CSRF token and the form
    that works for someone allowed, so only the permission check can refuse it."""
    url = route_url(rule, aim, username=username)
    if method == "GET":
        return who.client.get(url).status_code
    assert rule in FORMS, f"new POST route {rule}: add its form to FORMS in conftest.py"
    return who.client.client.post(
        url, data={**FORMS[rule](aim), "csrf_token": who.token}
    ).status_code


def test_routes_were_found() -> None:
    assert len(MOD_AND_ADMIN) >= 20 and len(BOARD_SCOPED) >= 6


# ------------------------------------------------------------------------------ mod and admin
# One test per person and area, each request checked in turn: the forum fixture is built once.


def refusals(
    who: Actor, routes: list[tuple[str, str]], aim: Aim, username: str = "victor"
) -> list[str]:
    """The routes that did NOT answer 403."""
    answered = [(method, rule, send(who, method, rule, aim, username)) for method, rule in routes]
    return [f"{method} {rule}: {status}" for method, rule, status in answered if status != 403]


def test_member_is_refused_every_moderator_and_admin_route(
    app: Flask, forum: Forum, db: Session
) -> None:
    mallory = actor(app, forum.mallory.username)
    before = snapshot(db)

    let_through = refusals(mallory, MOD_AND_ADMIN, forum.main)

    assert let_through == [], f"a member got past {len(let_through)} routes: {let_through}"
    assert changed_tables(before, snapshot(db)) == []


def test_board_moderator_is_refused_on_other_boards(app: Flask, forum: Forum, db: Session) -> None:
    morgan = actor(app, forum.moderator.username)
    before = snapshot(db)

    let_through = refusals(morgan, BOARD_SCOPED, forum.severance)

    assert let_through == [], f"Partner Track's moderator acted on Severance: {let_through}"
    assert changed_tables(before, snapshot(db)) == []


@pytest.mark.parametrize(
    "method, rule",
    [
        route
        for route in BOARD_SCOPED
        if not route[1].endswith("/move")  # needs 2 boards of his
    ],
)
def test_board_moderator_may_use_them_on_his_own_board(
    app: Flask, forum: Forum, method: str, rule: str
) -> None:
    """The control for the test above: each route works where he is a moderator."""
    morgan = actor(app, forum.moderator.username)

    assert send(morgan, method, rule, forum.partner_track) < 400


def test_moderator_is_refused_every_admin_route(app: Flask, forum: Forum, db: Session) -> None:
    morgan = actor(app, forum.moderator.username)
    before = snapshot(db)

    let_through = refusals(
        morgan,
        [r for r in MOD_AND_ADMIN if r[1].startswith("/admin")],
        forum.main,
        username="mallory",
    )

    assert let_through == [], f"a moderator got past admin routes: {let_through}"
    assert changed_tables(before, snapshot(db)) == []


def test_moderator_queue_shows_only_reports_from_their_boards(app: Flask, forum: Forum) -> None:
    morgan = browser_for(app, forum.moderator.username)

    queue = read(morgan.get("/mod/reports").get_data(as_text=True)).text

    assert "Mallory's reply on Partner Track" in queue  # control: his board's report is there
    assert "Mallory's reply on Severance" not in queue


# ------------------------------------------------------------------------------ posts


@pytest.mark.parametrize("board", ["partner_track", "severance"])
def test_member_cannot_edit_or_delete_someone_elses_post(
    app: Flask, forum: Forum, db: Session, board: str
) -> None:
    post_id = getattr(forum, board).post_id  # victor's reply on that board
    mallory = browser_for(app, forum.mallory.username)
    token = mallory.token("/settings")
    before = snapshot(db)

    assert mallory.get(f"/p/{post_id}/edit").status_code == 403
    edit = mallory.client.post(
        f"/p/{post_id}/edit", data={"csrf_token": token, "body": "Mallory was here"}
    )
    delete = mallory.client.post(f"/p/{post_id}/delete", data={"csrf_token": token})

    assert (edit.status_code, delete.status_code) == (403, 403)
    assert changed_tables(before, snapshot(db)) == []


def test_member_can_edit_her_own_post(app: Flask, forum: Forum, db: Session) -> None:
    """The control for the test above: the same requests on her own post succeed."""
    mallory = browser_for(app, forum.mallory.username)
    token = mallory.token("/settings")
    own = forum.main.reported_post_id

    response = mallory.client.post(
        f"/p/{own}/edit", data={"csrf_token": token, "body": "Mallory edited this"}
    )

    assert response.status_code == 302


def test_member_cannot_reply_to_or_report_in_a_hidden_thread(
    app: Flask, forum: Forum, db: Session
) -> None:
    mallory = browser_for(app, forum.mallory.username)
    token = mallory.token("/settings")
    hidden = forum.hidden_thread_id
    before = snapshot(db)

    post = forum.hidden_thread_post_id

    reply = mallory.client.post(
        f"/t/{hidden}/reply", data={"csrf_token": token, "body": "Found it"}
    )
    report = mallory.client.post(f"/p/{post}/report", data={"csrf_token": token, "reason": "spam"})

    assert (reply.status_code, report.status_code) == (404, 404)
    assert [
        mallory.get(url).status_code
        for url in (f"/t/{hidden}", f"/p/{post}", f"/p/{post}/report", f"/p/{post}/revisions")
    ] == [404] * 4
    assert changed_tables(before, snapshot(db)) == []


# ------------------------------------------------------------------------------ hidden content

HIDDEN_ELSEWHERE = [
    "/u/victor",
    "/p/{hidden_post_id}/revisions",
    "/p/{hidden_post_id}/report",
    "/b/{board_slug}",
    "/t/{hidden_thread_id}",
    "/",
    "/reports/mine",
    "/search?q=secret+finale",
    "/mod/log",
]


def _hidden_place(template: str, forum: Forum) -> str:
    aim = forum.main
    return template.format(
        thread_id=aim.thread_id,
        thread_slug=aim.thread_slug,
        hidden_post_id=aim.hidden_post_id,
        board_slug=aim.board_slug,
        hidden_thread_id=forum.hidden_thread_id,
    )


def _viewer(app: Flask, forum: Forum, viewer: str) -> Browserish:
    return (
        Browserish(app.test_client())
        if viewer == "anonymous"
        else browser_for(app, forum.mallory.username)
    )


@pytest.mark.parametrize("viewer", ["anonymous", "mallory"])
def test_hidden_text_is_not_shown_to_members_anywhere_else(
    app: Flask, forum: Forum, viewer: str
) -> None:
    client = _viewer(app, forum, viewer)
    shown = []
    for template in HIDDEN_ELSEWHERE:
        response = client.get(_hidden_place(template, forum), follow_redirects=True)
        if response.status_code >= 500 or SECRET in response.get_data(as_text=True):
            shown.append(f"{template}: {response.status_code}")

    assert shown == [], f"hidden text reached {viewer} on {shown}"


@pytest.mark.parametrize("viewer", ["anonymous", "mallory"])
def test_hidden_post_is_not_shown_on_its_thread_page(app: Flask, forum: Forum, viewer: str) -> None:
    client = _viewer(app, forum, viewer)

    thread = client.get(_hidden_place("/t/{thread_id}/{thread_slug}", forum))
    permalink = client.get(f"/p/{forum.main.hidden_post_id}", follow_redirects=True)

    assert thread.status_code == 200 and "Victor's reply on" in thread.get_data(as_text=True)
    assert SECRET not in thread.get_data(as_text=True)
    assert SECRET not in permalink.get_data(as_text=True)


@pytest.mark.parametrize("template", ["/t/{hidden_thread_id}", "/t/{thread_id}/{thread_slug}"])
def test_moderator_of_the_board_still_reads_hidden_text(
    app: Flask, forum: Forum, template: str
) -> None:
    """The control for the tests above: the secret is there for those allowed to read it."""
    morgan = browser_for(app, forum.moderator.username)

    response = morgan.get(_hidden_place(template, forum), follow_redirects=True)

    assert SECRET in response.get_data(as_text=True)


# ------------------------------------------------------------------------------ reports


def test_a_report_is_always_filed_by_whoever_sends_it(
    app: Flask, forum: Forum, db: Session
) -> None:
    mallory = browser_for(app, forum.mallory.username)
    post_id = forum.main.post_id
    token = mallory.token(f"/p/{post_id}/report")

    response = mallory.client.post(
        f"/p/{post_id}/report",
        data={
            "csrf_token": token,
            "reason": "spam",
            "details": "Filed in victor's name",
            "reporter_id": forum.victor.id,
            "reporter": "victor",
            "user_id": forum.victor.id,
            "username": "victor",
        },
    )

    assert response.status_code == 302
    report = db.scalar(select(Report).where(Report.post_id == post_id))
    assert report is not None and report.reporter_id == forum.mallory.id


def test_my_reports_never_lists_other_members_reports(app: Flask, forum: Forum) -> None:
    mallory = browser_for(app, forum.mallory.username)

    for url in (
        "/reports/mine",
        f"/reports/mine?user={forum.victor.id}",
        "/reports/mine?username=victor",
    ):
        assert "Victor's private report details" not in mallory.get(url).get_data(as_text=True)


# ------------------------------------------------------------------------------ sessions


def _user_id_cookie_client(app: Flask, user_id: str) -> Browserish:
    """A browser carrying a correctly signed session naming `user_id`, as if the attacker had
    the secret key: ids are still not session tokens."""
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = user_id
        session["_fresh"] = True
    return Browserish(client)


def test_a_session_naming_another_members_id_is_anonymous(app: Flask, forum: Forum) -> None:
    forged = _user_id_cookie_client(app, str(forum.victor.id))

    assert forged.get("/settings").status_code == 302  # sent to log in


def test_a_remember_cookie_naming_another_members_id_is_anonymous(app: Flask, forum: Forum) -> None:
    with app.test_request_context():
        cookie = encode_cookie(str(forum.victor.id))
    client = app.test_client()
    client.set_cookie("remember_token", cookie)

    assert client.get("/settings").status_code == 302


def test_logging_out_ends_only_your_own_session(app: Flask, forum: Forum, db: Session) -> None:
    victor = browser_for(app, forum.victor.username)
    mallory = browser_for(app, forum.mallory.username)
    token = csrf_token(mallory.get("/").get_data(as_text=True))

    mallory.client.post(
        "/logout", data={"csrf_token": token, "user_id": forum.victor.id, "username": "victor"}
    )

    assert victor.get("/settings").status_code == 200
    assert db.scalar(select(AuthSession).where(AuthSession.user_id == forum.victor.id))


# ------------------------------------------------------------------------------ settings, profiles


@pytest.mark.parametrize(
    "form",
    [
        pytest.param(
            {"em-email": "mallory.new@example.org", "em-current_password": PASSWORD}, id="email"
        ),
        pytest.param(
            {
                "pw-current_password": PASSWORD,
                "pw-new_password": "mallory's new phrase",
                "pw-confirm": "mallory's new phrase",
            },
            id="password",
        ),
    ],
)
def test_settings_change_only_the_member_who_sends_them(
    app: Flask, forum: Forum, db: Session, form: dict[str, str]
) -> None:
    victor_id, mallory_id = forum.victor.id, forum.mallory.id
    victor_before = (forum.victor.email, forum.victor.password_hash)
    mallory_before = (forum.mallory.email, forum.mallory.password_hash)
    mallory = browser_for(app, forum.mallory.username)
    token = mallory.token("/settings")
    endpoint = "/settings/email" if "em-email" in form else "/settings/password"

    response = mallory.client.post(
        endpoint,
        data={
            **form,
            "csrf_token": token,
            "user_id": victor_id,
            "username": "victor",
            "id": victor_id,
        },
    )

    assert response.status_code == 302
    db.expire_all()
    victor, mallory_now = db.get(User, victor_id), db.get(User, mallory_id)
    assert victor is not None and mallory_now is not None
    assert (victor.email, victor.password_hash) == victor_before
    assert (mallory_now.email, mallory_now.password_hash) != mallory_before


def test_account_deletion_deletes_only_the_sender(app: Flask, forum: Forum, db: Session) -> None:
    victor_id, mallory_id = forum.victor.id, forum.mallory.id
    mallory = browser_for(app, forum.mallory.username)
    token = mallory.token("/settings")

    mallory.client.post(
        "/settings/delete",
        data={
            "csrf_token": token,
            "del-password": PASSWORD,
            "user_id": victor_id,
            "username": "victor",
        },
    )

    db.expunge_all()
    assert db.get(User, victor_id) is not None
    assert db.get(User, mallory_id) is None


def test_profiles_do_not_reveal_email_addresses(app: Flask, forum: Forum) -> None:
    mallory = browser_for(app, forum.mallory.username)

    page = mallory.get("/u/victor").get_data(as_text=True)

    assert "victor@example.org" not in page
