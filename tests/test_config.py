"""Start-up checks: each setting that cannot work is ONE line on stderr naming the variable and
exit code 2, for the web server (gunicorn, flask run), the worker and every CLI command; an
unreachable database is waited for (bounded), a Redis that is down is one warning line.

create_app raises ConfigError (checked in-process); the entry points are run as real processes
(`flask --app app ...`, `python -c`, gunicorn) from the project root."""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import make_url

from forum import create_app
from forum.platform import startup
from forum.platform.config import ConfigError
from tests.conftest import is_postgres

ROOT = Path(__file__).resolve().parent.parent
FLASK = [str(ROOT / ".venv" / "bin" / "flask"), "--app", "app"]
GUNICORN = [sys.executable, "-m", "gunicorn", "--workers", "1"]
PRODUCTION = {
    "FORUM_ENV": "production",
    "FORUM_SECRET_KEY": "a long production secret",
    "FORUM_PUBLIC_URL": "https://fans.example.org",
    "FORUM_SMTP_URL": "smtp://mail.example.org:587?starttls=true",
}
# Nothing answers on port 1.
NOBODY_LISTENS_REDIS = "redis://127.0.0.1:1/0"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, database_url: str) -> pytest.MonkeyPatch:
    """No FORUM_* variable but a working database and key; each test adds its own."""
    for name in list(os.environ):
        if name.startswith("FORUM_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("FORUM_DATABASE_URL", database_url)
    monkeypatch.setenv("FORUM_SECRET_KEY", "test")
    return monkeypatch


def environment(database_url: str, **variables: str | None) -> dict[str, str]:
    """The process environment for an entry point: no FORUM_* from outside, the test database,
    then `variables` (None removes one)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FORUM_")}
    env.update(FORUM_DATABASE_URL=database_url, FORUM_SECRET_KEY="test")
    for name, value in variables.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


# ------------------------------------------------------------------------------ the messages

CASES = [
    pytest.param(
        {"FORUM_DATABSE_URL": "sqlite://"},
        "FORUM_DATABSE_URL is not a setting; did you mean FORUM_DATABASE_URL?",
        id="typo",
    ),
    pytest.param(
        {"FORUM_WIDGETS": "3"},
        "FORUM_WIDGETS is not a setting (README.md lists the settings)",
        id="unknown",
    ),
    pytest.param(
        {"FORUM_ENV": "prod"}, "FORUM_ENV must be development or production, not 'prod'", id="env"
    ),
    pytest.param(
        {"FORUM_TRUSTED_PROXIES": "one"},
        "FORUM_TRUSTED_PROXIES must be a whole number, not 'one'",
        id="integer",
    ),
    pytest.param(
        {"FORUM_TRUSTED_PROXIES": "-1"},
        "FORUM_TRUSTED_PROXIES must be 0 or more, not -1",
        id="negative",
    ),
    pytest.param(
        {"FORUM_STARTUP_WAIT_SECONDS": "1 minute"},
        "FORUM_STARTUP_WAIT_SECONDS must be a whole number, not '1 minute'",
        id="wait",
    ),
    pytest.param(
        {"FORUM_SQL_ECHO": "ture"}, "FORUM_SQL_ECHO must be true or false, not 'ture'", id="switch"
    ),
    pytest.param(
        {"FORUM_RATE_LIMITS": "maybe"},
        "FORUM_RATE_LIMITS must be on or off, not 'maybe'",
        id="rate-limits",
    ),
    pytest.param(
        {"FORUM_LIMIT_REPLIES": "thirty"},
        "FORUM_LIMIT_REPLIES must be a rate like '5 per 15 minutes', not 'thirty'",
        id="rate",
    ),
    pytest.param(
        {"FORUM_LOG_FORMAT": "xml"},
        "FORUM_LOG_FORMAT must be text or json, not 'xml'",
        id="log-format",
    ),
    pytest.param(
        {"FORUM_DATABASE_URL": "postgres://fan:hunter2@db/forum"},
        "FORUM_DATABASE_URL must be a postgresql+psycopg://user:pass@host/dbname or "
        "sqlite:///path URL, not 'postgres://fan:***@db/forum'",
        id="database-url",
    ),
    pytest.param(
        {"FORUM_DATABASE_URL": "postgresql+psycopg://fan@db:port/forum"},
        "FORUM_DATABASE_URL must be a postgresql+psycopg://user:pass@host/dbname or "
        "sqlite:///path URL, not 'postgresql+psycopg://fan@db:port/forum'",
        id="database-port",
    ),
    pytest.param(
        {"FORUM_REDIS_URL": "http://cache:6379"},
        "FORUM_REDIS_URL must be a redis://host:6379/0, rediss:// or unix:// URL, "
        "not 'http://cache:6379'",
        id="redis-url",
    ),
    pytest.param(
        {"FORUM_SMTP_URL": "mail.example.org:587"},
        "FORUM_SMTP_URL must be an smtp://host:port or smtps://host:port URL, "
        "not 'mail.example.org:587'",
        id="smtp-url",
    ),
    pytest.param(
        {"FORUM_PUBLIC_URL": "fans.example.org"},
        "FORUM_PUBLIC_URL must be an absolute http(s) URL like "
        "https://fans.example.org, not 'fans.example.org'",
        id="public-url",
    ),
    pytest.param(
        {**PRODUCTION, "FORUM_PUBLIC_URL": "ftp://fans.example.org"},
        "FORUM_PUBLIC_URL must be an absolute http(s) URL like "
        "https://fans.example.org, not 'ftp://fans.example.org'",
        id="public-url-scheme",
    ),
    pytest.param(
        {**PRODUCTION, "FORUM_SECRET_KEY": None},
        "FORUM_SECRET_KEY must be set when FORUM_ENV=production (a long random string)",
        id="production-secret",
    ),
    pytest.param(
        {**PRODUCTION, "FORUM_PUBLIC_URL": None},
        "FORUM_PUBLIC_URL must be set when FORUM_ENV=production "
        "(the site's address, like https://fans.example.org)",
        id="production-public",
    ),
    pytest.param(
        {**PRODUCTION, "FORUM_SMTP_URL": ""},
        "FORUM_SMTP_URL must be set when FORUM_ENV=production (the mail server, like "
        "smtp://user:pass@mail.example.org:587?starttls=true)",
        id="production-smtp",
    ),
]


@pytest.mark.parametrize(("variables", "message"), CASES)
def test_create_app_names_the_variable_that_cannot_work(
    clean_env: pytest.MonkeyPatch, variables: dict[str, str | None], message: str
) -> None:
    for name, value in variables.items():
        if value is None:
            clean_env.delenv(name, raising=False)
        else:
            clean_env.setenv(name, value)

    with pytest.raises(ConfigError) as raised:
        create_app({"TESTING": True})

    assert str(raised.value) == message
    assert "hunter2" not in str(raised.value)


def test_overrides_are_checked_like_the_environment(clean_env: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match=r"^FORUM_ENV must be development or production"):
        create_app({"ENV": "prod", "TESTING": True})


def test_the_test_suites_own_variables_are_allowed(
    clean_env: pytest.MonkeyPatch, database_url: str
) -> None:
    clean_env.setenv("FORUM_TEST_SOMETHING_NEW", "1")

    app = create_app({"TESTING": True})

    assert app.config["DATABASE_URL"] == database_url


def test_a_complete_production_configuration_starts(clean_env: pytest.MonkeyPatch) -> None:
    for name, value in {
        **PRODUCTION,
        "FORUM_TRUSTED_PROXIES": "1",
        "FORUM_REDIS_URL": "redis://:pw@cache:6379/0",
    }.items():
        clean_env.setenv(name, value)

    app = create_app({"TESTING": True})

    assert (app.config["ENV"], app.config["TRUSTED_PROXIES"]) == ("production", 1)
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_an_empty_optional_url_means_unset(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("FORUM_SMTP_URL", "")

    app = create_app({"TESTING": True})

    assert app.config["SMTP_URL"] is None


# ------------------------------------------------------------------------------ entry points


def run(
    command: list[str], env: dict[str, str], timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


@pytest.mark.parametrize(("variables", "message"), [CASES[0], CASES[2], CASES[18]])
def test_flask_commands_print_one_line_and_exit_2(
    database_url: str, variables: dict[str, str | None], message: str
) -> None:
    result = run([*FLASK, "routes"], environment(database_url, **variables))

    assert (result.returncode, result.stderr.splitlines()) == (2, [f"showboard: {message}"])
    assert result.stdout == ""


@pytest.mark.parametrize(
    "command",
    [
        ["init-db"],
        ["worker"],
        ["users", "create", "x", "--email", "x@example.org", "--password", "long enough password"],
    ],
)
def test_app_commands_check_the_configuration_first(database_url: str, command: list[str]) -> None:
    result = run([*FLASK, *command], environment(database_url, FORUM_ENV="prod"))

    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "showboard: FORUM_ENV must be development or production, not 'prod'"
    ]


def test_importing_the_app_checks_the_configuration(database_url: str) -> None:
    result = run(
        [sys.executable, "-c", "import app"], environment(database_url, FORUM_TRUSTED_PROXIES="two")
    )

    assert (result.returncode, result.stderr.splitlines()) == (
        2,
        ["showboard: FORUM_TRUSTED_PROXIES must be a whole number, not 'two'"],
    )


def test_gunicorn_refuses_a_bad_setting_in_one_line(database_url: str) -> None:
    result = run(
        [*GUNICORN, "--bind", f"127.0.0.1:{free_port()}", "app:app"],
        environment(database_url, **{**PRODUCTION, "FORUM_PUBLIC_URL": None}),
    )

    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "showboard: FORUM_PUBLIC_URL must be set when FORUM_ENV=production "
        "(the site's address, like https://fans.example.org)"
    ]


# ------------------------------------------------------------------------------ the database


def unreachable_database(tmp_path: Path) -> str:
    """A URL of the kind under test whose database can't be reached (yet)."""
    if is_postgres():
        return f"postgresql+psycopg://postgres:hunter2@127.0.0.1:{free_port()}/showboard"
    return f"sqlite:///{tmp_path / 'not-yet' / 'showboard.sqlite3'}"


def test_gunicorn_gives_up_on_an_unreachable_database_in_one_line(tmp_path: Path) -> None:
    url = unreachable_database(tmp_path)
    env = environment(url, FORUM_STARTUP_WAIT_SECONDS="0")

    result = run([*GUNICORN, "--bind", f"127.0.0.1:{free_port()}", "app:app"], env)

    assert result.returncode == 2
    [line] = result.stderr.splitlines()
    assert line.startswith(
        f"showboard: the database at {startup.mask_password(url)} is unreachable ("
    )
    assert line.endswith("); check FORUM_DATABASE_URL")
    assert "hunter2" not in line


def test_a_command_waits_for_the_database_then_gives_up(tmp_path: Path) -> None:
    url = unreachable_database(tmp_path)
    shown = startup.mask_password(url)

    result = run([*FLASK, "init-db"], environment(url, FORUM_STARTUP_WAIT_SECONDS="1"))

    assert result.returncode == 2
    waiting, gave_up = result.stderr.splitlines()
    assert waiting.startswith(f"showboard: waiting for the database at {shown} (")
    assert waiting.endswith("); retrying every 2 s for up to 1 s (FORUM_STARTUP_WAIT_SECONDS)")
    assert gave_up.startswith(f"showboard: the database at {shown} is unreachable (")


@pytest.mark.parametrize(
    "command", [["boards", "import", __file__], ["worker"], ["posts", "rerender"]]
)
def test_app_commands_wait_in_process_too(tmp_path: Path, command: list[str]) -> None:
    app = create_app(
        {
            "DATABASE_URL": unreachable_database(tmp_path),
            "SECRET_KEY": "test",
            "TESTING": True,
            "STARTUP_WAIT_SECONDS": 0,
        }
    )

    result = app.test_cli_runner().invoke(args=command)

    assert result.exit_code == 2
    [line] = result.stderr.splitlines()
    assert line.startswith("showboard: the database at ")


def test_flask_run_waits_for_the_database(tmp_path: Path) -> None:
    url = unreachable_database(tmp_path)
    env = environment(url, FORUM_STARTUP_WAIT_SECONDS="0")

    result = run([*FLASK, "run", "--port", str(free_port())], env)

    assert result.returncode == 2
    [line] = result.stderr.splitlines()
    assert line.startswith(
        f"showboard: the database at {startup.mask_password(url)} is unreachable ("
    )


class LateProxy:
    """A TCP port that starts forwarding to the real database only when `open()` is called:
    a database server that comes up while the app waits for it."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = free_port()
        self._server: socket.socket | None = None

    def open(self) -> None:
        self._server = socket.create_server(("127.0.0.1", self.port))
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        assert self._server is not None
        while True:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        if self._server is not None:
            self._server.close()


@pytest.fixture
def late_database(database_url: str, tmp_path: Path) -> Iterator[tuple[str, threading.Event]]:
    """A database URL that can't be reached until the event is set."""
    ready = threading.Event()
    if is_postgres():
        real = make_url(database_url)
        proxy = LateProxy((real.host or "127.0.0.1", real.port or 5432))
        threading.Thread(target=lambda: (ready.wait(), proxy.open()), daemon=True).start()
        yield real.set(port=proxy.port).render_as_string(hide_password=False), ready
        ready.set()
        proxy.close()
    else:
        folder = tmp_path / "mounted-later"
        threading.Thread(target=lambda: (ready.wait(), folder.mkdir()), daemon=True).start()
        yield f"sqlite:///{folder / 'showboard.sqlite3'}", ready
        ready.set()


def test_waiting_for_the_database_ends_when_it_answers(
    late_database: tuple[str, threading.Event], capsys: pytest.CaptureFixture[str]
) -> None:
    url, ready = late_database
    # The database appears once the first attempt has failed.
    threading.Timer(0.3, ready.set).start()

    startup.wait_for_database(url, wait_seconds=30, retry_seconds=0.2)

    lines = capsys.readouterr().err.splitlines()
    shown = startup.mask_password(url)
    assert lines[0].startswith(f"showboard: waiting for the database at {shown} (")
    assert lines[-1] == f"showboard: the database at {shown} answers; starting"
    assert startup.database_problem(url) is None


# ------------------------------------------------------------------------------ Redis


def test_gunicorn_starts_with_redis_down_after_one_warning(database_url: str) -> None:
    port = free_port()
    env = environment(database_url, FORUM_REDIS_URL=NOBODY_LISTENS_REDIS)
    process = subprocess.Popen(
        [*GUNICORN, "--bind", f"127.0.0.1:{port}", "app:app"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    status = None
    try:
        deadline = time.monotonic() + 60
        while status is None and time.monotonic() < deadline and process.poll() is None:
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                connection.request("GET", "/healthz")
                status = connection.getresponse().status
                connection.close()
            except OSError:
                time.sleep(0.2)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)

    assert status == 200, stderr
    first = stderr.splitlines()[0]
    assert first.startswith("showboard: warning: Redis at redis://127.0.0.1:1/0 is unreachable")
    assert first.endswith(
        "starting without it: rate limits and the page cache stay in this process until it answers"
    )


def test_app_commands_warn_once_about_redis_and_run(
    app: Flask, capsys: pytest.CaptureFixture[str]
) -> None:
    app.config["REDIS_URL"] = NOBODY_LISTENS_REDIS

    result = app.test_cli_runner().invoke(args=["posts", "rerender"])

    assert result.exit_code == 0, result.output
    warnings = [line for line in result.stderr.splitlines() if "Redis" in line]
    assert len(warnings) == 1 and warnings[0].startswith("showboard: warning: Redis at ")
