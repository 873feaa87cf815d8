"""The board index, a board's thread list, and starting a thread."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from forum.access import permissions
from forum.access.viewer import current_viewer
from forum.db import db_session
from forum.discussion import antispam, markup, posting, presenting, reading
from forum.discussion.forms import ThreadForm
from forum.platform import pagecache
from forum.platform.pagination import parse_page
from forum.views.drafts import ask_to_log_in

bp = Blueprint("boards", __name__)


@bp.get("/")
def index() -> str:
    boards = reading.board_index(db_session(), current_viewer())
    return render_template("boards/index.html", boards=boards)


@bp.get("/b/<slug>")
def board(slug: str) -> str:
    listing = reading.board_listing(
        db_session(), current_viewer(), slug, parse_page(request.args.get("page")),
        current_app.config["THREADS_PER_PAGE"],
    )
    if listing is None:
        abort(404)
    return render_template("boards/board.html", listing=listing,
                           rows=presenting.thread_rows(listing.threads))


@bp.route("/b/<slug>/new", methods=["GET", "POST"])
def new_thread(slug: str) -> str | Response | tuple[str, int]:
    session = db_session()
    board = reading.board_by_slug(session, slug)
    if board is None:
        abort(404)
    if not current_user.is_authenticated:
        return ask_to_log_in(request.path)
    form = ThreadForm()
    refusal = permissions.posting_refusal(current_viewer(), board)
    if refusal:
        form.validate_on_submit()  # keep what was typed, show why it can't be sent
        return render_template("boards/new_thread.html", board=board, form=form, preview=None,
                               refusal=refusal), 403
    preview = None
    if form.validate_on_submit():
        html = markup.render(form.body.data)
        if "preview" in request.form:
            preview = html
        elif message := antispam.posting_refusal(
            session, current_user, html, form.body.data, starting_thread=True,
            config=current_app.config,
        ):
            form.body.errors.append(message)
        else:
            thread = posting.create_thread(
                session, board, current_user, form.title.data, form.body.data, html
            )
            thread_id, thread_slug = thread.id, thread.slug
            pagecache.pages_follow_rows(session)
            session.commit()
            return redirect(url_for("threads.thread", thread_id=thread_id, slug=thread_slug))
    return render_template("boards/new_thread.html", board=board, form=form, preview=preview,
                           refusal=None)
