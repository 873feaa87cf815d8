"""Reading a thread, replying, editing and deleting posts, and the Markdown preview."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from forum.access import permissions, spoilers
from forum.access.spoilers import EpisodeInfo
from forum.access.viewer import current_viewer
from forum.conversation import mentions, read_marks
from forum.db import db_session
from forum.discussion import markup, posting, presenting, reading
from forum.discussion.episode_codes import code_of
from forum.discussion.forms import (
    EditPostForm,
    EmptyForm,
    EpisodeOption,
    ReplyForm,
    episode_options,
    parse_episode,
)
from forum.models import Post, Thread
from forum.platform.pagination import parse_page
from forum.platform.settings import get_settings
from forum.staff import moderation
from forum.views.drafts import ask_to_log_in

bp = Blueprint("threads", __name__)


def _posts_per_page() -> int:
    return int(current_app.config["POSTS_PER_PAGE"])


def post_url(post: Post, thread: Thread, revealed: bool = False) -> str:
    page = (post.number - 1) // _posts_per_page() + 1
    return url_for(
        "threads.thread",
        thread_id=thread.id,
        slug=thread.slug,
        page=page if page > 1 else None,
        reveal="1" if revealed else None,
        _anchor=f"post-{post.id}",
    )


def _visible_thread_or_404(thread: Thread | None) -> Thread:
    if thread is None or not permissions.can_see_thread(current_viewer(), thread):
        abort(404)
    return thread


def _post_or_abort(
    post_id: int, allowed: Callable[[Any, Post, Thread], bool]
) -> tuple[Post, Thread]:
    """The post and its thread, or 404 when either is missing or invisible, 403 with the
    reason when the current user may not do what `allowed` asks."""
    post = reading.post_in_thread(db_session(), post_id)
    if post is None:
        abort(404)
    thread = _visible_thread_or_404(post.thread)
    if not allowed(current_viewer(), post, thread):
        abort(403, description=permissions.edit_refusal(current_viewer(), post, thread))
    return post, thread


@bp.get("/t/<int:thread_id>")
@bp.get("/t/<int:thread_id>/<slug>")
def thread(thread_id: int, slug: str | None = None) -> str | Response:
    viewer = current_viewer()
    listing = reading.thread_listing(
        db_session(),
        viewer,
        thread_id,
        parse_page(request.args.get("page")),
        _posts_per_page(),
    )
    if listing is None:
        abort(404)
    current = _visible_thread_or_404(listing.thread)
    # "Show anyway": this thread's own episode (or news) for this page, in the URL so it
    # holds for the thread's other pages too and never for a cached page (pagecache.py).
    revealed = request.args.get("reveal") == "1"
    if slug != current.slug:
        page = listing.page.number if listing.page.number > 1 else None
        return redirect(
            url_for(
                "threads.thread",
                thread_id=current.id,
                slug=current.slug,
                page=page,
                reveal="1" if revealed else None,
            ),
            301,
        )
    title = spoilers.thread_title(viewer, current, revealed)
    if title.masked:
        return _spoiler_warning(current, title)
    # Forms put a CSRF token in the session: only members get them, so anonymous pages stay
    # cookie-free and cacheable (forum/platform/pagecache.py).
    member = current_user.is_authenticated
    cards = presenting.post_cards(
        listing.posts,
        current,
        viewer,
        spoilers.thread_page_limit(viewer, current, revealed),
        last_read=listing.state.last_read_number if listing.state is not None else None,
    )
    # The delete buttons' form, only for a page that shows one: a form costs 0.2-0.3 ms to
    # build, and most pages a member reads hold none of their posts.
    deletable = member and any(card.delete_url for card in cards)
    episodes = _episodes_of(current)
    boards = reading.boards_for_move(db_session(), viewer)
    # Last, after every read: it ends the page's read transaction (forum/db.py write_apart).
    read_marks.mark_page_read(db_session(), viewer, listing)
    return render_template(
        "threads/thread.html",
        listing=listing,
        cards=cards,
        reply_form=ReplyForm() if member else None,
        episode_options=_episode_options(current, episodes) if member else (),
        episode_choice="",
        episode_error=None,
        action_form=EmptyForm() if deletable else None,
        preview=None,
        boards=boards,
        episodes=episodes,
        episode_code=code_of(current.episode_key) if current.episode_key else None,
        revealed="1" if revealed else None,
        watched_form=EmptyForm() if spoilers.offers_watched_button(viewer, current) else None,
    )


def _episodes_of(current: Thread) -> tuple[EpisodeInfo, ...]:
    return get_settings(db_session()).episodes.of(current.board_id)


def _episode_options(current: Thread, episodes: tuple[EpisodeInfo, ...]) -> list[EpisodeOption]:
    """The reply form's "discusses up to" options (none when the board has no episodes)."""
    if not episodes:
        return []
    return episode_options(
        episodes,
        f"This thread's episode ({code_of(current.episode_key)})"
        if current.episode_key is not None
        else "No particular episode",
        current_viewer().spoiler_limit(current.board_id),
    )


def _spoiler_warning(current: Thread, title: spoilers.ShownTitle, kept_text: str = "") -> str:
    """A thread tied to an episode the viewer hasn't reached (or show news they hide): a
    warning with "show anyway" and "I've watched up to ...", never its title or posts.
    `kept_text`: a reply they typed, handed back."""
    return render_template(
        "threads/spoiler_warning.html",
        thread=current,
        shown_title=title,
        watched_form=EmptyForm() if current_user.is_authenticated else None,
        kept_text=kept_text,
    )


@bp.post("/t/<int:thread_id>/reply")
def reply(thread_id: int) -> str | Response | tuple[str, int]:
    session = db_session()
    current = _visible_thread_or_404(reading.thread_with_board(session, thread_id))
    if not current_user.is_authenticated:
        return ask_to_log_in(request.path)
    form = ReplyForm()
    if not form.validate() or "preview" in request.form:
        # Nothing to post yet; a member who may not reply learns why before fixing the text.
        if refusal := permissions.reply_refusal(current_viewer(), current):
            form.body.errors = [refusal]
            return _thread_with_reply_form(current, form, None), 403
        preview = (
            markup.preview(form.body.data, mentions.resolver_for(db_session()))
            if not form.errors
            else None
        )
        return _thread_with_reply_form(current, form, preview)
    try:
        episode_key = parse_episode(request.form.get("episode"), _episodes_of(current))
    except ValueError as refused:
        return _thread_with_reply_form(current, form, None, episode_error=str(refused))
    outcome = posting.reply(
        session,
        current_viewer(),
        current,
        form.body.data,
        config=current_app.config,
        episode_key=episode_key,
    )
    if isinstance(outcome, posting.Refused):
        # A reply form has one field: a refusal for the form as a whole shows there too.
        form.body.errors = [*form.body.errors, outcome.message]
        return _thread_with_reply_form(current, form, None), outcome.status
    target = post_url(outcome.post, current, revealed=request.form.get("reveal") == "1")
    session.commit()
    return redirect(target)


def _thread_with_reply_form(
    current: Thread, form: ReplyForm, preview: str | None, episode_error: str | None = None
) -> str:
    """The thread's last page with the reply form as the fan left it."""
    viewer = current_viewer()
    listing = reading.thread_listing(db_session(), viewer, current.id, 10**9, _posts_per_page())
    assert listing is not None
    episodes = _episodes_of(current)
    # The reply form of a masked thread is on its "show anyway" page only, which posts
    # reveal=1; a refused or previewed reply sent without it gets the warning back, with the
    # typed text kept.
    revealed = request.form.get("reveal") == "1"
    title = spoilers.thread_title(viewer, current, revealed)
    if title.masked:
        return _spoiler_warning(current, title, kept_text=form.body.data)
    return render_template(
        "threads/thread.html",
        listing=listing,
        reply_form=form,
        episode_options=_episode_options(current, episodes),
        episode_choice=request.form.get("episode", ""),
        episode_error=episode_error,
        cards=presenting.post_cards(
            listing.posts, current, viewer, spoilers.thread_page_limit(viewer, current, revealed)
        ),
        action_form=EmptyForm(),
        preview=preview,
        boards=reading.boards_for_move(db_session(), viewer),
        episodes=episodes,
        episode_code=code_of(current.episode_key) if current.episode_key else None,
        revealed="1" if revealed else None,
        watched_form=EmptyForm() if spoilers.offers_watched_button(viewer, current) else None,
    )


@bp.get("/p/<int:post_id>/reveal")
def reveal(post_id: int) -> str | tuple[str, int, dict[str, str]]:
    """A post with all its spoilers, for a viewer who asked to see it: its own page, or (with
    `?partial=1`, for static/app.js) just its body, to put in place of the collapsed one."""
    post = reading.post_in_thread(db_session(), post_id)
    if post is None:
        abort(404)
    current = _visible_thread_or_404(post.thread)
    if not permissions.can_see_post_text(current_viewer(), post, current):
        abort(404)
    if request.args.get("partial") == "1":
        return (
            render_template("threads/_revealed_body.html", post=post),
            200,
            {"X-Robots-Tag": "noindex"},
        )
    return (
        render_template("threads/reveal.html", post=post, thread=current),
        200,
        {"X-Robots-Tag": "noindex"},
    )


@bp.get("/p/<int:post_id>")
def permalink(post_id: int) -> Response:
    post = reading.post_in_thread(db_session(), post_id)
    if post is None:
        abort(404)
    _visible_thread_or_404(post.thread)
    return redirect(post_url(post, post.thread))


@bp.route("/p/<int:post_id>/edit", methods=["GET", "POST"])
@login_required
def edit(post_id: int) -> str | Response | tuple[str, int]:
    session = db_session()
    post, current = _post_or_abort(post_id, permissions.can_edit_post)
    form = EditPostForm(data={"body": post.source} if request.method == "GET" else None)
    preview = None
    if form.validate_on_submit():
        if "preview" in request.form:
            preview = markup.preview(form.body.data, mentions.resolver_for(db_session()))
        else:
            if post.author_id == current_user.id:
                refused = posting.edit_post(session, post, form.body.data, editor=current_user)
            else:
                refused = moderation.edit_others_post(session, current_user, post, form.body.data)
            if refused is None:
                target = post_url(post, current)
                session.commit()
                return redirect(target)
            # Refused before anything was written: the form comes back with the reason.
            form.body.errors = [*form.body.errors, refused.message]
    return render_template(
        "threads/edit.html",
        post=post,
        thread=current,
        thread_title=spoilers.thread_title(current_viewer(), current).text,
        form=form,
        preview=preview,
    )


@bp.post("/p/<int:post_id>/delete")
@login_required
def delete(post_id: int) -> Response:
    session = db_session()
    post, current = _post_or_abort(post_id, permissions.can_delete_post)
    if not EmptyForm().validate_on_submit():
        abort(400)
    posting.delete_post(post, deleted_by=current_user)
    target = post_url(post, current)
    session.commit()
    return redirect(target)


@bp.post("/preview")
@login_required
def preview() -> tuple[str, int, dict[str, str]] | str:
    """The live preview: the same renderer as saving, so what fans see is what they'll get.
    Members who may not post (suspended, banned, unverified) get the reason instead: rendering
    costs CPU, and it is a posting tool."""
    if not permissions.is_active_member(current_viewer()):
        reason = permissions.standing_refusal(current_viewer()) or "You can't post right now."
        return reason, 403, {"Content-Type": "text/plain; charset=utf-8"}
    body = request.form.get("body", "")
    if len(body) > 50_000:
        return "Too long to preview.", 413, {"Content-Type": "text/plain"}
    return render_template(
        "threads/_preview.html", preview=markup.preview(body, mentions.resolver_for(db_session()))
    )
