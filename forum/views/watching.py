"""Watching and muting: a thread's and a board's level, muting a member, the auto-watch
setting, and /watching, which lists what a member follows.

Every action is a POST (CSRF checked by Flask-WTF before the view) that commits once and
redirects back where the member was (a safe `next`), with a flash saying what changed. The
rules are in forum/conversation/subscriptions.py. Suspended members may still watch and mute:
it changes only what they themselves see and hear of."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from forum.access import permissions, spoilers
from forum.access.viewer import current_viewer
from forum.conversation import subscriptions
from forum.db import db_session
from forum.discussion import reading
from forum.models import User, WatchLevel
from forum.platform.pagination import parse_page
from forum.platform.security import safe_next

bp = Blueprint("watching", __name__)

BAD_LEVEL = "Choose watching, normal or muted."

_THREAD_DONE = {
    WatchLevel.WATCHING: "You're watching “{}”: every reply will notify you.",
    WatchLevel.NORMAL: "“{}” is back to normal: you'll hear of replies to you and mentions.",
    WatchLevel.MUTED: "You muted “{}”: nothing in it will notify you.",
}
_BOARD_DONE = {
    WatchLevel.WATCHING: "You're watching {}: every new thread will notify you.",
    WatchLevel.NORMAL: "{} is back to normal.",
    WatchLevel.MUTED: "You muted {}: its threads leave your latest views and won't notify you.",
}


def _back(default: str) -> str:
    return safe_next(request.form.get("next"), default)


def _log_in_first(back: str) -> Response:
    return redirect(url_for("accounts.login", next=back))


def _level_or_400() -> WatchLevel:
    level = subscriptions.parse_level(request.form.get("level"))
    if level is None:
        abort(400, BAD_LEVEL)
    return level


@bp.get("/watching")
def index() -> str | Response:
    if not current_user.is_authenticated:
        return _log_in_first(request.path)
    page = subscriptions.watching_page(
        db_session(),
        current_viewer(),
        parse_page(request.args.get("page")),
        current_app.config["THREADS_PER_PAGE"],
    )
    return render_template("watching/index.html", watching=page)


@bp.post("/t/<int:thread_id>/watch")
def thread_level(thread_id: int) -> Response:
    session = db_session()
    viewer = current_viewer()
    thread = reading.thread_with_board(session, thread_id)
    # A thread hidden from this viewer is as missing as one that never existed.
    if thread is None or not permissions.can_see_thread(viewer, thread):
        abort(404)
    back = _back(url_for("threads.thread", thread_id=thread.id, slug=thread.slug))
    if not current_user.is_authenticated:
        return _log_in_first(back)
    level = _level_or_400()
    if not subscriptions.set_thread_level(session, viewer, thread, level):
        abort(404)
    title = spoilers.thread_title(viewer, thread).text
    session.commit()
    flash(_THREAD_DONE[level].format(title), "success")
    return redirect(back)


@bp.post("/b/<slug>/watch")
def board_level(slug: str) -> Response:
    session = db_session()
    board = reading.board_by_slug(session, slug)
    if board is None:
        abort(404)
    back = _back(url_for("boards.board", slug=board.slug))
    if not current_user.is_authenticated:
        return _log_in_first(back)
    level = _level_or_400()
    name = board.name
    subscriptions.set_board_level(session, current_user, board, level)
    session.commit()
    flash(_BOARD_DONE[level].format(name), "success")
    return redirect(back)


def _member_or_404(username: str) -> User:
    member = subscriptions.member_by_name(db_session(), username)
    if member is None:
        abort(404)
    return member


@bp.post("/u/<username>/mute")
def mute(username: str) -> Response:
    session = db_session()
    member = _member_or_404(username)
    back = _back(url_for("users.profile", username=member.username))
    if not current_user.is_authenticated:
        return _log_in_first(back)
    refused = subscriptions.mute_member(session, current_user, member)
    if refused is not None:
        abort(400, refused.message)
    name = member.username
    session.commit()
    flash(
        f"You muted {name}: their posts collapse for you and they can't notify you. "
        "They aren't told.",
        "success",
    )
    return redirect(back)


@bp.post("/u/<username>/unmute")
def unmute(username: str) -> Response:
    session = db_session()
    member = _member_or_404(username)
    back = _back(url_for("users.profile", username=member.username))
    if not current_user.is_authenticated:
        return _log_in_first(back)
    name = member.username
    removed = subscriptions.unmute_member(session, current_user, member)
    session.commit()
    flash(f"You unmuted {name}." if removed else f"{name} wasn't muted.", "success")
    return redirect(back)


@bp.post("/watching/settings")
def settings() -> Response:
    back = _back(url_for("watching.index"))
    if not current_user.is_authenticated:
        return _log_in_first(back)
    session = db_session()
    on = request.form.get("auto_watch") in ("y", "on", "1", "true")
    subscriptions.set_auto_watch(session, current_user, on)
    session.commit()
    flash(
        "Auto-watch is on: threads you start or reply to are watched."
        if on
        else "Auto-watch is off: posting no longer watches a thread.",
        "success",
    )
    return redirect(back)
