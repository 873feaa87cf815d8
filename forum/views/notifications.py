"""The notification list (/notifications) and marking read, one or all. The bell in the header
needs nothing from here: its count rides on the member's row (Viewer.unread_notifications).

Members only (visitors are sent to log in). The POSTs carry CSRF (checked by Flask-WTF before
the view), commit once and go back to the list; a notification id that isn't the member's
answers 404 like a missing one, so ids tell nobody anything."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from forum.access.viewer import current_viewer
from forum.conversation import notification_reading, notifications
from forum.db import db_session
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
