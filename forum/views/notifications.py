"""The notification list (/notifications) and marking read, one or all. The bell in the header
needs nothing from here: its count rides on the member's row (Viewer.unread_notifications).

Members only (visitors are sent to log in). The POSTs carry CSRF (checked by Flask-WTF before
the view), commit once and go back to the list; a notification id that isn't the member's
answers 404 like a missing one, so ids tell nobody anything.

The list's links go through GET /notifications/<id>/go, which marks the notification read (a
write while serving a GET: db.write_apart, declared private; none when it was read already)
and redirects to what it is about: the post's permalink, or the thread for a row about the
thread. What the member may no longer see sends them back to the list with a message that
names nothing."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from forum.access.viewer import current_viewer
from forum.conversation import notification_reading, notifications
from forum.db import db_session, write_apart
from forum.platform.formfields import EmptyForm
from forum.platform.pagination import parse_page
from forum.platform.security import safe_next

bp = Blueprint("notifications", __name__)


def _back() -> str:
    return safe_next(request.form.get("next"), url_for("notifications.index"))


@bp.get("/notifications")
@login_required
def index() -> str:
    listing = notification_reading.notification_page(
        db_session(), current_viewer(), parse_page(request.args.get("page"))
    )
    return render_template("notifications/list.html", listing=listing, form=EmptyForm())


@bp.get("/notifications/<int:notification_id>/go")
@login_required
def go(notification_id: int) -> Response:
    session = db_session()
    viewer = current_viewer()
    item = notification_reading.one_notification(session, viewer, notification_id)
    if item is None:
        abort(404)
    if item.unread:
        # Opened is read, also when what it is about is gone (it can't be opened later).
        write_apart(
            session,
            lambda writing: _mark_read(writing, notification_id),
            what="a notification read",
        )
    if item.url is None:
        flash("That notification is about something that is no longer available.", "info")
        return redirect(url_for("notifications.index"))
    return redirect(item.url)


def _mark_read(session: Session, notification_id: int) -> None:
    notifications.mark_read(session, current_user, notification_id)


@bp.post("/notifications/<int:notification_id>/read")
@login_required
def read(notification_id: int) -> Response:
    session = db_session()
    if not notifications.mark_read(session, current_user, notification_id):
        abort(404)
    session.commit()
    return redirect(_back())


@bp.post("/notifications/read-all")
@login_required
def read_all() -> Response:
    session = db_session()
    read = notifications.mark_all_read(session, current_user)
    session.commit()
    flash(
        f"Marked {read} notification{'' if read == 1 else 's'} read."
        if read
        else "Nothing was unread.",
        "success",
    )
    return redirect(_back())
