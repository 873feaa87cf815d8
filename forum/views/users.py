"""Public profiles."""

from __future__ import annotations

from flask import Blueprint, abort, render_template

from forum.access.viewer import current_viewer
from forum.db import db_session
from forum.discussion import presenting, reading

bp = Blueprint("users", __name__)


@bp.get("/u/<username>")
def profile(username: str) -> str:
    viewer = current_viewer()
    found = reading.profile(db_session(), viewer, username)
    if found is None:
        abort(404)
    return render_template(
        "users/profile.html",
        profile=found,
        items=presenting.activity_items(found.recent_posts, viewer),
    )
