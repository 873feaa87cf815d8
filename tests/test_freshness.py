"""Cache invalidation declared next to the write (forum/platform/freshness.py).

Each write names what it changes; an undeclared one empties the cache (and says so in the
log); only the app's own sessions are watched. The walks below hold posting's and
moderation's writing functions, and the requests that write, to a declaration."""

from __future__ import annotations

import ast
import inspect
import logging
from collections.abc import Callable
from datetime import timedelta
from types import ModuleType

import pytest
from flask import Flask
from sqlalchemy import event, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from forum.db import db_session
from forum.discussion import posting
from forum.models import AuthSession, Board, CacheState, Role, Thread, User, utcnow
from forum.platform import freshness
from forum.staff import moderation
from tests.conftest import Browserish, Factory

UNDECLARED = "undeclared write"


def site_version(db: Session) -> int:
    db.expire_all()
    return db.scalar(select(CacheState.version)) or 0


def row_versions(db: Session, thread: Thread) -> tuple[int, int, int]:
    db.expire_all()
    return (
        db.scalar(select(Thread.cache_version).where(Thread.id == thread.id)) or 0,
        db.scalar(select(Board.cache_version).where(Board.id == thread.board_id)) or 0,
        db.scalar(select(User.cache_version).where(User.id == thread.author_id)) or 0,
    )


# ------------------------------------------------------------------------------ the module


def test_nothing_listens_on_every_session_in_the_process(
    app: Flask, connection: Connection
) -> None:
    with app.test_request_context():
        db_session()  # the app's factory is watched from its first session on
    assert not event.contains(Session, "before_commit", freshness._before_commit)

    stranger = Session(bind=connection, join_transaction_mode="create_savepoint")
    before = stranger.scalar(select(CacheState.version))
    stranger.execute(update(Board).values(name="Renamed by a script"))
    stranger.commit()

    assert stranger.scalar(select(CacheState.version)) == before
    stranger.close()


def test_an_undeclared_write_empties_the_cache_and_says_so(
    app: Flask, make: Factory, db: Session, caplog: pytest.LogCaptureFixture
) -> None:
    board = make.board()
    before = site_version(db)
    with app.test_request_context("/somewhere", method="POST"), caplog.at_level(logging.INFO):
        session = db_session()
        session.get_one(Board, board.id).name = "Quietly renamed"
        session.commit()

    assert site_version(db) == before + 1
    assert any(
        UNDECLARED in r.getMessage() and "POST /somewhere" in r.getMessage() for r in caplog.records
    )


def test_a_private_write_leaves_every_version(
    app: Flask, make: Factory, db: Session, caplog: pytest.LogCaptureFixture
) -> None:
    thread = make.thread()
    before = site_version(db), row_versions(db, thread)
    with app.test_request_context(), caplog.at_level(logging.INFO):
        session = db_session()
        session.get_one(Board, thread.board_id).description = "Nobody sees this"
        freshness.private(session)
        session.commit()

    assert (site_version(db), row_versions(db, thread)) == before
    assert not [r for r in caplog.records if UNDECLARED in r.getMessage()]


def test_a_declared_row_bumps_that_rows_version_only(
    app: Flask, make: Factory, db: Session
) -> None:
    thread = make.thread()
    site = site_version(db)
    versions = row_versions(db, thread)
    with app.test_request_context():
        session = db_session()
        freshness.changed(session, thread=thread.id)
        freshness.changed(session, site=True)
        freshness.changed(session, site=True)  # once per transaction
        session.commit()

    assert row_versions(db, thread) == (versions[0] + 1, versions[1], versions[2])
    assert site_version(db) == site + 1


def test_a_rolled_back_declaration_is_forgotten(app: Flask, make: Factory, db: Session) -> None:
    board = make.board()
    with app.test_request_context():
        session = db_session()
        freshness.private(session)
        session.rollback()
        before = session.scalar(select(CacheState.version))
        session.get_one(Board, board.id).name = "After the rollback"
        session.commit()  # undeclared: the earlier private() must not cover it
        assert session.scalar(select(CacheState.version)) == before + 1


# ------------------------------------------------------------------------------ the walk

_WRITES = {"add", "delete", "flush"}


def _writes(function: ast.FunctionDef) -> bool:
    """Whether a function changes rows itself: assigns an attribute, adds or deletes
    through the session, or executes an UPDATE/INSERT/DELETE."""
    for node in ast.walk(function):
        if isinstance(node, (ast.Assign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Attribute) for t in targets):
                return True
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if (
                node.func.attr in _WRITES
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "session"
            ):
                return True
            if node.func.attr == "execute" and any(
                isinstance(a, ast.Call)
                and isinstance(a.func, ast.Name)
                and a.func.id in {"update", "insert", "delete"}
                for a in ast.walk(node)
            ):
                return True
            if node.func.attr == "execute" and any(
                isinstance(a, ast.Name) and a.id.startswith("_") and a.id.isupper()
                for a in node.args
            ):
                return True  # posting's prepared statements (_COUNT_POST, ...)
    return False


def _calls(function: ast.FunctionDef) -> set[str]:
    """The names a function calls: `f(...)` as f, `module.f(...)` as module.f."""
    found: set[str] = set()
    for node in ast.walk(function):
        if isinstance(node, ast.Call):
            if isinstance(node.func, ast.Name):
                found.add(node.func.id)
            elif isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Name):
                found.add(f"{node.func.value.id}.{node.func.attr}")
    return found


def undeclared_writers(*modules: ModuleType) -> list[str]:
    """Functions of these modules that write and reach no declaration, through the calls
    between them."""
    functions: dict[str, tuple[bool, set[str]]] = {}
    for module in modules:
        short = module.__name__.rsplit(".", 1)[-1]
        for node in ast.parse(inspect.getsource(module)).body:
            if isinstance(node, ast.FunctionDef):
                calls = {f"{short}.{c}" if "." not in c else c for c in _calls(node)}
                functions[f"{short}.{node.name}"] = (_writes(node), calls)
    declared = {"freshness.changed", "freshness.private"}
    grew = True
    while grew:
        reach = {name for name, (_w, calls) in functions.items() if calls & declared}
        grew = not reach <= declared
        declared |= reach
    return sorted(
        name
        for name, (writes, _c) in functions.items()
        if writes and name not in declared and not name.split(".")[1].startswith("_")
    )


def test_every_posting_and_moderation_write_declares_what_it_changes() -> None:
    assert undeclared_writers(posting, moderation) == []


def test_the_walk_finds_a_write_that_declares_nothing() -> None:
    source = "def hide(session, post):\n    post.is_hidden = True\n"
    module = ModuleType("forum.staff.example")
    exec(compile(source, "example", "exec"), module.__dict__)
    original = inspect.getsource
    try:
        inspect.getsource = lambda _m: source  # type: ignore[assignment]
        assert undeclared_writers(module) == ["example.hide"]
    finally:
        inspect.getsource = original


# ------------------------------------------------------------------------------ the requests


def browser_for(app: Flask, user: User) -> Browserish:
    browser = Browserish(app.test_client())
    browser.login(user.username)
    return browser


# Each sets up what its write needs and returns the write itself, so the site version is read
# just before it.
Request = Callable[[Flask, Factory, Session], Callable[[], object]]


def reply(app: Flask, make: Factory, db: Session) -> Callable[[], object]:
    thread = make.thread()
    browser = browser_for(app, make.user())
    return lambda: browser.post(
        f"/t/{thread.id}/reply", {"body": "Declared reply"}, page=f"/t/{thread.id}/{thread.slug}"
    )


def new_thread(app: Flask, make: Factory, db: Session) -> Callable[[], object]:
    board = make.board()
    browser = browser_for(app, make.user())
    return lambda: browser.post(
        f"/b/{board.slug}/new",
        {"title": "Declared", "body": "Declared thread"},
        page=f"/b/{board.slug}/new",
    )


def own_edit(app: Flask, make: Factory, db: Session) -> Callable[[], object]:
    author = make.user()
    post = make.reply(make.thread(), author)
    browser = browser_for(app, author)
    return lambda: browser.post(
        f"/p/{post.id}/edit", {"body": "Declared edit"}, page=f"/p/{post.id}/edit"
    )


def own_delete(app: Flask, make: Factory, db: Session) -> Callable[[], object]:
    author = make.user()
    thread = make.thread()
    post = make.reply(thread, author)
    browser = browser_for(app, author)
    return lambda: browser.post(f"/p/{post.id}/delete", page=f"/t/{thread.id}/{thread.slug}")


def report(app: Flask, make: Factory, db: Session) -> Callable[[], object]:
    post = make.reply(make.thread(), make.user())
    browser = browser_for(app, make.user())
    return lambda: browser.post(
        f"/p/{post.id}/report", {"reason": "spam"}, page=f"/p/{post.id}/report"
    )


def log_in_and_out(app: Flask, make: Factory, db: Session) -> Callable[[], object]:
    user = make.user()
    return lambda: browser_for(app, user).logout()


def stale_session_touch(app: Flask, make: Factory, db: Session) -> Callable[[], object]:
    browser = browser_for(app, make.user())
    db.execute(update(AuthSession).values(last_seen_at=utcnow() - timedelta(hours=1)))
    db.commit()
    return lambda: browser.get("/")


def lock(app: Flask, make: Factory, db: Session) -> Callable[[], object]:
    thread = make.thread()
    browser = browser_for(app, make.user(role=Role.MODERATOR))
    return lambda: browser.post(
        f"/mod/threads/{thread.id}", {"action": "lock"}, page=f"/t/{thread.id}/{thread.slug}"
    )


def settings(app: Flask, make: Factory, db: Session) -> Callable[[], object]:
    browser = browser_for(app, make.user(role=Role.ADMIN))
    return lambda: browser.post(
        "/admin/settings",
        {"site_name": "Declared", "tagline": "", "registration": "open", "rules_markdown": ""},
        page="/admin/settings",
    )


@pytest.mark.parametrize(
    ("request_", "empties_the_cache"),
    [
        (reply, False),
        (new_thread, False),
        (own_edit, False),
        (own_delete, False),
        (report, False),
        (log_in_and_out, False),
        (stale_session_touch, False),
        (lock, True),
        (settings, True),
    ],
    ids=lambda value: getattr(value, "__name__", str(value)),
)
def test_each_write_declares_what_it_changes(
    app: Flask,
    make: Factory,
    db: Session,
    caplog: pytest.LogCaptureFixture,
    request_: Request,
    empties_the_cache: bool,
) -> None:
    write = request_(app, make, db)
    before = site_version(db)
    with caplog.at_level(logging.INFO):
        response = write()

    assert getattr(response, "status_code", 0) in (200, 302)
    assert [r.getMessage() for r in caplog.records if UNDECLARED in r.getMessage()] == []
    assert site_version(db) > before if empties_the_cache else site_version(db) == before


def test_the_test_session_bumps_like_a_request_before_any_request(
    app: Flask, make: Factory, db: Session
) -> None:
    """The `db` fixture's session is set up like the app's own (tests/conftest.py): two
    site-wide writes committed in one test bump the site version twice, though the app has
    served no request. Before, the first bump's flag outlived its transaction, so later
    moderator actions in such tests bumped nothing and cache tests passed on a path production
    never takes."""
    moderator = make.user("bumping_mod", role=Role.ADMIN)
    thread = make.thread(title="Bumped twice")
    start = site_version(db)

    moderation.set_locked(db, moderator, thread, True)
    db.commit()
    once = site_version(db)
    moderation.set_locked(db, moderator, thread, False)
    db.commit()

    assert start < once < site_version(db)
