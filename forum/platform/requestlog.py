"""One structured log line per request and per job, with a request id.

Each request gets an id: the client's (or the proxy's) `X-Request-ID` when it is sane, a fresh
one otherwise. It is echoed in the response's `X-Request-ID` header, written on the request's
line, and set as `request_id` on every log record made while the request runs (a record
factory, so records from any logger carry it, including the 500 handler's traceback).

Lines go to the `showboard.request` logger at INFO: `key=value` text, or one JSON object per
line when FORUM_LOG_FORMAT=json. /healthz and /readyz are logged at DEBUG only, so probes
every few seconds don't drown the page views.
"""

from __future__ import annotations

import json
import logging
import random
import re
import sys
import time
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from flask import Flask, Response, current_app, g, request
from sqlalchemy import event
from sqlalchemy.engine import Engine

log = logging.getLogger("showboard.request")

FORMATS = ("text", "json")
REQUEST_ID_HEADER = "X-Request-ID"
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
# Probes: answered like any request, but not written down as page views.
QUIET_PATHS = frozenset({"/healthz", "/readyz"})
# Values that need no quoting in the text format; anything else is written as a JSON string,
# so a path with spaces or an `=` cannot be mistaken for another field.
_BARE_VALUE = re.compile(r"[^\s\"=\\]+")
# Transaction bookkeeping inside one transaction, not work the page asked for (the tests' sql
# fixture leaves these out too).
_BOOKKEEPING = ("SAVEPOINT", "RELEASE", "ROLLBACK TO")


def log_job(name: str, job_id: str, outcome: str, seconds: float, **fields: object) -> None:
    """One line for a finished job, in the same format as the request lines. Call it inside an
    app context (the worker has one)."""
    _emit(
        logging.INFO,
        {
            "event": "job",
            "job": name,
            "job_id": job_id,
            "outcome": outcome,
            "ms": round(seconds * 1000, 1),
            **fields,
        },
    )


def _emit(level: int, fields: dict[str, object]) -> None:
    if log.isEnabledFor(level):
        line = {"time": _now(), **fields}
        _write(level, render(line, as_json=current_app.config.get("LOG_FORMAT") == "json"))


def _write(level: int, line: str) -> None:
    handler = _own_handler
    if (
        handler is not None
        and log.handlers == [handler]
        and not log.propagate
        and not log.filters
        and not handler.filters
        and level >= handler.level
    ):
        # Our handler is the line's only reader, and it would print the message as it is: write
        # it straight to the stream. A LogRecord (time, process, thread and process names,
        # the request-id factory) and the handler chain cost more than building the line.
        handler.acquire()
        try:
            handler.stream.write(line + handler.terminator)
            handler.stream.flush()
            return
        except Exception:  # the logging path below reports it as it would
            pass
        finally:
            handler.release()
    # Logger.handle rather than Logger.log: the line says what it is, and this skips the walk
    # up the stack that finds the caller's file and line, a good part of the cost per request.
    log.handle(log.makeRecord(log.name, level, __name__, 0, line, (), None))


# The current second, formatted once: datetime.now(UTC).isoformat() per line costs twice as much.
_second: tuple[int, str] = (-1, "")


def _now() -> str:
    global _second
    now = time.time()
    whole = int(now)
    if whole != _second[0]:
        _second = (whole, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)))
    return f"{_second[1]}.{int((now - whole) * 1000):03d}Z"


def render(fields: dict[str, object], *, as_json: bool) -> str:
    if as_json:
        return json.dumps(fields, default=str, separators=(",", ":"))
    return " ".join(f"{key}={_text_value(value)}" for key, value in fields.items())


def _text_value(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, int | float):
        return str(value)
    text = str(value)
    return text if _BARE_VALUE.fullmatch(text) else json.dumps(text)


# ---------------------------------------------------------------- requests


class _RequestState:
    __slots__ = ("request_id", "started", "statements")

    def __init__(self, request_id: str) -> None:
        self.request_id = request_id
        self.started = time.perf_counter()
        self.statements = 0


# The running request's state. A context variable rather than flask.g: it is just as much per
# request (per thread or greenlet), and the statement counter runs for every SQL statement and
# the record factory for every log record, where g's proxy lookup costs several times more.
_current: ContextVar[_RequestState | None] = ContextVar("showboard_request", default=None)


def current_request_id() -> str | None:
    state = _current.get()
    return state.request_id if state is not None else None


def _start() -> None:
    incoming = request.headers.get(REQUEST_ID_HEADER, "")
    if not _SANE_REQUEST_ID.fullmatch(incoming):
        # Not uuid4: that reads os.urandom on every request, and an id needs to be unique, not
        # unguessable. The random module is reseeded in each forked worker.
        incoming = f"{random.getrandbits(128):032x}"
    _current.set(_RequestState(incoming))


def _finish(response: Response) -> Response:
    state = _current.get()
    if state is None:  # a before_request ahead of ours answered; still log the request
        _start()
        state = _current.get()
        assert state is not None
    response.headers[REQUEST_ID_HEADER] = state.request_id
    path = request.path
    level = logging.DEBUG if path in QUIET_PATHS else logging.INFO
    if not log.isEnabledFor(level):
        return response
    # The user the request already loaded: asking Flask-Login here would read the session
    # (Vary: Cookie on every response) and run the user query for pages that never needed it.
    user = g.get("_login_user")
    user_id = user.id if user is not None and user.is_authenticated else None
    ms = round((time.perf_counter() - state.started) * 1000, 1)
    if current_app.config.get("LOG_FORMAT") == "json":
        line = render(
            {
                "time": _now(),
                "event": "request",
                "request_id": state.request_id,
                "ip": request.remote_addr,
                "user": user_id,
                "method": request.method,
                "path": path,
                "status": response.status_code,
                "ms": ms,
                "sql": state.statements,
            },
            as_json=True,
        )
    else:
        # The same fields as render() writes, spelled out because this runs on every request;
        # only the address (from X-Forwarded-For) and the path can need quoting.
        line = (
            f"time={_now()} event=request request_id={state.request_id} "
            f"ip={_text_value(request.remote_addr)} "
            f"user={'-' if user_id is None else user_id} method={request.method} "
            f"path={_text_value(path)} status={response.status_code} ms={ms} "
            f"sql={state.statements}"
        )
    _write(level, line)
    return response


def _end(_error: BaseException | None) -> None:
    _current.set(None)


def _count_statement(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
    state = _current.get()
    if state is not None and not statement.lstrip().startswith(_BOOKKEEPING):
        state.statements += 1


def note_raw_statement() -> None:
    """Count a statement run on a raw DBAPI cursor, which engine events never see (the page
    cache's version read on a hit)."""
    state = _current.get()
    if state is not None:
        state.statements += 1


def count_statements(engine: Engine) -> None:
    """Count `engine`'s statements into the current request's line (once per engine)."""
    if not event.contains(engine, "before_cursor_execute", _count_statement):
        event.listen(engine, "before_cursor_execute", _count_statement)


# ---------------------------------------------------------------- log records


_base_record_factory = logging.getLogRecordFactory()


def _record_with_request_id(*args: Any, **kwargs: Any) -> logging.LogRecord:
    record = _base_record_factory(*args, **kwargs)
    state = _current.get()
    record.request_id = state.request_id if state is not None else "-"
    return record


class LineFormatter(logging.Formatter):
    """Records that are not request or job lines (warnings, errors with their tracebacks) in
    the same format, with the request id, so one parser reads the whole stream."""

    def __init__(self, as_json: bool) -> None:
        super().__init__()
        self.as_json = as_json

    def format(self, record: logging.LogRecord) -> str:
        if record.name == log.name:
            return record.getMessage()
        fields: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "event": "log",
            "level": record.levelname.lower(),
            "logger": record.name,
            "request_id": getattr(record, "request_id", "-"),
            "message": record.getMessage(),
        }
        trace = self.formatException(record.exc_info) if record.exc_info else ""
        if self.as_json:
            if trace:
                fields["exception"] = trace
            return render(fields, as_json=True)
        line = render(fields, as_json=False)
        return f"{line}\n{trace}" if trace else line


# The handler _install_handler added, if it did: lines for it alone skip the LogRecord.
_own_handler: logging.StreamHandler[Any] | None = None


def _install_handler(app: Flask) -> None:
    """Lines must show under gunicorn and `flask run`, which configure no logging for us. When
    the process configured logging itself (root handlers: a --log-config, pytest), records go
    there instead, and adding ours would print everything twice."""
    if log.level == logging.NOTSET:
        log.setLevel(logging.INFO)
    if logging.getLogRecordFactory() is not _record_with_request_id:
        logging.setLogRecordFactory(_record_with_request_id)
    if logging.getLogger().handlers or any(
        isinstance(handler.formatter, LineFormatter) for handler in log.handlers
    ):
        return
    global _own_handler
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(LineFormatter(as_json=app.config["LOG_FORMAT"] == "json"))
    _own_handler = handler
    # The app's own logger too (its name is the package's: forum.*), so errors come out in the
    # same format with their request id instead of through Flask's default handler.
    for logger in (log, logging.getLogger(app.import_name)):
        logger.addHandler(handler)
        logger.propagate = False


def init_app(app: Flask) -> None:
    _install_handler(app)
    count_statements(app.extensions["forum.engine"])
    # First of all before_request hooks, so even a request another hook answers (the Host
    # check, a page-cache hit) has its id and start time.
    app.before_request_funcs.setdefault(None, []).insert(0, _start)
    app.after_request(_finish)
    app.teardown_request(_end)
