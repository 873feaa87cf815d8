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
import re
import sys
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from flask import Flask, Response, current_app, g, has_request_context, request
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
    _emit(logging.INFO, {"event": "job", "job": name, "job_id": job_id, "outcome": outcome,
                         "ms": round(seconds * 1000, 1), **fields})


def _emit(level: int, fields: dict[str, object]) -> None:
    if not log.isEnabledFor(level):
        return
    stamp = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    line = {"time": stamp, **fields}
    log.log(level, render(line, as_json=current_app.config.get("LOG_FORMAT") == "json"))


def render(fields: dict[str, object], *, as_json: bool) -> str:
    if as_json:
        return json.dumps(fields, default=str, separators=(",", ":"))
    return " ".join(f"{key}={_text_value(value)}" for key, value in fields.items())


def _text_value(value: object) -> str:
    if value is None:
        return "-"
    text = value if isinstance(value, str) else str(value)
    if _BARE_VALUE.fullmatch(text):
        return text
    return json.dumps(text)


# ---------------------------------------------------------------- requests


def _start() -> None:
    g.request_started = time.perf_counter()
    g.sql_statements = 0
    incoming = request.headers.get(REQUEST_ID_HEADER, "")
    g.request_id = incoming if _SANE_REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex


def _finish(response: Response) -> Response:
    request_id = g.get("request_id")
    if request_id is None:  # a before_request ahead of ours answered; still log the request
        _start()
        request_id = g.request_id
    response.headers[REQUEST_ID_HEADER] = request_id
    level = logging.DEBUG if request.path in QUIET_PATHS else logging.INFO
    if not log.isEnabledFor(level):
        return response
    # The user the request already loaded: asking Flask-Login here would read the session
    # (Vary: Cookie on every response) and run the user query for pages that never needed it.
    user = g.get("_login_user")
    user_id = user.id if user is not None and user.is_authenticated else None
    _emit(level, {
        "event": "request",
        "request_id": request_id,
        "ip": request.remote_addr,
        "user": user_id,
        "method": request.method,
        "path": request.path,
        "status": response.status_code,
        "ms": round((time.perf_counter() - g.request_started) * 1000, 1),
        "sql": g.sql_statements,
    })
    return response


def _count_statement(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
    if has_request_context() and "sql_statements" in g \
            and not statement.lstrip().startswith(_BOOKKEEPING):
        g.sql_statements += 1


def count_statements(engine: Engine) -> None:
    """Count `engine`'s statements into the current request's line (once per engine)."""
    if not event.contains(engine, "before_cursor_execute", _count_statement):
        event.listen(engine, "before_cursor_execute", _count_statement)


# ---------------------------------------------------------------- log records


_base_record_factory = logging.getLogRecordFactory()


def _record_with_request_id(*args: Any, **kwargs: Any) -> logging.LogRecord:
    record = _base_record_factory(*args, **kwargs)
    record.request_id = g.get("request_id", "-") if has_request_context() else "-"
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
            .isoformat(timespec="milliseconds").replace("+00:00", "Z"),
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


def _install_handler(app: Flask) -> None:
    """Lines must show under gunicorn and `flask run`, which configure no logging for us. When
    the process configured logging itself (root handlers: a --log-config, pytest), records go
    there instead, and adding ours would print everything twice."""
    if log.level == logging.NOTSET:
        log.setLevel(logging.INFO)
    if logging.getLogRecordFactory() is not _record_with_request_id:
        logging.setLogRecordFactory(_record_with_request_id)
    if logging.getLogger().handlers or any(
            isinstance(handler.formatter, LineFormatter) for handler in log.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(LineFormatter(as_json=app.config["LOG_FORMAT"] == "json"))
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
