"""One structured log line per request and per job, with a request id."""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime

from flask import Flask, current_app

log = logging.getLogger("showboard.request")

# Values that need no quoting in the text format; anything else is written as a JSON string,
# so a path with spaces or an `=` cannot be mistaken for another field.
_BARE_VALUE = re.compile(r"[^\s\"=\\]+")


def log_job(name: str, job_id: str, outcome: str, seconds: float, **fields: object) -> None:
    """One line for a finished job, in the same format as the request lines. Call it inside an
    app context (the worker has one)."""
    _emit({"event": "job", "job": name, "job_id": job_id, "outcome": outcome,
           "ms": round(seconds * 1000, 1), **fields})


def _emit(fields: dict[str, object]) -> None:
    if not log.isEnabledFor(logging.INFO):
        return
    stamp = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    line = {"time": stamp, **fields}
    log.info(render(line, as_json=current_app.config.get("LOG_FORMAT") == "json"))


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


def _ensure_handler() -> None:
    """Lines must show under gunicorn and `flask run`, which configure no logging for us; when
    the process configured logging itself (root handlers, pytest), the lines go there instead."""
    if log.level == logging.NOTSET:
        log.setLevel(logging.INFO)
    if log.handlers or logging.getLogger().handlers:
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    log.addHandler(handler)
    log.propagate = False  # a root handler added later must not print every line twice


def init_app(app: Flask) -> None:
    _ensure_handler()
