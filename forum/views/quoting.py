"""Quote-replies (/p/<id>/quote) and the @mention autocomplete (/members/suggest)."""

from __future__ import annotations

from flask import Blueprint, abort
from werkzeug.wrappers import Response

bp = Blueprint("quoting", __name__)


@bp.get("/p/<int:post_id>/quote")
def quote(post_id: int) -> Response:
    abort(404)  # built by the quoting work
