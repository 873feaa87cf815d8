"""Keeping a fan's typed text when a post can't be accepted as sent: logged out meanwhile, or
the form's CSRF token expired. The text comes back in a form that sends it again."""

from __future__ import annotations

from flask import redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from forum.forms import LoginForm

# Form fields worth carrying over; passwords and the token itself never are.
DRAFT_FIELDS = ("title", "body")


def draft_from_request() -> dict[str, str]:
    return {name: request.form[name] for name in DRAFT_FIELDS if request.form.get(name)}


def ask_to_log_in(target: str) -> Response | tuple[str, int]:
    """For GET, a redirect to the login page; for a POST by a logged-out fan, the login page
    carrying the draft, which is handed back after login."""
    if request.method != "POST":
        return redirect(url_for("accounts.login", next=target))
    form = LoginForm(formdata=None, next=target)
    return render_template(
        "accounts/login.html", form=form, draft=draft_from_request(),
        notice="You were logged out. Log in and your post will be waiting for you.",
    ), 401


def resubmit_page(
    action: str, draft: dict[str, str], notice: str, status: int = 200
) -> tuple[str, int]:
    return render_template("resubmit.html", action=action, draft=draft, notice=notice), status
