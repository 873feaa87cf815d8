"""Background jobs on Huey: mail and periodic work, off the request path."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Placeholder until this module is built."""
