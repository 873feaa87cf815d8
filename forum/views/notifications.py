"""The notification list (/notifications), marking read, and the bell's data."""

from __future__ import annotations

from flask import Blueprint, abort
from werkzeug.wrappers import Response

bp = Blueprint("notifications", __name__)


@bp.get("/notifications")
def index() -> Response:
    abort(404)  # built by the notifications work
