"""Every moderator and admin endpoint, tried by every kind of actor.

ENDPOINTS lists each route of the `mod` and `admin` blueprints with who may use it; a test
compares the list with the app's URL map, so a new endpoint can't slip in untested. For each
(endpoint, actor) pair: allowed actors succeed (GET 200; POST 302 with exactly one new log row),
visitors are sent to the login page, everyone else gets 403. Refused attempts, and every GET,
must leave the database exactly as it was.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import Table, func, select
from sqlalchemy.orm import Session

from forum.models import (
    Board,
    BoardModerator,
    BoardSuspension,
    ModAction,
    Post,
    PostRevision,
    Report,
    Role,
    SiteSetting,
    Thread,
    User,
    utcnow,
)
from tests.conftest import Factory, browser_for, file_report, moderator_of

ACTORS = (
    "visitor",
    "member",
    "author",
    "suspended",
    "other_board_mod",
    "board_mod",
    "global_mod",
    "admin",
)
# Who may do what. "this" board holds the thread; "other" is another board.
BOARD_MODS = frozenset({"board_mod", "global_mod", "admin"})  # moderate this board
ANY_MOD = BOARD_MODS | {"other_board_mod"}  # may use the moderator area
BOTH_BOARDS = frozenset({"global_mod", "admin"})  # moderate this board and the other one
SITE_WIDE = BOTH_BOARDS  # site-wide suspensions and bans: global moderators and admins
ADMINS = frozenset({"admin"})


@dataclass(frozen=True)
class Endpoint:
    method: str
    rule: str  # exactly as in app.url_map
    path: str  # with {placeholders} filled from the World
    allowed: frozenset[str]
    data: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.method} {self.rule}"


ENDPOINTS = [
    # The moderator area.
    Endpoint("GET", "/mod", "/mod", ANY_MOD),
    Endpoint("GET", "/mod/reports", "/mod/reports", ANY_MOD),
    Endpoint(
        "POST",
        "/mod/reports/<int:post_id>",
        "/mod/reports/{post}",
        BOARD_MODS,
        {"action": "resolve", "resolution": "Talked to them"},
    ),
    Endpoint(
        "POST",
        "/mod/threads/<int:thread_id>",
        "/mod/threads/{thread}",
        BOARD_MODS,
        {"action": "lock", "reason": "Cooling off"},
    ),
    Endpoint(
        "GET",
        "/mod/threads/<int:thread_id>/hide/confirm",
        "/mod/threads/{thread}/hide/confirm",
        BOARD_MODS,
    ),
    Endpoint(
        "POST",
        "/mod/threads/<int:thread_id>/hide",
        "/mod/threads/{thread}/hide",
        BOARD_MODS,
        {"reason": "Leaked script"},
    ),
    Endpoint(
        "POST",
        "/mod/threads/<int:thread_id>/move",
        "/mod/threads/{thread}/move",
        BOTH_BOARDS,
        {"board": "{other_id}"},
    ),
    Endpoint(
        "GET", "/mod/threads/<int:thread_id>/rename", "/mod/threads/{thread}/rename", BOARD_MODS
    ),
    Endpoint(
        "POST",
        "/mod/threads/<int:thread_id>/rename",
        "/mod/threads/{thread}/rename",
        BOARD_MODS,
        {"title": "A clearer title"},
    ),
    Endpoint(
        "GET", "/mod/posts/<int:post_id>/hide/confirm", "/mod/posts/{post}/hide/confirm", BOARD_MODS
    ),
    Endpoint(
        "POST",
        "/mod/posts/<int:post_id>/hide",
        "/mod/posts/{post}/hide",
        BOARD_MODS,
        {"reason": "Rude"},
    ),
    Endpoint(
        "POST",
        "/mod/posts/<int:post_id>/restore",
        "/mod/posts/{post}/restore",
        BOARD_MODS,
        {"reason": "On reflection, fine"},
    ),
    Endpoint("GET", "/mod/users/<username>/suspend", "/mod/users/{author}/suspend", ANY_MOD),
    Endpoint(
        "POST",
        "/mod/users/<username>/suspend",
        "/mod/users/{author}/suspend",
        SITE_WIDE,
        {"duration": "day", "reason": "Spoilers"},
    ),
    Endpoint("POST", "/mod/users/<username>/lift", "/mod/users/{suspended}/lift", SITE_WIDE),
    Endpoint(
        "POST",
        "/mod/users/<username>/board-suspend",
        "/mod/users/{author}/board-suspend",
        BOARD_MODS,
        {"board": "{this_id}", "duration": "week", "reason": "Spoilers"},
    ),
    Endpoint(
        "POST",
        "/mod/users/<username>/board-lift",
        "/mod/users/{restricted}/board-lift",
        BOARD_MODS,
        {"board": "{this_id}", "reason": "Served"},
    ),
    # The admin area.
    Endpoint("GET", "/admin", "/admin", ADMINS),
    Endpoint("GET", "/admin/boards/new", "/admin/boards/new", ADMINS),
    Endpoint(
        "POST",
        "/admin/boards/new",
        "/admin/boards/new",
        ADMINS,
        {"slug": "brand-new", "name": "Brand New", "status": "airing"},
    ),
    Endpoint("GET", "/admin/boards/<slug>/edit", "/admin/boards/{board}/edit", ADMINS),
    Endpoint(
        "POST",
        "/admin/boards/<slug>/edit",
        "/admin/boards/{board}/edit",
        ADMINS,
        {"name": "This Show (edited)", "facts": "Creator: Someone"},
    ),
    Endpoint(
        "POST",
        "/admin/boards/<slug>/move",
        "/admin/boards/{board}/move",
        ADMINS,
        {"direction": "down"},
    ),
    Endpoint(
        "GET",
        "/admin/boards/<slug>/archive/confirm",
        "/admin/boards/{board}/archive/confirm",
        ADMINS,
    ),
    Endpoint("POST", "/admin/boards/<slug>/archive", "/admin/boards/{board}/archive", ADMINS),
    Endpoint("POST", "/admin/boards/<slug>/unarchive", "/admin/boards/{board}/unarchive", ADMINS),
    Endpoint("GET", "/admin/users", "/admin/users?q=fan", ADMINS),
    Endpoint("GET", "/admin/users/<username>", "/admin/users/{author}", ADMINS),
    Endpoint(
        "POST",
        "/admin/users/<username>/role",
        "/admin/users/{author}/role",
        ADMINS,
        {"role": "moderator", "boards": "{this_id}"},
    ),
    Endpoint(
        "GET",
        "/admin/users/<username>/delete/confirm",
        "/admin/users/{suspended}/delete/confirm",
        ADMINS,
    ),
    Endpoint(
        "POST",
        "/admin/users/<username>/delete",
        "/admin/users/{suspended}/delete",
        ADMINS,
        {"reason": "Spam account"},
    ),
    Endpoint("GET", "/admin/settings", "/admin/settings", ADMINS),
    Endpoint(
        "POST",
        "/admin/settings",
        "/admin/settings",
        ADMINS,
        {"site_name": "Fanboard", "registration": "closed"},
    ),
    Endpoint(
        "GET",
        "/admin/posts/<int:post_id>/purge/confirm",
        "/admin/posts/{post}/purge/confirm",
        ADMINS,
    ),
    Endpoint(
        "POST",
        "/admin/posts/<int:post_id>/purge",
        "/admin/posts/{post}/purge",
        ADMINS,
        {"reason": "Personal data"},
    ),
]


@dataclass
class World:
    this: Board
    other: Board
    thread: Thread
    post: Post
    actors: dict[str, User | None]

    restricted: User  # a member suspended on "this" board

    def fill(self, template: str) -> str:
        author, suspended = self.actors["author"], self.actors["suspended"]
        assert author is not None and suspended is not None
        return template.format(
            thread=self.thread.id,
            post=self.post.id,
            board=self.this.slug,
            this_id=self.this.id,
            other_id=self.other.id,
            author=author.username,
            suspended=suspended.username,
            restricted=self.restricted.username,
        )


@pytest.fixture
def world(db: Session, make: Factory) -> World:
    this, other = make.board("this-show"), make.board("other-show")
    author = make.user("fan_author")
    thread = make.thread(this, author=author, title="Who is the mole?")
    post = make.reply(thread, author, "It's obviously the gardener.")
    member = make.user("fan_member")
    file_report(db, post, member, "spoiler")
    suspended = make.user("fan_suspended")
    suspended.suspended_until = utcnow() + timedelta(days=1)
    suspended.suspension_reason = "Spoilers"
    restricted = make.user("fan_restricted")
    until = utcnow() + timedelta(days=2)
    db.add(BoardSuspension(user_id=restricted.id, board_id=this.id, until=until, reason="Rude"))
    restricted.board_suspended_until = until
    db.commit()
    actors: dict[str, User | None] = {
        "visitor": None,
        "member": member,
        "author": author,
        "suspended": suspended,
        "other_board_mod": moderator_of(make, db, other, name="mod_other"),
        "board_mod": moderator_of(make, db, this, name="mod_this"),
        "global_mod": moderator_of(make, db, name="mod_global"),
        "admin": make.user("the_admin", role=Role.ADMIN),
    }
    return World(this, other, thread, post, actors, restricted)


WATCHED_TABLES: list[Table] = [
    model.__table__  # type: ignore[misc]
    for model in (
        Board,
        Thread,
        Post,
        PostRevision,
        Report,
        BoardModerator,
        BoardSuspension,
        SiteSetting,
        ModAction,
    )
]


def snapshot(db: Session) -> dict[str, list[Any]]:
    """Everything moderation could change (logins write sessions, so users are by column)."""
    db.expire_all()
    state = {
        table.name: sorted(map(tuple, db.execute(select(table)).all()), key=repr)
        for table in WATCHED_TABLES
    }
    state["users"] = sorted(
        map(
            tuple,
            db.execute(
                select(
                    User.id,
                    User.role,
                    User.suspended_until,
                    User.is_banned,
                    User.suspension_reason,
                    User.board_suspended_until,
                    User.post_count,
                )
            ).all(),
        )
    )
    return state


def log_count(db: Session) -> int:
    return db.scalar(select(func.count(ModAction.id))) or 0


# ------------------------------------------------------------------------------ the matrix


def test_the_list_covers_every_mod_and_admin_route(app: Flask) -> None:
    routed = {
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        if rule.endpoint.partition(".")[0] in ("mod", "admin")
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}
    }
    listed = {(endpoint.method, endpoint.rule) for endpoint in ENDPOINTS}
    assert listed == routed
    assert len(listed) == len(ENDPOINTS), "an endpoint is listed twice"


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=str)
def test_who_may_use_each_endpoint(
    app: Flask, db: Session, world: World, endpoint: Endpoint, actor: str
) -> None:
    browser = browser_for(app, world.actors[actor])
    path = world.fill(endpoint.path)
    data = {key: world.fill(value) for key, value in endpoint.data.items()}
    before, rows_before = snapshot(db), log_count(db)

    get = endpoint.method == "GET"
    response = browser.get(path) if get else browser.post(path, data, page="/login")

    allowed = actor in endpoint.allowed
    if actor == "visitor":
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login")
    elif not allowed:
        assert response.status_code == 403, response.get_data(as_text=True)[:2000]
    elif endpoint.method == "GET":
        assert response.status_code == 200
    else:
        assert response.status_code == 302, response.get_data(as_text=True)[:2000]
        assert not response.headers["Location"].startswith("/login")
        assert log_count(db) == rows_before + 1, "an action writes exactly one log row"
        return
    # Refused, or a GET: nothing changed at all.
    assert log_count(db) == rows_before
    assert snapshot(db) == before


def test_refused_forged_posts_change_nothing(app: Flask, db: Session, world: World) -> None:
    """Without a CSRF token even an admin's POST is refused."""
    admin = browser_for(app, world.actors["admin"])
    before = snapshot(db)
    for endpoint in ENDPOINTS:
        if endpoint.method == "POST":
            data = {key: world.fill(value) for key, value in endpoint.data.items()}
            response = admin.raw_post(world.fill(endpoint.path), data)
            assert response.status_code == 400, endpoint
    assert snapshot(db) == before
