"""Members flag posts for the moderators, and see what became of their reports."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response

from forum.access import permissions, spoilers
from forum.access.viewer import current_viewer
from forum.db import db_session
from forum.discussion import presenting
from forum.models import Post, ReportReason
from forum.platform.pagination import parse_page
from forum.staff import mod_reading, moderation
from forum.staff.mod_forms import REPORT_REASON_LABELS, ReportForm
from forum.views.drafts import ask_to_log_in

bp = Blueprint("reports", __name__)


def _reportable_post(post_id: int) -> Post:
    post = mod_reading.post_in_context(db_session(), post_id)
    if post is None or not permissions.can_see_thread(current_viewer(), post.thread):
        abort(404)
    return post


@bp.route("/p/<int:post_id>/report", methods=["GET", "POST"])
def report(post_id: int) -> str | Response | tuple[str, int]:
    # Named `report`: forum/platform/limits.py rate-limits this endpoint ("reports.report").
    session = db_session()
    post = _reportable_post(post_id)
    if not current_user.is_authenticated:
        return ask_to_log_in(request.path)
    refusal = permissions.report_refusal(current_viewer(), post)
    if refusal:
        abort(403, refusal)
    # Checked first so a second report gets a kind answer, not the unique constraint.
    if moderation.has_reported(session, current_user, post):
        return _already_reported(post)
    form = ReportForm()
    if form.validate_on_submit():
        moderation.file_report(
            session, current_user, post, ReportReason(form.reason.data), form.details.data or ""
        )
        try:
            session.commit()
        except IntegrityError:
            # The same member reported twice at once (a double click): the first one counts.
            session.rollback()
            return _already_reported(post)
        flash(
            "Thanks: the moderators will take a look. You can follow it under “My reports”.",
            "success",
        )
        return redirect(url_for("threads.permalink", post_id=post.id))
    # The post as the thread page shows it to this member: spoilers they haven't reached
    # stay out of the page, and so does a masked thread's title.
    return render_template(
        "reports/report.html",
        post=post,
        thread=post.thread,
        form=form,
        shown=presenting.shown_post(post, current_viewer()),
    )


def _already_reported(post: Post) -> str:
    return render_template("reports/already_reported.html", post=post, thread=post.thread)


@bp.get("/reports/mine")
@login_required
def mine() -> str:
    viewer = current_viewer()
    found = mod_reading.reports_filed_by(db_session(), viewer, parse_page(request.args.get("page")))
    # A thread tied to a later episode since the report was filed is listed masked.
    titles = [spoilers.thread_title(viewer, report.post.thread).text for report in found.reports]
    return render_template(
        "reports/mine.html",
        found=found,
        rows=list(zip(found.reports, titles, strict=True)),
        labels=REPORT_REASON_LABELS,
    )
