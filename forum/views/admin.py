"""The admin area (/admin): show boards, members' roles, site settings, purging posts.

One guard (`admins_only`) runs before every view here. Each action is a POST with a CSRF token,
writes one log row through forum/staff/moderation.py (or forum/platform/settings.py) and commits
once.
"""

from __future__ import annotations

from collections.abc import Sequence

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from forum.access import permissions
from forum.access.viewer import current_viewer
from forum.accounts import membership
from forum.db import db_session
from forum.discussion import reading
from forum.models import Board, Post, Role, User
from forum.platform import jobs, settings
from forum.platform.formfields import EmptyForm, add_error
from forum.platform.pagination import parse_page
from forum.platform.security import safe_next
from forum.platform.text import strip_control
from forum.staff import mod_reading, moderation
from forum.staff.mod_forms import (
    BoardForm,
    BoardOrderForm,
    ReasonForm,
    RoleForm,
    SettingsForm,
    choice,
    first_error,
)
from forum.views.mod import to_login

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
def admins_only() -> Response | None:
    if not current_user.is_authenticated:
        return to_login()
    if not permissions.can_administer(current_viewer()):
        abort(403, "The admin area is for admins.")
    return None


def _board_or_404(slug: str) -> Board:
    board = reading.board_by_slug(db_session(), slug)
    if board is None:
        abort(404)
    return board


def _user_or_404(username: str) -> User:
    user = membership.find_by_username(db_session(), username)
    if user is None:
        abort(404)
    return user


# ------------------------------------------------------------------------------ boards


@bp.get("")
def index() -> str:
    session = db_session()
    # Failed background jobs show here, on the page admins open first, so none goes unseen.
    return render_template(
        "admin/boards.html",
        boards=reading.all_boards(session),
        order_form=BoardOrderForm(),
        failed_jobs=jobs.failures(session),
    )


@bp.route("/boards/new", methods=["GET", "POST"])
def new_board() -> str | Response:
    session = db_session()
    form = BoardForm()
    if form.validate_on_submit():
        if reading.board_by_slug(session, form.slug.data) is not None:
            add_error(form.slug, "A board already lives at that address.")
        else:
            board = moderation.create_board(
                session, current_user, form.slug.data, **form.board_values()
            )
            flash(f"{board.name} is open.", "success")
            target = url_for("boards.board", slug=board.slug)
            session.commit()
            return redirect(target)
    return render_template("admin/board_form.html", form=form, board=None)


@bp.route("/boards/<slug>/edit", methods=["GET", "POST"])
def edit_board(slug: str) -> str | Response:
    session = db_session()
    board = _board_or_404(slug)
    form = BoardForm(obj=board if request.method == "GET" else None)
    # The address is fixed once a board exists (links everywhere point at it).
    form.slug.data = board.slug
    if form.validate_on_submit():
        moderation.update_board(session, current_user, board, **form.board_values())
        flash(f"{board.name} saved.", "success")
        session.commit()
        return redirect(url_for("admin.index"))
    return render_template("admin/board_form.html", form=form, board=board)


@bp.post("/boards/<slug>/move")
def reorder_board(slug: str) -> Response:
    session = db_session()
    board = _board_or_404(slug)
    form = BoardOrderForm()
    if not form.validate_on_submit():
        abort(400, first_error(form))
    moderation.move_board(session, current_user, board, -1 if form.direction.data == "up" else 1)
    session.commit()
    return redirect(url_for("admin.index", _anchor=f"board-{board.slug}"))


@bp.get("/boards/<slug>/archive/confirm")
def confirm_archive(slug: str) -> str:
    return render_template(
        "admin/confirm_archive.html", board=_board_or_404(slug), form=EmptyForm()
    )


@bp.post("/boards/<slug>/archive")
def archive_board(slug: str) -> Response:
    return _set_archived(slug, archived=True)


@bp.post("/boards/<slug>/unarchive")
def unarchive_board(slug: str) -> Response:
    return _set_archived(slug, archived=False)


def _set_archived(slug: str, archived: bool) -> Response:
    session = db_session()
    board = _board_or_404(slug)
    if not EmptyForm().validate_on_submit():
        abort(400)
    moderation.set_archived(session, current_user, board, archived)
    flash(
        f"{board.name} is archived: read-only and off the index."
        if archived
        else f"{board.name} is back on the index.",
        "success",
    )
    session.commit()
    return redirect(url_for("admin.index"))


# ------------------------------------------------------------------------------ users


@bp.get("/users")
def users() -> str:
    query = strip_control(request.args.get("q", ""))[:254].strip()
    found = mod_reading.user_search(db_session(), query, parse_page(request.args.get("page")))
    return render_template("admin/users.html", found=found)


@bp.get("/users/<username>")
def user(username: str) -> str:
    record = mod_reading.user_record(db_session(), username)
    if record is None:
        abort(404)
    form = RoleForm(
        formdata=None, data={"role": record.user.role, "boards": sorted(record.moderated_board_ids)}
    )
    _board_choices(form, record.boards)
    return render_template("admin/user.html", record=record, role_form=form)


def _board_choices(form: RoleForm, boards: Sequence[Board]) -> None:
    form.boards.choices = [choice(board.id, board.name) for board in boards]


@bp.post("/users/<username>/role")
def change_role(username: str) -> str | Response:
    session = db_session()
    user = _user_or_404(username)
    if not permissions.can_change_role(current_viewer(), user):
        abort(403, "You can't change your own role: ask another admin.")
    form = RoleForm()
    _board_choices(form, reading.all_boards(session))
    if not form.validate_on_submit():
        abort(400, first_error(form))
    role = Role(form.role.data)
    board_ids = form.boards.data if role is Role.MODERATOR else []
    moderation.set_role(session, current_user, user, role, board_ids)
    flash(f"{user.username} is now {'an' if role is Role.ADMIN else 'a'} {role.value}.", "success")
    target = url_for("admin.user", username=user.username)
    session.commit()
    return redirect(target)


@bp.get("/users/<username>/delete/confirm")
def confirm_delete_user(username: str) -> str:
    user = _deletable_user(username)
    return render_template("admin/confirm_delete_user.html", user=user, form=ReasonForm())


@bp.post("/users/<username>/delete")
def delete_user(username: str) -> Response:
    session = db_session()
    user = _deletable_user(username)
    form = ReasonForm()
    if not form.validate_on_submit():
        abort(400, first_error(form))
    name = user.username
    moderation.delete_account(session, current_user, user, form.reason.data)
    session.commit()
    flash(f"The account {name} is deleted; its posts now show as by “deleted user”.", "success")
    return redirect(url_for("admin.users"))


def _deletable_user(username: str) -> User:
    user = _user_or_404(username)
    if user.id == current_user.id:
        abort(403, "Delete your own account from your settings page.")
    return user


# ------------------------------------------------------------------------------ settings


@bp.route("/settings", methods=["GET", "POST"])
def site_settings() -> str | Response:
    session = db_session()
    form = SettingsForm(data=_settings_data(session) if request.method == "GET" else None)
    if form.validate_on_submit():
        settings.save(
            session,
            current_user,
            form.site_name.data,
            form.tagline.data or "",
            form.registration.data == "open",
            form.rules_markdown.data or "",
            require_second_factor=form.require_second_factor.data,
        )
        session.commit()
        settings.forget_cached()
        flash("Settings saved.", "success")
        return redirect(url_for("admin.site_settings"))
    return render_template("admin/settings.html", form=form)


def _settings_data(session: Session) -> dict[str, str | bool]:
    # Read past the cache: the form must show what is stored, not what a worker remembers.
    current = settings.load(session)
    return {
        "site_name": current.site_name,
        "tagline": current.tagline,
        "registration": "open" if current.registration_open else "closed",
        "rules_markdown": current.rules_markdown,
        "require_second_factor": current.require_second_factor,
    }


# ------------------------------------------------------------------------------ purge


def _purgeable(post_id: int) -> Post:
    post = mod_reading.post_in_context(db_session(), post_id)
    if post is None:
        abort(404)
    return post


@bp.get("/posts/<int:post_id>/purge/confirm")
def confirm_purge(post_id: int) -> str:
    post = _purgeable(post_id)
    form = ReasonForm(data={"next": safe_next(request.args.get("next"), "")})
    return render_template("admin/confirm_purge.html", post=post, thread=post.thread, form=form)


@bp.post("/posts/<int:post_id>/purge")
def purge_post(post_id: int) -> Response:
    session = db_session()
    post = _purgeable(post_id)
    form = ReasonForm()
    if not form.validate_on_submit():
        abort(400, first_error(form))
    moderation.purge_post(session, current_user, post, form.reason.data)
    flash(f"Post #{post.number} purged: its text and history are gone for good.", "success")
    target = safe_next(form.next.data, url_for("threads.permalink", post_id=post.id))
    session.commit()
    return redirect(target)
