"""Friendly error pages, and the guarantee that a failed request never leaves a half-done
transaction behind."""

from __future__ import annotations

import logging

from flask import Flask, g, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from forum.views.drafts import draft_from_request, resubmit_page

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
    @app.errorhandler(CSRFError)
    def csrf_expired(_error: CSRFError) -> tuple[str, int]:
        # The form's token expired or the session was reset: hand the text back to resend.
        return resubmit_page(
            request.path, draft_from_request(),
            "Your form expired before it was sent. Nothing was lost: check it and send again.",
            status=400,
        )

    @app.errorhandler(429)
    def too_many(_error: HTTPException) -> tuple[str, int]:
        draft = draft_from_request()
        if not draft:
            return _page(429, "You've tried that too many times. Wait a few minutes, then "
                              "try again.")
        return resubmit_page(
            request.path, draft,
            "You're doing that a lot right now. Wait a few minutes and send it again: "
            "your text is kept below.",
            status=429,
        )

    @app.errorhandler(RequestEntityTooLarge)
    def too_large(error: RequestEntityTooLarge) -> tuple[str, int]:
        return _page(error.code or 413, "Posts can be up to 50,000 characters long.")

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
        return render_template("error.html", code=500, title="Something went wrong",
                               message="We've logged it. Please try again in a moment."), 500


def _page(code: int, message: str) -> tuple[str, int]:
    title = TITLES.get(code, "Something went wrong")
    return render_template("error.html", code=code, title=title, message=message), code
