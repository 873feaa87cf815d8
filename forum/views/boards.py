"""The board index, a board's thread list, and starting a thread."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from forum.access import permissions
from forum.access.viewer import current_viewer
from forum.conversation import mentions
from forum.db import db_session
from forum.discussion import markup, posting, presenting, reading, watching
from forum.discussion.episode_forms import ProgressForm
from forum.discussion.forms import ThreadForm, chosen_episode, offer_episodes
from forum.models import Board
from forum.platform.pagination import parse_page
from forum.platform.settings import get_settings
from forum.views.drafts import ask_to_log_in

bp = Blueprint("boards", __name__)


@bp.get("/")
def index() -> str:
    viewer = current_viewer()
    entries = reading.board_index(db_session(), viewer)
    boards = presenting.index_rows([(e.board, e.latest) for e in entries], viewer)
    return render_template("boards/index.html", boards=boards)


@bp.get("/b/<slug>")
def board(slug: str) -> str:
    listing = reading.board_listing(
        db_session(),
        current_viewer(),
        slug,
        parse_page(request.args.get("page")),
        current_app.config["THREADS_PER_PAGE"],
    )
    if listing is None:
        abort(404)
    viewer = current_viewer()
    return render_template(
        "boards/board.html",
        listing=listing,
        rows=presenting.thread_rows(listing.threads, viewer, listing.states),
        episodes=get_settings(db_session()).episodes.of(listing.board.id),
        progress_form=ProgressForm() if viewer.user is not None else None,
        progress=watching.shown_progress(viewer, listing.board.id),
        # A member who hides show news sees the board's status when they ask for it.
        shows_status=not viewer.hides_news or request.args.get("news") == "show",
    )


@bp.route("/b/<slug>/new", methods=["GET", "POST"])
def new_thread(slug: str) -> str | Response | tuple[str, int]:
    session = db_session()
    board = reading.board_by_slug(session, slug)
    if board is None:
        abort(404)
    if not current_user.is_authenticated:
        return ask_to_log_in(request.path)
    form = ThreadForm()
    episodes = get_settings(session).episodes.of(board.id)
    offer_episodes(
        form.episode, episodes, "No particular episode", current_viewer().spoiler_limit(board.id)
    )
    valid = form.validate_on_submit()
    episode_key = chosen_episode(form.episode, episodes) if form.is_submitted() else None
    if valid and not form.episode.errors and "preview" not in request.form:
        outcome = posting.start_thread(
            session,
            current_viewer(),
            board,
            form.title.data,
            form.body.data,
            config=current_app.config,
            episode_key=episode_key,
            is_news=form.is_news.data,
        )
        if isinstance(outcome, posting.Posted):
            thread_id, thread_slug = outcome.thread.id, outcome.thread.slug
            session.commit()
            return redirect(url_for("threads.thread", thread_id=thread_id, slug=thread_slug))
        if outcome.field is not None:
            getattr(form, outcome.field).errors.append(outcome.message)
        # Above the form otherwise: who may post here, how many threads a day, is not about
        # the text typed.
        return _new_thread_page(
            board, form, None, None if outcome.field else outcome.message, outcome.status
        )
    # Nothing sent yet (the empty form, a preview, a field to fix): a member who may not
    # start a thread here learns why at once, with what they typed kept.
    if refusal := permissions.posting_refusal(current_viewer(), board):
        return _new_thread_page(board, form, None, refusal, 403)
    preview = (
        markup.preview(form.body.data, mentions.resolver_for(db_session()))
        if form.is_submitted() and not form.errors
        else None
    )
    return _new_thread_page(board, form, preview, None, 200)


def _new_thread_page(
    board: Board, form: ThreadForm, preview: str | None, refusal: str | None, status: int
) -> tuple[str, int]:
    return render_template(
        "boards/new_thread.html",
        board=board,
        form=form,
        preview=preview,
        refusal=refusal,
        has_episodes=len(form.episode.choices or ()) > 1,
    ), status
