"""The moderator area (/mod), for moderators only: one guard (`moderators_only`) runs before
every view in it, like lobsters' mod controller, and each view then asks
forum/access/permissions.py about the one board or user it touches. Every action is a POST with
a CSRF token, writes one log row (forum/staff/moderation.py) and commits once; refused attempts
change nothing. The public moderation log (/mod/log) is in forum/views/history.py.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from forum.access import permissions
from forum.access.viewer import current_viewer
from forum.accounts import membership
from forum.db import db_session
from forum.discussion import reading
from forum.models import Board, Post, ReportStatus, Thread, User, utcnow
from forum.platform.pagination import parse_page
from forum.platform.security import safe_next
from forum.staff import mod_reading, moderation
from forum.staff.mod_forms import (
    BoardLiftForm,
    BoardSuspendForm,
    HandleReportsForm,
    HideForm,
    MoveThreadForm,
    ReasonForm,
    RenameThreadForm,
    SuspendForm,
    ThreadActionForm,
    choice,
    first_error,
)

bp = Blueprint("mod", __name__, url_prefix="/mod")


def to_login() -> Response:
    """Visitors go to the login page, and come back to the page they were on."""
    back = request.full_path.rstrip("?") if request.method == "GET" else request.form.get("next")
    return redirect(url_for("accounts.login", next=safe_next(back, "") or None))


@bp.before_request
def moderators_only() -> Response | None:
    if not current_user.is_authenticated:
        return to_login()
    if not permissions.can_use_mod_area(current_viewer()):
        if current_user.is_moderator and current_user.is_suspended():
            abort(403, "Your account is suspended, so the moderator tools are off until it ends.")
        abort(403, "The moderator area is for moderators.")
    return None


# ------------------------------------------------------------------------------ helpers


def _moderated_thread(thread_id: int) -> Thread:
    thread = reading.thread_with_board(db_session(), thread_id)
    if thread is None:
        abort(404)
    if not permissions.can_moderate_thread(current_viewer(), thread):
        abort(403, f"You don't moderate {thread.board.name}.")
    return thread


def _moderated_post(post_id: int) -> Post:
    post = mod_reading.post_in_context(db_session(), post_id)
    if post is None:
        abort(404)
    if not permissions.can_moderate_post(current_viewer(), post.thread):
        abort(403, f"You don't moderate {post.thread.board.name}.")
    return post


def _restrictable(username: str) -> User:
    """The member named, when this moderator has some way to suspend them (404, 403)."""
    user = membership.find_by_username(db_session(), username)
    if user is None:
        abort(404)
    if not permissions.can_restrict(current_viewer(), user):
        abort(403, permissions.suspension_refusal(current_viewer(), user))
    return user


def _suspendable(username: str) -> User:
    """The member named, when this moderator may suspend or ban them site-wide."""
    user = _restrictable(username)
    if refusal := permissions.suspension_refusal(current_viewer(), user):
        abort(403, refusal)
    return user


def _board_for_suspension(user: User, board_id: int | None) -> Board:
    board = db_session().get(Board, board_id) if board_id is not None else None
    if board is None:
        abort(404)
    if not permissions.can_suspend_on_board(current_viewer(), user, board.id):
        abort(403, f"You don't moderate {board.name}, so you can't suspend anyone there.")
    return board


def thread_url(thread: Thread) -> str:
    return url_for("threads.thread", thread_id=thread.id, slug=thread.slug)


def post_url(post: Post) -> str:
    return url_for("threads.permalink", post_id=post.id)


def _done(session: Session, next_field: str | None, default: str) -> Response:
    """Commit the action and send the moderator back where they were."""
    target = safe_next(next_field, default)
    session.commit()
    return redirect(target)


def _next_from_query() -> dict[str, str]:
    return {"next": safe_next(request.args.get("next"), "")}


# ------------------------------------------------------------------------------ dashboard


@bp.get("")
def dashboard() -> str:
    session = db_session()
    return render_template(
        "mod/dashboard.html",
        counts=mod_reading.open_report_counts(session, current_viewer()),
        recent=mod_reading.recent_actions(session),
    )


# ------------------------------------------------------------------------------ reports


@bp.get("/reports")
def reports() -> str:
    queue = mod_reading.report_queue(
        db_session(), current_viewer(), parse_page(request.args.get("page"))
    )
    return render_template("mod/reports.html", queue=queue, form=HandleReportsForm())


@bp.post("/reports/<int:post_id>")
def handle_reports(post_id: int) -> Response:
    session = db_session()
    post = _moderated_post(post_id)
    form = HandleReportsForm()
    back = safe_next(form.next.data, url_for("mod.reports"))
    if not form.validate_on_submit():
        # Posted from the queue, which has room for one message: say what was missing there.
        flash(first_error(form), "error")
        return redirect(back)
    report = mod_reading.oldest_open_report(session, post.id)
    if report is None:
        # Another moderator got there first: nothing to do, nothing to log.
        flash("Those reports were already handled.", "info")
        return redirect(back)
    status = ReportStatus.RESOLVED if form.action.data == "resolve" else ReportStatus.DISMISSED
    moderation.handle_report(session, current_user, report, status, form.resolution.data)
    flash(f"Reports on post #{post.number} {status.value}.", "success")
    return _done(session, back, back)


# ------------------------------------------------------------------------------ threads

ThreadAction = Callable[[Session, User, Thread, str], None]
THREAD_ACTIONS: dict[str, ThreadAction] = {
    "lock": lambda s, actor, t, why: moderation.set_locked(s, actor, t, True, why),
    "unlock": lambda s, actor, t, why: moderation.set_locked(s, actor, t, False, why),
    "pin": lambda s, actor, t, why: moderation.set_pinned(s, actor, t, True, why),
    "unpin": lambda s, actor, t, why: moderation.set_pinned(s, actor, t, False, why),
    "restore": lambda s, actor, t, why: moderation.set_thread_hidden(s, actor, t, False, why),
}


@bp.post("/threads/<int:thread_id>")
def thread_action(thread_id: int) -> Response:
    """Lock, unlock, pin, unpin or restore: the thread tools' buttons, one per action."""
    session = db_session()
    thread = _moderated_thread(thread_id)
    form = ThreadActionForm()
    if not form.validate_on_submit():
        abort(400, first_error(form))
    THREAD_ACTIONS[form.action.data](session, current_user, thread, form.reason.data)
    return _done(session, form.next.data, thread_url(thread))


@bp.get("/threads/<int:thread_id>/hide/confirm")
def confirm_hide_thread(thread_id: int) -> str:
    thread = _moderated_thread(thread_id)
    return render_template(
        "mod/confirm_hide_thread.html", thread=thread, form=HideForm(data=_next_from_query())
    )


@bp.post("/threads/<int:thread_id>/hide")
def hide_thread(thread_id: int) -> str | Response:
    session = db_session()
    thread = _moderated_thread(thread_id)
    form = HideForm()
    if not form.validate_on_submit():
        return render_template("mod/confirm_hide_thread.html", thread=thread, form=form)
    moderation.set_thread_hidden(session, current_user, thread, True, form.reason.data)
    return _done(session, form.next.data, thread_url(thread))


@bp.post("/threads/<int:thread_id>/move")
def move_thread(thread_id: int) -> Response:
    session = db_session()
    thread = _moderated_thread(thread_id)
    form = MoveThreadForm()
    if not form.validate_on_submit():
        abort(400, first_error(form))
    destination = session.get(Board, form.board.data)
    if destination is None:
        abort(404)
    if not permissions.can_move_thread(current_viewer(), thread, destination):
        abort(
            403,
            f"You can only move threads between boards you moderate, and you don't "
            f"moderate {destination.name}.",
        )
    if destination.id == thread.board_id:
        flash(f"That thread is already on {destination.name}.", "info")
        return redirect(safe_next(form.next.data, thread_url(thread)))
    moderation.move_thread(session, current_user, thread, destination, form.reason.data)
    flash(f"Moved to {destination.name}.", "success")
    return _done(session, form.next.data, thread_url(thread))


@bp.route("/threads/<int:thread_id>/rename", methods=["GET", "POST"])
def rename_thread(thread_id: int) -> str | Response:
    session = db_session()
    thread = _moderated_thread(thread_id)
    form = RenameThreadForm(
        data={"title": thread.title, **_next_from_query()} if request.method == "GET" else None
    )
    if form.validate_on_submit():
        moderation.rename_thread(session, current_user, thread, form.title.data, form.reason.data)
        return _done(session, form.next.data, thread_url(thread))
    return render_template("mod/rename_thread.html", thread=thread, form=form)


# ------------------------------------------------------------------------------ posts


@bp.get("/posts/<int:post_id>/hide/confirm")
def confirm_hide_post(post_id: int) -> str:
    post = _moderated_post(post_id)
    return render_template(
        "mod/confirm_hide_post.html", post=post, form=HideForm(data=_next_from_query())
    )


@bp.post("/posts/<int:post_id>/hide")
def hide_post(post_id: int) -> str | Response:
    session = db_session()
    post = _moderated_post(post_id)
    form = HideForm()
    if not form.validate_on_submit():
        return render_template("mod/confirm_hide_post.html", post=post, form=form)
    moderation.set_post_hidden(session, current_user, post, True, form.reason.data)
    return _done(session, form.next.data, post_url(post))


@bp.post("/posts/<int:post_id>/restore")
def restore_post(post_id: int) -> Response:
    session = db_session()
    post = _moderated_post(post_id)
    form = ReasonForm()
    if not form.validate_on_submit():
        abort(400, first_error(form))
    moderation.set_post_hidden(session, current_user, post, False, form.reason.data)
    return _done(session, form.next.data, post_url(post))


# ------------------------------------------------------------------------------ users


def _suspension_page(
    user: User, form: SuspendForm | None = None, board_form: BoardSuspendForm | None = None
) -> str:
    """The suspension page: a site-wide form for those who may use it, a board form with the
    boards this moderator moderates, and the member's current suspensions."""
    session = db_session()
    back = _next_from_query() if request.method == "GET" else None
    site_wide = permissions.can_suspend(current_viewer(), user)
    if site_wide and form is None:
        form = SuspendForm(formdata=None, data=back)
    if board_form is None:
        board_form = BoardSuspendForm(formdata=None, data=back)
    boards = mod_reading.boards_for_suspending(session, current_viewer())
    board_form.board.choices = [choice(board.id, board.name) for board in boards]
    return render_template(
        "mod/suspend.html",
        user=user,
        form=form if site_wide else None,
        board_form=board_form,
        lift_form=ReasonForm(formdata=None),
        board_suspensions=moderation.running_board_suspensions(session, user),
        moderated_ids={board.id for board in boards},
    )


@bp.get("/users/<username>/suspend")
def suspension_page(username: str) -> str:
    return _suspension_page(_restrictable(username))


@bp.post("/users/<username>/suspend")
def suspend_user(username: str) -> str | Response:
    session = db_session()
    user = _suspendable(username)
    form = SuspendForm()
    if form.validate_on_submit():
        until = form.ends_at(utcnow())
        moderation.suspend(session, current_user, user, until, form.reason.data)
        flash(
            f"{user.username} is banned."
            if until is None
            else f"{user.username} is suspended until {until:%B %d, %Y %H:%M} UTC.",
            "success",
        )
        return _done(session, form.next.data, url_for("mod.suspension_page", username=username))
    return _suspension_page(user, form=form)


@bp.post("/users/<username>/lift")
def lift_suspension(username: str) -> Response:
    session = db_session()
    user = _suspendable(username)
    form = ReasonForm()
    if not form.validate_on_submit():
        abort(400, first_error(form))
    moderation.lift_suspension(session, current_user, user, form.reason.data)
    flash(f"{user.username} can post again.", "success")
    return _done(session, form.next.data, url_for("mod.suspension_page", username=username))


@bp.post("/users/<username>/board-suspend")
def suspend_on_board(username: str) -> str | Response:
    session = db_session()
    user = _restrictable(username)
    form = BoardSuspendForm()
    board = _board_for_suspension(
        user, form.board.data if isinstance(form.board.data, int) else None
    )
    if form.validate_on_submit():
        until = form.ends_at(utcnow())
        assert until is not None  # board suspensions offer no ban
        moderation.suspend_on_board(session, current_user, user, board, until, form.reason.data)
        flash(
            f"{user.username} can't post on {board.name} until {until:%B %d, %Y %H:%M} UTC.",
            "success",
        )
        return _done(session, form.next.data, url_for("mod.suspension_page", username=username))
    return _suspension_page(user, board_form=form)


@bp.post("/users/<username>/board-lift")
def lift_board_suspension(username: str) -> Response:
    session = db_session()
    user = _restrictable(username)
    form = BoardLiftForm()
    if not form.validate_on_submit():
        abort(400, first_error(form))
    board = _board_for_suspension(user, form.board.data)
    back = url_for("mod.suspension_page", username=username)
    if not moderation.lift_board_suspension(session, current_user, user, board, form.reason.data):
        flash(f"{user.username} isn't suspended on {board.name}.", "info")
        return redirect(safe_next(form.next.data, back))
    flash(f"{user.username} can post on {board.name} again.", "success")
    return _done(session, form.next.data, back)
