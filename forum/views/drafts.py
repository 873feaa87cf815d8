"""Keeping a fan's typed text when a post can't be accepted as sent: logged out meanwhile, or
the form's CSRF token expired. The text comes back in a form that sends it again, but only to
a form that came from this site (forum/platform/origin.py): a cross-site POST's text is never
put into one of our forms, and its refusal leaves every cookie as it was."""

from __future__ import annotations

from flask import current_app, g, redirect, render_template, request, session, url_for
from flask_wtf.csrf import validate_csrf
from werkzeug.wrappers import Response
from wtforms import ValidationError

from forum.accounts.forms import LoginForm
from forum.platform.origin import is_same_origin

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
        "accounts/login.html",
        form=form,
        draft=draft_from_request(),
        notice="You were logged out. Log in and your post will be waiting for you.",
    ), 401


def resubmit_page(
    action: str, draft: dict[str, str], notice: str, status: int = 200
) -> tuple[str, int]:
    """The draft in a form that sends it again. After a login this is rendered in the login's
    own request, so every form on it must carry the token of the session just started."""
    forget_tokens_of_an_ended_session()
    return render_template("resubmit.html", action=action, draft=draft, notice=notice), status


def forget_tokens_of_an_ended_session() -> None:
    """Flask-WTF signs the session's CSRF secret once per request and keeps the result in `g`.
    A login clears the session (forum/accounts/auth.py `start_session`) after the login form
    already asked for that token, so the cached one signs a secret the new session no longer
    holds: a form printed with it answers "Your form expired" when sent. Dropping the cached
    token makes the next csrf_token() sign the secret the session holds now (or a new one);
    re-signing an unchanged secret is harmless, so this needn't know whether a login happened."""
    g.pop(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"), None)


def may_hand_back() -> bool:
    """Whether this request's text may come back in a form with a fresh token: the browser
    said it came from this site, or it carries a valid token (which only our pages hold)."""
    if is_same_origin():
        return True
    try:
        validate_csrf(request.form.get("csrf_token"))
    except ValidationError:
        return False
    return True


def cross_site_refusal() -> tuple[str, int]:
    """A forged or foreign form: a plain 400 that echoes nothing and sets no cookie (no
    session, no CSRF token, no remember-me refresh), so the visitor's login is untouched."""
    page = render_template(
        "error.html",
        code=400,
        title="That form came from another site",
        message="This form came from another site; nothing was done. If you meant to post "
        "here, open the page on this site and send it from there.",
    )
    leave_cookies_alone()
    return page, 400


def leave_cookies_alone() -> None:
    """Rendering the page may have put a CSRF token or a remembered login into the session
    (base.html asks who is logged in and prints the logout form), and a remember cookie's
    use may have asked Flask-Login to write it anew (forum/accounts/auth.py rotates it).
    Neither goes out: the pending cookie write is dropped and the session, marked unchanged,
    is not saved. Sessions are never permanent here, so Flask has no other reason to send the
    cookie."""
    session.pop("_remember", None)
    session.modified = False
