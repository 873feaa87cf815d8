"""Search: a placeholder page until full-text search lands; it accepts any query safely."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from forum.platform.text import strip_control

bp = Blueprint("search", __name__)


@bp.get("/search")
def search() -> str:
    query = strip_control(request.args.get("q", ""))[:200].strip()
    return render_template("search.html", query=query)
