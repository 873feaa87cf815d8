"""Episodes: a board's episode guide, a fan's watch progress and spoiler settings, and the staff's
episode tools (add an episode, open the aired episodes' threads, tie a thread to an episode).

Every action is a POST with a CSRF token (Flask-WTF checks it before the view) that commits
once; the rules are in forum/discussion/watching.py and forum/discussion/episodes.py, the
permissions in forum/access/permissions.py."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from forum.access import permissions
from forum.access.spoilers import Catalogue, key_among, load_catalogue
from forum.access.viewer import Viewer, current_viewer
from forum.db import db_session
from forum.discussion import episode_reading, episodes, reading, watching
from forum.discussion.episode_codes import parse_code
from forum.discussion.episode_forms import (
    EpisodeForm,
    ProgressForm,
    SpoilerSettingsForm,
    ThreadEpisodeForm,
)
from forum.discussion.forms import EmptyForm
from forum.models import Board, Thread, utcnow
from forum.platform import settings
from forum.platform.formfields import add_error
from forum.platform.security import safe_next
from forum.platform.settings import get_settings
from forum.views.drafts import ask_to_log_in

bp = Blueprint("episodes", __name__)

ARCHIVED = "This board is archived: it's read-only now."


def _board_or_404(slug: str) -> Board:
    board = reading.board_by_slug(db_session(), slug)
    if board is None:
        abort(404)
    return board


def _catalogue_knowing(board_id: int, code: str) -> Catalogue:
    """The episodes of every board, read anew when `code` names none of this board's: the
    catalogue is cached per process for a few seconds (forum/platform/settings.py), and an
    episode an admin added meanwhile is no bad request."""
    catalogue = get_settings(db_session()).episodes
    key = parse_code(code)
    if key is not None and key not in {episode.key for episode in catalogue.of(board_id)}:
        # Read past the cache, for this request only: dropping the process's cache here would
        # let any member make every request reload the settings by sending made-up codes.
        catalogue = load_catalogue(db_session())
    return catalogue


def _first_error(form: EpisodeForm | ProgressForm | ThreadEpisodeForm) -> str:
    for errors in form.errors.values():
        if errors:
            return str(errors[0])
    return "Something in that form wasn't right."


# ------------------------------------------------------------------------------ the guide


@bp.get("/b/<slug>/episodes")
def guide(slug: str) -> str:
    guide = episode_reading.episode_guide(db_session(), current_viewer(), slug)
    if guide is None:
        abort(404)
    return _guide_page(guide, current_viewer())


def _guide_page(
    guide: episode_reading.EpisodeGuide, viewer: Viewer, episode_form: EpisodeForm | None = None
) -> str:
    board = guide.board
    open_for_staff = not board.is_archived
    may_save = open_for_staff and permissions.can_administer(viewer)
    if may_save and episode_form is None:
        episode_form = EpisodeForm(formdata=None)
    return render_template(
        "episodes/guide.html",
        guide=guide,
        board=board,
        episodes=get_settings(db_session()).episodes.of(board.id),
        progress_form=ProgressForm(formdata=None) if viewer.user is not None else None,
        progress=watching.shown_progress(viewer, guide.board.id),
        episode_form=episode_form if may_save else None,
        may_open_threads=open_for_staff and permissions.moderates(viewer, board.id),
    )


# ------------------------------------------------------------------------------ fans


@bp.post("/b/<slug>/progress")
def progress(slug: str) -> Response | tuple[str, int]:
    session = db_session()
    board = _board_or_404(slug)
    form = ProgressForm()
    back = safe_next(form.next.data, url_for("boards.board", slug=board.slug))
    if not current_user.is_authenticated:
        return ask_to_log_in(back)
    if not form.validate_on_submit():
        abort(400, _first_error(form))
    outcome = watching.set_progress(
        session,
        current_user,
        board,
        form.watched.data,
        catalogue=_catalogue_knowing(board.id, form.watched.data),
        today=utcnow().date(),
        forward=form.forward.data == "1",
    )
    if isinstance(outcome, watching.ProgressRefused):
        abort(400, outcome.message)
    session.commit()
    flash(f"Saved: you're at {watching.progress_words(outcome.key)} of {board.name}.", "success")
    return redirect(back)


@bp.post("/settings/spoilers")
def spoiler_settings() -> Response | tuple[str, int]:
    if not current_user.is_authenticated:
        return ask_to_log_in(url_for("accounts.settings"))
    form = SpoilerSettingsForm()
    if not form.validate_on_submit():
        abort(400, "Those settings couldn't be read: open the settings page and try again.")
    session = db_session()
    watching.set_spoiler_preferences(
        session,
        current_user,
        sees_all_spoilers=form.sees_all_spoilers.data,
        hides_show_news=form.hides_show_news.data,
    )
    session.commit()
    flash("Spoiler settings saved.", "success")
    return redirect(url_for("accounts.settings"))


# ------------------------------------------------------------------------------ staff


@bp.post("/b/<slug>/episodes")
def save(slug: str) -> str | Response | tuple[str, int]:
    session = db_session()
    board = _board_or_404(slug)
    if not current_user.is_authenticated:
        return ask_to_log_in(url_for("episodes.guide", slug=board.slug))
    viewer = current_viewer()
    if not permissions.can_administer(viewer):
        abort(403, "Only admins can add or change a show's episodes.")
    if board.is_archived:
        abort(403, ARCHIVED)
    form = EpisodeForm()
    if form.validate_on_submit():
        try:
            episode = episodes.save_episode(
                session,
                current_user,
                board,
                form.season.data or 0,
                form.number.data or 0,
                form.title.data,
                form.aired.data,
            )
        except ValueError as problem:
            add_error(form.title, str(problem))
        else:
            code = episode.code
            session.commit()
            settings.forget_cached()  # the catalogue: this process sees the episode at once
            flash(f"Saved {code}.", "success")
            return redirect(url_for("episodes.guide", slug=board.slug, _anchor=code.lower()))
    guide = episode_reading.episode_guide(session, viewer, slug)
    assert guide is not None  # the board was just found
    return _guide_page(guide, viewer, episode_form=form), 400


@bp.post("/b/<slug>/episodes/open")
def open_threads(slug: str) -> Response | tuple[str, int]:
    session = db_session()
    board = _board_or_404(slug)
    back = url_for("episodes.guide", slug=board.slug)
    if not current_user.is_authenticated:
        return ask_to_log_in(back)
    if not permissions.moderates(current_viewer(), board.id):
        abort(403, f"Only admins and {board.name}'s moderators can open its episode threads.")
    if board.is_archived:
        abort(403, ARCHIVED)
    if not EmptyForm().validate_on_submit():
        abort(400)
    result = episodes.open_aired_threads(session, utcnow().date(), board=board, opener=current_user)
    count = len(result.opened)
    session.commit()
    settings.forget_cached()
    if count:
        flash(f"Opened {count} episode thread{'s' if count != 1 else ''}.", "success")
    else:
        flash(
            f"No threads opened: {result.reason}"
            if result.reason
            else "Every aired episode already has its thread.",
            "info",
        )
    return redirect(back)


@bp.post("/t/<int:thread_id>/episode")
def set_thread_episode(thread_id: int) -> Response | tuple[str, int]:
    session = db_session()
    thread = reading.thread_with_board(session, thread_id)
    # A thread hidden from this viewer doesn't exist for them: not even the log-in redirect
    # may carry its slug.
    if thread is None or not permissions.can_see_thread(current_viewer(), thread):
        abort(404)
    if not current_user.is_authenticated:
        return ask_to_log_in(_thread_url(thread))
    if not permissions.can_moderate_thread(current_viewer(), thread):
        abort(403, f"You don't moderate {thread.board.name}.")
    form = ThreadEpisodeForm()
    if not form.validate_on_submit():
        abort(400, _first_error(form))
    episode_key = None
    if form.episode.data:
        catalogue = _catalogue_knowing(thread.board_id, form.episode.data)
        episode_key = key_among(catalogue.of(thread.board_id), form.episode.data)
        if episode_key is None:
            abort(
                400,
                f"“{form.episode.data[:20]}” isn't an episode of {thread.board.name}: choose "
                "one of its episodes, or none.",
            )
    changed = episodes.set_thread_episode(
        session, current_user, thread, episode_key, form.is_news.data, form.reason.data
    )
    url = _thread_url(thread)
    session.commit()
    flash("Episode saved." if changed else "Nothing to change.", "success" if changed else "info")
    return redirect(url)


def _thread_url(thread: Thread) -> str:
    return url_for("threads.thread", thread_id=thread.id, slug=thread.slug)
