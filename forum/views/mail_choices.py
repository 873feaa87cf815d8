"""Email choices per notification kind (/notifications/email) and the unsubscribe links every
notification mail carries (/unsubscribe/<token>), which work without logging in.

The unsubscribe POST is the one view exempt from Flask-WTF's CSRF check, because mail
providers send RFC 8058's one-click POST (body `List-Unsubscribe=One-Click`) from their own
servers, with no page and no session. The exemption is as narrow as it can be: only that exact
body skips the check (the signed token in the URL is what authorises it, and it can only turn
mail off); any other POST, such as the page's own button, is checked here as every form is.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from forum.conversation import email_choices
from forum.conversation.notification_kinds import KIND_LABELS
from forum.conversation.notification_mail import may_mail
from forum.db import db_session
from forum.models import User
from forum.platform.security import csrf

bp = Blueprint("mail_choices", __name__)

ONE_CLICK_FIELD, ONE_CLICK_VALUE = "List-Unsubscribe", "One-Click"


@bp.route("/notifications/email", methods=["GET", "POST"])
@login_required
def choices() -> str | Response | tuple[str, int]:
    user = current_user._get_current_object()
    form = email_choices.choices_form(user)
    if request.method == "POST":
        if form.validate_on_submit():
            session = db_session()
            email_choices.save_choices(session, user, form.chosen())
            session.commit()
            flash("Notification email choices saved.", "success")
            return redirect(url_for("mail_choices.choices"))
        return _choices_page(user, form), 400
    return _choices_page(user, form)


def _choices_page(user: User, form: email_choices.EmailChoicesForm) -> str:
    return render_template(
        "notifications/email_choices.html",
        form=form,
        fields=form.kind_fields(),
        mailable=may_mail(user),
        labels=KIND_LABELS,
    )


def _read(token: str) -> email_choices.Unsubscribe | None:
    session = db_session()
    return email_choices.read_unsubscribe_token(token, lambda user_id: session.get(User, user_id))


def _invalid() -> tuple[str, int]:
    return render_template("notifications/unsubscribe_invalid.html"), 404


@bp.get("/unsubscribe/<token>")
def unsubscribe(token: str) -> str | tuple[str, int]:
    found = _read(token)
    if found is None:
        return _invalid()
    return render_template(
        "notifications/unsubscribe.html",
        token=token,
        words=email_choices.unsubscribe_words(found.user, found.scope),
        username=found.user.username,
    )


@bp.post("/unsubscribe/<token>")
@csrf.exempt
def unsubscribe_now(token: str) -> str | tuple[str, int] | Response:
    one_click = request.form.get(ONE_CLICK_FIELD) == ONE_CLICK_VALUE
    if not one_click:
        csrf.protect()  # the page's own button: checked like every form (a CSRFError page)
    found = _read(token)
    if found is None:
        return _invalid()
    words = email_choices.unsubscribe_words(found.user, found.scope)  # what it stops: before
    session = db_session()
    email_choices.unsubscribe(session, found.user, found.scope)
    session.commit()
    if one_click:
        # A mail provider's server reads nothing but the status.
        return Response("Unsubscribed.\n", mimetype="text/plain")
    return render_template("notifications/unsubscribe_done.html", words=words)
