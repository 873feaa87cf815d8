"""Unread tracking: /t/<id>/unread, and mark all read (per board and site-wide)."""

from __future__ import annotations

from flask import Blueprint, abort
from werkzeug.wrappers import Response

bp = Blueprint("unread", __name__)


@bp.get("/t/<int:thread_id>/unread")
def thread(thread_id: int) -> Response:
    abort(404)  # built by the unread-tracking work
