"""Shared fixtures.

Databases: SQLite by default; PostgreSQL when FORUM_TEST_DATABASE_URL points at one. Each
pytest-xdist worker gets its own database, built by the Alembic migrations. Each test runs in an
outer transaction that is rolled back; the app's commits become savepoints inside it.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from flask import Flask
from flask.testing import FlaskClient
from playwright.sync_api import Browser, sync_playwright
from sqlalchemy import event, func, make_url, select, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.test import TestResponse

from forum import create_app
from forum.accounts import passwords
from forum.accounts.membership import create_user, delete_account
from forum.accounts.passwords import hash_password
from forum.db import db_session, make_engine, session_factory
from forum.discussion import posting
from forum.models import (
    Board,
    BoardModerator,
    ModAction,
    Post,
    Report,
    Role,
    Thread,
    User,
    utcnow,
)
from forum.platform import migrate
from forum.staff import moderation
from tests.html_scan import csrf_token, signed_in_as

PASSWORD = "correct horse battery"
# The boards file shipped as an example, imported by the CLI and backup tests.
EXAMPLE_FILE = Path(__file__).resolve().parent.parent / "shows.example.toml"
# Argon2id at a test-sized cost: the suite hashes hundreds of passwords.
FAST_HASHING = {"ARGON2_TIME_COST": 1, "ARGON2_MEMORY_KIB": 1024}
CSRF_INPUT = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


# ------------------------------------------------------------------------------ databases


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def _run_id() -> str:
    """Shared by the workers of one pytest run, different between runs: two runs on one
    PostgreSQL server (a developer's and CI's) never drop each other's databases."""
    return os.environ.get("PYTEST_XDIST_TESTRUNUID", f"p{os.getpid()}")[:8]


_created_databases: list[str] = []


def fresh_database_url(tmp_root: Path, name: str) -> str:
    """An empty database of the kind under test, unique to this run, worker and `name`."""
    base = os.environ.get("FORUM_TEST_DATABASE_URL")
    if not base:
        return f"sqlite:///{tmp_root / f'{name}-{_worker()}.sqlite3'}"
    url = make_url(base)
    database = f"{url.database}_{name}_{_run_id()}_{_worker()}".lower()[:63]
    admin = make_engine(base)
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{database}"'))
    admin.dispose()
    _created_databases.append(database)
    return url.set(database=database).render_as_string(hide_password=False)


def migrated_database_url(tmp_root: Path, name: str) -> str:
    """A fresh database (see fresh_database_url) built by the Alembic migrations."""
    url = fresh_database_url(tmp_root, name)
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    return url


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Drop the PostgreSQL databases this process made, so runs don't pile them up."""
    base = os.environ.get("FORUM_TEST_DATABASE_URL")
    if not base or not _created_databases:
        return
    admin = make_engine(base)
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        for database in _created_databases:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
    admin.dispose()


def is_postgres() -> bool:
    return bool(os.environ.get("FORUM_TEST_DATABASE_URL"))


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return migrated_database_url(tmp_path_factory.getbasetemp(), "unit")


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    with engine.connect() as connection:
        outer = connection.begin()
        yield connection
        outer.rollback()


def app_on_transaction(database_url: str, connection: Connection, **settings: Any) -> Flask:
    """A test app (rate limits off unless `settings` say otherwise) whose commits become
    savepoints in the test's transaction."""
    app = create_app(
        {
            "DATABASE_URL": database_url,
            "SECRET_KEY": "test",
            "TESTING": True,
            "RATE_LIMITS": "off",
            **FAST_HASHING,
            **settings,
        }
    )
    app.extensions["forum.sessionmaker"] = sessionmaker(
        bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
    )
    return app


@pytest.fixture
def app(database_url: str, connection: Connection, tmp_path: Path) -> Flask:
    return app_on_transaction(database_url, connection)


AppBuilder = Callable[..., Flask]


@pytest.fixture
def build_app(database_url: str, connection: Connection) -> Iterator[AppBuilder]:
    """Builds apps with their own settings (see app_on_transaction), for tests that need more
    than one app or settings the `app` fixture doesn't have; their engines are closed after."""
    built: list[Flask] = []

    def build(**settings: Any) -> Flask:
        app = app_on_transaction(database_url, connection, **settings)
        built.append(app)
        return app

    yield build
    for app in built:
        app.extensions["forum.engine"].dispose()


@pytest.fixture
def db(app: Flask) -> Iterator[Session]:
    """A session on the test's transaction, for arranging data and checking results. Set up
    as the app's own sessions are (the freshness listeners), so a write committed here bumps
    the cached pages' versions as it would in a request, whether or not the app has served
    one yet (before, the first site-wide bump left a flag that hid later ones)."""
    session = session_factory(app)()
    yield session
    session.close()


# ------------------------------------------------------------------------------ statements


@dataclass
class StatementLog:
    statements: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.statements)

    def clear(self) -> None:
        self.statements.clear()


@pytest.fixture
def sql(connection: Connection) -> Iterator[StatementLog]:
    """Every SQL statement the app runs during the test (savepoints excluded)."""
    log = StatementLog()

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not re.match(r"\s*(SAVEPOINT|RELEASE|ROLLBACK TO)", statement):
            log.statements.append(statement)

    event.listen(connection, "before_cursor_execute", record)
    yield log
    event.remove(connection, "before_cursor_execute", record)


# ------------------------------------------------------------------------------ data


@pytest.fixture(scope="session")
def password_hash() -> str:
    passwords.configure(FAST_HASHING["ARGON2_TIME_COST"], FAST_HASHING["ARGON2_MEMORY_KIB"])
    return hash_password(PASSWORD)


class Factory:
    """Builds users, boards, threads and posts through the domain functions."""

    def __init__(self, session: Session, password_hash: str) -> None:
        self.session = session
        self.password_hash = password_hash
        self.counter = 0

    def _next(self) -> int:
        self.counter += 1
        return self.counter

    def user(self, username: str | None = None, role: Role = Role.MEMBER) -> User:
        name = username or f"fan{self._next()}"
        user = create_user(
            self.session, name, f"{name}@example.org", role=role, password_hash=self.password_hash
        )
        self.session.commit()
        return user

    def board(self, slug: str | None = None, **values: Any) -> Board:
        slug = slug or f"show-{self._next()}"
        board = Board(slug=slug, name=values.pop("name", slug.replace("-", " ").title()), **values)
        self.session.add(board)
        self.session.commit()
        return board

    def thread(
        self,
        board: Board | None = None,
        author: User | None = None,
        title: str | None = None,
        body: str = "Opening post",
        replies: int = 0,
    ) -> Thread:
        board = board or self.board()
        author = author or self.user()
        thread = posting.create_thread(
            self.session, board, author, title or f"Thread {self._next()}", body
        )
        for n in range(replies):
            posting.add_post(self.session, thread, author, f"Reply number {n + 1}")
        self.session.commit()
        self.session.refresh(thread)
        return thread

    def reply(self, thread: Thread, author: User, body: str = "A reply") -> Post:
        post = posting.add_post(self.session, thread, author, body)
        self.session.commit()
        return post


@pytest.fixture
def make(db: Session, password_hash: str) -> Factory:
    return Factory(db, password_hash)


# ------------------------------------------------------------------------------ HTTP


class Browserish:
    """The Flask test client plus what a browser does with forms: it sends the CSRF token it
    was given on the page."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def get(self, url: str, **kwargs: Any) -> Any:
        return self.client.get(url, **kwargs)

    def token(self, page: str = "/login") -> str:
        """The CSRF token the forms on `page` carry."""
        return csrf_token(self.client.get(page).get_data(as_text=True))

    def post(
        self, url: str, data: dict[str, Any] | None = None, *, page: str = "/login", **kwargs: Any
    ) -> Any:
        payload = {"csrf_token": self.token(page), **(data or {})}
        return self.client.post(url, data=payload, **kwargs)

    def raw_post(self, url: str, data: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        """A POST without a CSRF token, the way a forged cross-site request arrives."""
        return self.client.post(url, data=data or {}, **kwargs)

    def login(self, username: str, password: str = PASSWORD, remember: bool = False) -> Any:
        data = {"username": username, "password": password}
        if remember:
            data["remember"] = "y"
        response = self.post("/login", data)
        assert response.status_code == 302, f"login as {username} failed"
        return response

    def logout(self) -> Any:
        return self.post("/logout", page="/")

    def cookie(self, name: str) -> str | None:
        found = self.client.get_cookie(name)
        return found.value if found else None


def who(client: Browserish, **kwargs: Any) -> str | None:
    """Who the site thinks this browser is (the header's account chip), None for a visitor.
    Asks /search, which is never a cached page."""
    return signed_in_as(client.get("/search", **kwargs).get_data(as_text=True))


def replayed(app: Flask, **cookies: str) -> Browserish:
    """A fresh browser holding only the given cookies."""
    client = app.test_client()
    for name, value in cookies.items():
        client.set_cookie(name, value)
    return Browserish(client)


@pytest.fixture
def client(app: Flask) -> Browserish:
    return Browserish(app.test_client())


# ------------------------------------------------------------------------------ roles
#
# One person per role, each a fixture, so a test names who acts: `visitor`, `member`,
# `hostile_member`, `board_moderator` (of `moderated_board` only), `global_moderator`, `admin`,
# `suspended_member`, `deleted_account`. Users come back signed out; `browser_for(app, user)` or
# the `login_as` fixture gives each its own signed-in browser, so several can act in one test.


def browser_for(app: Flask, user: User | str | None = None) -> Browserish:
    """A separate browser, signed in as `user` (a User or a username; None: a visitor)."""
    browser = Browserish(app.test_client())
    if user is not None:
        browser.login(user if isinstance(user, str) else user.username)
    return browser


def moderator_of(make: Factory, db: Session, *boards: Board, name: str | None = None) -> User:
    """A moderator limited to `boards` (none given: a global moderator)."""
    user = make.user(name, role=Role.MODERATOR)
    db.add_all(BoardModerator(user_id=user.id, board_id=board.id) for board in boards)
    db.commit()
    return user


@pytest.fixture
def visitor(app: Flask) -> Browserish:
    """A browser nobody is signed in on."""
    return browser_for(app)


@pytest.fixture
def member(make: Factory) -> User:
    """A member in good standing; the owner of the content `hostile_member` goes after."""
    return make.user("member_mel")


@pytest.fixture
def member_client(client: Browserish, member: User) -> Browserish:
    client.login(member.username)
    return client


@pytest.fixture
def hostile_member(make: Factory) -> User:
    """A member in good standing (verified, not suspended) who tries everything: every move of
    hers on other people's content, and every moderator or admin route, must fail."""
    return make.user("mallory")


@pytest.fixture
def moderated_board(make: Factory) -> Board:
    """The one board `board_moderator` moderates."""
    return make.board("partner-track", name="Partner Track")


@pytest.fixture
def board_moderator(make: Factory, db: Session, moderated_board: Board) -> User:
    """A moderator of `moderated_board` only: an ordinary member everywhere else."""
    return moderator_of(make, db, moderated_board, name="mod_morgan")


@pytest.fixture
def global_moderator(make: Factory, db: Session) -> User:
    """A moderator of every board, present and future (no board rows of their own)."""
    return moderator_of(make, db, name="mod_gloria")


@pytest.fixture
def admin(make: Factory) -> User:
    return make.user("admin_ada", role=Role.ADMIN)


@pytest.fixture
def suspended_member(make: Factory, db: Session, admin: User) -> User:
    """A member the admin suspended site-wide for a week (logged like any suspension): they
    can sign in and read, but not post, report or preview."""
    user = make.user("suspended_sam")
    moderation.suspend(db, admin, user, utcnow() + timedelta(days=7), "Spoilers in titles")
    db.commit()
    return user


@dataclass(frozen=True)
class DeletedAccount:
    """What is left of an account after its owner deleted it."""

    username: str
    email: str
    thread_id: int  # the thread they started, now shown as by "deleted user"
    post_id: int  # its opening post
    stale_browser: Browserish  # was signed in as them when the account went


@pytest.fixture
def deleted_account(app: Flask, make: Factory, db: Session) -> DeletedAccount:
    user = make.user("gone_gwen")
    username, email = user.username, user.email
    thread = make.thread(
        author=user, title="A thread that outlives its author", body="Posted before leaving"
    )
    thread_id, post_id = thread.id, thread.last_post_id or 0
    stale_browser = browser_for(app, user)
    delete_account(db, user)
    db.commit()
    return DeletedAccount(username, email, thread_id, post_id, stale_browser)


LoginAs = Callable[[User | str | None], Browserish]


@pytest.fixture
def login_as(app: Flask) -> LoginAs:
    """`login_as(user)`: a new browser signed in as `user` (see browser_for)."""
    return lambda user: browser_for(app, user)


# The rows of a board's permission matrix: who tries an action on `moderated_board`.
BOARD_ROLES = (
    "visitor",
    "member",
    "suspended member",
    "moderator elsewhere",
    "moderator here",
    "admin",
)


@pytest.fixture
def person_called(
    request: pytest.FixtureRequest, make: Factory, db: Session
) -> Callable[[str], User | None]:
    """`person_called(role)` for a name in BOARD_ROLES: None for the visitor, the role
    fixtures otherwise ("moderator here" moderates `moderated_board`)."""
    fixtures = {
        "member": "member",
        "suspended member": "suspended_member",
        "moderator here": "board_moderator",
        "admin": "admin",
    }

    def called(role: str) -> User | None:
        if role == "visitor":
            return None
        if role == "moderator elsewhere":
            return moderator_of(make, db, make.board("other-show"), name="mod_elsewhere")
        user: User = request.getfixturevalue(fixtures[role])
        return user

    return called


# ------------------------------------------------------------------------------ apps on a URL


def forum_app(url: str) -> Flask:
    """An app of its own on the database at `url` (for CLI commands and whole-database work)."""
    return create_app(
        {
            "DATABASE_URL": url,
            "SECRET_KEY": "test",
            "TESTING": True,
            "RATE_LIMITS": "off",
            **FAST_HASHING,
        }
    )


def flask_command(url: str, *args: str) -> Result:
    """`flask ARGS` against the database at `url`, as an operator runs it."""
    app = forum_app(url)
    try:
        return app.test_cli_runner().invoke(args=list(args))
    finally:
        app.extensions["forum.engine"].dispose()


# ------------------------------------------------------------------------------ moderation data


def file_report(db: Session, post: Post, reporter: User, reason: str = "spoiler") -> Report:
    report = Report(post_id=post.id, reporter_id=reporter.id, reason=reason, created_at=utcnow())
    db.add(report)
    db.commit()
    return report


def log_count(db: Session) -> int:
    return db.scalar(select(func.count(ModAction.id))) or 0


def latest_log_row(db: Session) -> ModAction:
    row = db.scalar(select(ModAction).order_by(ModAction.id.desc()).limit(1))
    assert row is not None
    return row


def fresh(db: Session, obj: object) -> None:
    """Reload `obj` from the database (what the app committed, not what this session holds)."""
    db.expire_all()
    db.refresh(obj)


def text_of(response: TestResponse) -> str:
    return response.get_data(as_text=True)


# ------------------------------------------------------------------------------ committed apps


def committed_app(tmp_path: Path, name: str, username: str, email: str) -> tuple[Flask, str]:
    """An app on a database of its own, committed for real (not the rolled-back test
    transaction), with one member: for tests where another connection holds locks while a
    request runs. Returns the app and its database URL."""
    url = migrated_database_url(tmp_path, name)
    app = create_app(
        {
            "DATABASE_URL": url,
            "SECRET_KEY": "test",
            "TESTING": True,
            "RATE_LIMITS": "off",
            **FAST_HASHING,
        }
    )
    with app.app_context():
        create_user(db_session(), username, email, PASSWORD)
        db_session().commit()
    return app, url


def write_lock_is_free(path: Path) -> bool:
    """Whether another connection could start writing to this SQLite file right now."""
    probe = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        probe.execute("BEGIN IMMEDIATE")
        probe.execute("ROLLBACK")
        return True
    except sqlite3.OperationalError:
        return False
    finally:
        probe.close()


# ------------------------------------------------------------------------------ browser

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="session")
def chromium() -> str:
    """The system chromium's path; skips (fails in CI) when there is none."""
    path = shutil.which("chromium")
    if path:
        return path
    message = (
        "chromium is not installed, so the browser tests can't run. "
        "Install it with `apt-get install chromium` (Debian/Ubuntu)."
    )
    if os.environ.get("CI", "").strip().lower() not in {"", "0", "false", "no"}:
        pytest.fail(f"CI must run the browser tests: {message}", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def browser(chromium: str) -> Iterator[Browser]:
    """One Chromium for the whole run, shared by tests/e2e/ and tests/security/: Playwright's
    sync API refuses to start a second driver while one is running in the same process."""
    with sync_playwright() as driver:
        launched = driver.chromium.launch(
            executable_path=chromium, headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()
