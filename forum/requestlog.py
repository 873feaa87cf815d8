"""One structured log line per request and per job, with a request id."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Placeholder until this module is built."""
