"""Public pages about what happened to the forum's text: the moderation log and a post's edit
history. Anyone may read them (the edit history only where the post's text is readable), so
they sit outside the moderator area's guard (forum/views/mod.py)."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request

from forum.access import permissions, spoilers
from forum.access.viewer import current_viewer
from forum.db import db_session
from forum.discussion import history
from forum.platform.pagination import parse_page
from forum.staff import mod_reading, moderation

bp = Blueprint("history", __name__)


@bp.get("/mod/log")
def log() -> str:
    filters = mod_reading.LogFilters.from_args(request.args)
    found = mod_reading.mod_log(db_session(), filters, parse_page(request.args.get("page")))
    return render_template("history/log.html", log=found, actions=moderation.LOGGED_ACTIONS)


@bp.get("/p/<int:post_id>/revisions")
def revisions(post_id: int) -> str:
    found = history.edit_history(db_session(), post_id)
    if found is None or not permissions.can_see_thread(current_viewer(), found.post.thread):
        abort(404)
    post = found.post
    if post.revision_count == 0:
        abort(404, "This post has never been edited.")
    viewer = current_viewer()
    if not permissions.can_see_revisions(viewer, post, post.thread):
        abort(403, "This post was removed, and so was its edit history.")
    # Old versions are Markdown source, which no stored HTML masks: a history that holds any
    # spoiler beyond the viewer is shown only when they ask ("show anyway").
    revealed = request.args.get("reveal") == "1"
    sources = [version.revision.source for version in found.versions]
    return render_template(
        "history/revisions.html",
        history=found,
        post=post,
        thread=post.thread,
        thread_title=spoilers.thread_title(viewer, post.thread, revealed).text,
        withheld=spoilers.history_withheld(viewer, post, post.thread, sources, revealed),
    )
