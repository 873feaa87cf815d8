"""Starting a process: the web server, the worker and every CLI command.

Each checks the configuration once: a setting that cannot work is one line on stderr naming the
variable ("showboard: FORUM_ENV must be development or production, not 'prod'") and exit code 2,
never a traceback. Then it waits a bounded time for the database, saying so in one line, instead
of booting into a server that answers 500s; a Redis that is down is one warning line, since the
site works without it (rate limits and the page cache fall back to the process).

Where each entry point is covered:
- gunicorn: gunicorn.conf.py (read by gunicorn from the working directory) calls `preflight`
  in the master, before any worker starts; a failure inside a worker would only read "Worker
  failed to boot" and exit 3.
- `flask ...` (any command, `flask run` included) and the gunicorn workers import app.py,
  which calls `load_app`.
- The commands the app adds (init-db, worker, users create, ...) wait for the database before
  they run: `guard_commands`, called by create_app. Flask's own `routes` and `shell` don't.

Tests call create_app, which raises ConfigError and waits for nothing.
"""

from __future__ import annotations

import copy
import functools
import sys
import time
from collections.abc import Callable
from typing import Any, NoReturn

import click
import redis
from flask import Flask
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from forum.platform.config import ConfigError
from forum.platform.configcheck import mask_password

NAME = "showboard"
RETRY_SECONDS = 2.0
# One attempt must not hang on a host that drops packets.
CONNECT_TIMEOUT_SECONDS = 5

_preflight_done = False


def say(message: str) -> None:
    print(f"{NAME}: {message}", file=sys.stderr, flush=True)


def fail(message: str) -> NoReturn:
    say(message)
    raise SystemExit(2)


def load_app() -> Flask:
    """The app for app.py: a bad configuration ends the process with one line and exit 2."""
    from forum import create_app

    try:
        app = create_app()
    except ConfigError as error:
        fail(str(error))
    if _inside_flask_run():
        wait_for_services(app)
    return app


def preflight() -> None:
    """The gunicorn master's check, before it forks workers. Once per process: gunicorn reads
    its config file again on HUP, and a reload must not stop a running server."""
    global _preflight_done
    if _preflight_done:
        return
    app = load_app()
    wait_for_services(app)
    app.extensions["forum.engine"].dispose()  # nothing pooled is inherited by the workers
    _preflight_done = True


def wait_for_services(app: Flask) -> None:
    wait_for_database(app.config["DATABASE_URL"], app.config["STARTUP_WAIT_SECONDS"])
    if app.config.get("REDIS_URL"):
        check_redis(app.config["REDIS_URL"])


def wait_for_database(url: str, wait_seconds: float, retry_seconds: float = RETRY_SECONDS) -> None:
    """Return once the database answers; exit 2 when it has not within `wait_seconds`."""
    shown = mask_password(url)
    deadline = time.monotonic() + wait_seconds
    problem = database_problem(url)
    if problem is None:
        return
    if wait_seconds > 0:
        say(
            f"waiting for the database at {shown} ({problem}); retrying every "
            f"{retry_seconds:g} s for up to {wait_seconds:g} s (FORUM_STARTUP_WAIT_SECONDS)"
        )
    while time.monotonic() < deadline:
        time.sleep(max(0.0, min(retry_seconds, deadline - time.monotonic())))
        problem = database_problem(url)
        if problem is None:
            say(f"the database at {shown} answers; starting")
            return
    fail(f"the database at {shown} is unreachable ({problem}); check FORUM_DATABASE_URL")


def database_problem(url: str) -> str | None:
    """Why the database does not answer SELECT 1, in one line; None when it does. A throwaway
    engine, so no connection is left in a pool (the gunicorn master forks after this)."""
    options: dict[str, Any] = {"poolclass": NullPool}
    if make_url(url).get_backend_name() == "postgresql":
        options["connect_args"] = {"connect_timeout": CONNECT_TIMEOUT_SECONDS}
    engine = create_engine(url, **options)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as error:
        return _first_line(getattr(error, "orig", None) or error)
    finally:
        engine.dispose()
    return None


def check_redis(url: str) -> bool:
    """One warning line when Redis does not answer PING; the process starts anyway."""
    client = redis.Redis.from_url(
        url, socket_connect_timeout=CONNECT_TIMEOUT_SECONDS, socket_timeout=CONNECT_TIMEOUT_SECONDS
    )
    try:
        client.ping()
    except (redis.RedisError, OSError) as error:
        say(
            f"warning: Redis at {mask_password(url)} is unreachable ({_first_line(error)}); "
            f"starting without it: rate limits and the page cache stay in this process "
            f"until it answers"
        )
        return False
    finally:
        client.close()
    return True


def guard_commands(app: Flask) -> None:
    """Make each command the app added to `flask` wait for the database before it runs.
    Copies, not the module-level command objects, since tests build many apps."""
    for name, command in list(app.cli.commands.items()):
        app.cli.commands[name] = _guarded(app, command)


def _guarded(app: Flask, command: click.Command) -> click.Command:
    guarded = copy.copy(command)
    if isinstance(command, click.Group):
        assert isinstance(guarded, click.Group)
        guarded.commands = {name: _guarded(app, sub) for name, sub in command.commands.items()}
    elif command.callback is not None:
        guarded.callback = _waiting_first(app, command.callback)
    return guarded


def _waiting_first(app: Flask, callback: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(callback)
    def run(*args: Any, **kwargs: Any) -> Any:
        wait_for_services(app)
        return callback(*args, **kwargs)

    return run


def _inside_flask_run() -> bool:
    """`flask run` loads the app inside its own command, after the command line is parsed."""
    context = click.get_current_context(silent=True)
    return context is not None and context.info_name == "run"


def _first_line(error: object) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[0] if lines else error.__class__.__name__
