"""Unread tracking: /t/<id>/unread, and mark all read (per board and site-wide)."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from forum.access import permissions
from forum.access.viewer import current_viewer
from forum.conversation import unread
from forum.db import db_session
from forum.discussion import reading
from forum.discussion.forms import EmptyForm
from forum.views.drafts import ask_to_log_in

bp = Blueprint("unread", __name__)


@bp.get("/t/<int:thread_id>/unread")
def thread(thread_id: int) -> Response:
    """The stable link to where a member's unread posts start, on the page that holds them.
    It works for anyone: a visitor, or a member with no post to land on, gets the thread's
    first page."""
    session = db_session()
    viewer = current_viewer()
    found = reading.thread_with_board(session, thread_id)
    if found is None or not permissions.can_see_thread(viewer, found):
        abort(404)
    target = unread.first_unread_target(session, viewer, found.id) if viewer.user else None
    if target is None:
        return redirect(url_for("threads.thread", thread_id=found.id, slug=found.slug))
    number, post_id = target
    page = (number - 1) // int(current_app.config["POSTS_PER_PAGE"]) + 1
    return redirect(
        url_for(
            "threads.thread",
            thread_id=found.id,
            slug=found.slug,
            page=page if page > 1 else None,
            _anchor=f"post-{post_id}",
        )
    )


@bp.post("/b/<slug>/mark-read")
def mark_board(slug: str) -> Response | tuple[str, int]:
    session = db_session()
    board = reading.board_by_slug(session, slug)
    if board is None:
        abort(404)
    back = url_for("boards.board", slug=board.slug)
    if not current_user.is_authenticated:
        return ask_to_log_in(back)
    if not EmptyForm().validate_on_submit():
        abort(400)
    unread.mark_board_read(session, current_user, board.id)
    name = board.name
    session.commit()
    flash(f"Every thread in {name} is marked read.", "success")
    return redirect(back)


@bp.post("/mark-read")
def mark_everything() -> Response | tuple[str, int]:
    session = db_session()
    back = url_for("boards.index")
    if not current_user.is_authenticated:
        return ask_to_log_in(back)
    if not EmptyForm().validate_on_submit():
        abort(400)
    unread.mark_all_read(session, current_user)
    session.commit()
    flash("Every thread on the forum is marked read.", "success")
    return redirect(back)
