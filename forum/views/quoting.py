"""Quote-replies (/p/<id>/quote) and the @mention autocomplete (/members/suggest).

/p/<id>/quote is the Quote button without JavaScript: the thread's reply form, its text the
quote (forum/conversation/quoting.py), posting to threads.reply like the thread page's form.
static/js/quoting.js asks the same URL for the Markdown alone (`?format=md`, or JSON when it
accepts only that) and puts it in the reply box at the cursor. Both are for members; a post
the member may not read is a 404, as if it weren't there; a hidden post is refused (403) to
the moderators who may read it: quoting it would publish its text again.
"""

from __future__ import annotations

from flask import Blueprint, abort, jsonify, render_template, request
from flask_login import current_user
from werkzeug.exceptions import TooManyRequests
from werkzeug.wrappers import Response

from forum.access import permissions, spoilers
from forum.access.viewer import current_viewer
from forum.conversation import mentions, quoting
from forum.db import db_session
from forum.discussion.episode_codes import code_of
from forum.discussion.forms import EpisodeOption, ReplyForm, episode_options
from forum.models import Thread
from forum.platform.settings import get_settings
from forum.platform.text import strip_control
from forum.views.drafts import ask_to_log_in

bp = Blueprint("quoting", __name__)

_NOINDEX = {"X-Robots-Tag": "noindex"}
# Longer than any username: not a name being typed.
SUGGEST_QUERY_MAX = 60


def _format() -> str | None:
    """ "md" or "json" when static/js/quoting.js asks for the Markdown alone; None: the page."""
    if request.args.get("format") == "md":
        return "md"
    accepted = request.accept_mimetypes
    if accepted.best == "application/json" and not accepted.accept_html:
        return "json"
    return None


@bp.get("/p/<int:post_id>/quote")
def quote(post_id: int) -> Response | tuple[str, int] | tuple[str | Response, int, dict[str, str]]:
    wanted = _format()
    if not current_user.is_authenticated:
        if wanted is not None:
            return _plain("Log in to quote posts.", wanted, 401)
        return ask_to_log_in(request.path)
    session = db_session()
    viewer = current_viewer()
    found = quoting.quoted_post(session, viewer, post_id)
    if found is None:
        abort(404)
    if found.post.is_hidden:
        # Only the board's moderators get this far with a hidden post: they are told why not.
        refusal: str | None = quoting.HIDDEN_REFUSAL
        markdown = ""
    else:
        quoted = quoting.quote_markdown(session, viewer, found.post)
        if quoted is None:
            abort(404)
        markdown = quoted
        refusal = permissions.reply_refusal(viewer, found.thread)
    if wanted is not None:
        if refusal:
            return _plain(refusal, wanted, 403)
        return _plain(markdown, wanted, 200, markdown=True)
    page = render_template(
        "threads/quote.html",
        post=found.post,
        thread=found.thread,
        thread_title=spoilers.thread_title(viewer, found.thread).text,
        author=found.author,
        refusal=refusal,
        reply_form=None if refusal else _prefilled(markdown),
        episode_options=() if refusal else _episode_options(found.thread),
    )
    return page, 403 if refusal else 200, _NOINDEX


def _prefilled(markdown: str) -> ReplyForm:
    form = ReplyForm(formdata=None)
    # Set after the field's filters, which trim the blank line that ends the quote: without
    # it, a reply typed on the next line would join the quote (a lazy continuation).
    form.body.data = markdown
    return form


def _plain(
    text: str, wanted: str, status: int, markdown: bool = False
) -> tuple[str | Response, int, dict[str, str]]:
    if wanted == "json":
        body = {"markdown": text} if markdown else {"error": text}
        return jsonify(body), status, _NOINDEX
    kind = "text/markdown" if markdown else "text/plain"
    return text, status, {"Content-Type": f"{kind}; charset=utf-8", **_NOINDEX}


def _episode_options(thread: Thread) -> list[EpisodeOption]:
    """The reply form's "discusses up to" options, as on the thread page (none when the board
    has no episodes)."""
    episodes = get_settings(db_session()).episodes.of(thread.board_id)
    if not episodes:
        return []
    return episode_options(
        episodes,
        f"This thread's episode ({code_of(thread.episode_key)})"
        if thread.episode_key is not None
        else "No particular episode",
        current_viewer().spoiler_limit(thread.board_id),
    )


@bp.get("/members/suggest")
def suggest() -> Response | tuple[Response, int]:
    """Usernames starting with `q` (an @name being typed), for members only: the list of
    accounts is not for scrapers. Rate-limited with search (forum/platform/limits.py)."""
    if not current_user.is_authenticated:
        return jsonify({"query": "", "usernames": [], "error": "log in"}), 401
    query = strip_control(request.args.get("q", ""))[:SUGGEST_QUERY_MAX].strip().lstrip("@")
    return jsonify({"query": query, "usernames": mentions.suggestions(db_session(), query)})


@bp.errorhandler(TooManyRequests)
def too_many(_error: TooManyRequests) -> tuple[Response | str, int]:
    if request.endpoint == "quoting.suggest":
        return jsonify({"query": "", "usernames": [], "error": "too many requests"}), 429
    return "Too many requests: wait a minute and try again.", 429
