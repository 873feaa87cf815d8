"""Friendly error pages, and the guarantee that a failed request never leaves a half-done
transaction behind."""

from __future__ import annotations

import logging

from flask import Flask, g, render_template, request, url_for
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from forum.discussion.forms import BODY_LENGTH
from forum.platform import bodylimit
from forum.platform.origin import is_same_origin, path_on_this_site
from forum.platform.security import safe_next
from forum.views.drafts import (
    cross_site_refusal,
    draft_from_request,
    may_hand_back,
    resubmit_page,
)

log = logging.getLogger(__name__)

TITLES = {
    400: "That request didn't make sense",
    403: "You can't do that",
    404: "We couldn't find that page",
    405: "That isn't how this page works",
    413: "That was too big to send",
    429: "Slow down a little",
}


def init_app(app: Flask) -> None:
    # Chunked bodies over the limit are refused like any other (413) rather than cut short.
    bodylimit.init_app(app)

    @app.errorhandler(CSRFError)
    def csrf_expired(_error: CSRFError) -> tuple[str, int]:
        # From another site: refuse, echo nothing, touch no cookie (forum/platform/origin.py says
        # why).
        if not is_same_origin():
            return cross_site_refusal()
        # Our own form whose token expired or whose session was reset: hand the text back.
        return resubmit_page(
            request.path,
            draft_from_request(),
            "Your form expired before it was sent. Nothing was lost: check it and send again.",
            status=400,
        )

    @app.errorhandler(429)
    def too_many(_error: HTTPException) -> tuple[str, int]:
        draft = draft_from_request() if may_hand_back() else {}
        if not draft:
            return _page(
                429, "You've tried that too many times. Wait a few minutes, then try again."
            )
        return resubmit_page(
            request.path,
            draft,
            "You're doing that a lot right now. Wait a few minutes and send it again: "
            "your text is kept below.",
            status=429,
        )

    @app.errorhandler(RequestEntityTooLarge)
    def too_large(_error: RequestEntityTooLarge) -> tuple[str, int]:
        # The body was never read, so the text can't come back from here: static/js/app.js
        # kept it in the browser when the form was sent, and puts it back when the form page
        # loads again after this page (data-refused-action names the form).
        return render_template(
            "errors/too_large.html",
            refused_action=request.path,
            post_limit=BODY_LENGTH[1],
            request_limit=_size(app.config["MAX_CONTENT_LENGTH"]),
            back=safe_next(path_on_this_site(request.referrer), url_for("boards.index")),
        ), 413

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> tuple[str, int] | HTTPException:
        if error.code is None or error.code < 400:
            return error
        return _page(error.code, error.description or "")

    @app.errorhandler(Exception)
    def server_error(error: Exception) -> tuple[str, int]:
        session = g.get("db_session")
        if session is not None:
            session.rollback()
        log.exception("Unhandled error on %s %s", request.method, request.path, exc_info=error)
        return render_template(
            "error.html",
            code=500,
            title="Something went wrong",
            message="We've logged it. Please try again in a moment.",
        ), 500


def _size(size: int) -> str:
    if size >= 1024 * 1024 and size % (1024 * 1024) == 0:
        return f"{size // (1024 * 1024)} MB"
    return f"{size // 1024:,} KB" if size >= 1024 else f"{size} bytes"


def _page(code: int, message: str) -> tuple[str, int]:
    title = TITLES.get(code, "Something went wrong")
    return render_template("error.html", code=code, title=title, message=message), code
