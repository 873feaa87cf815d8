"""Live threads: /t/<id>/live (is there news?, cheaply) and the new posts as HTML.

The poll is the busiest request a finale night has, so it is listed in auth.NO_VIEWER (the
session touch, the remember-cookie refresh and the members' Cache-Control header skip it) and
its fast path reads neither the session nor the database: forum/conversation/live.py. It has
no rate limit of its own: a poll answered from the memo costs less than the limiter's own
bookkeeping would, and one that reaches the database does so at most once per thread per
MEMO_SECONDS (a hidden thread's checked path costs what its thread page costs, unlimited too).
"""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    jsonify,
    render_template,
    request,
    url_for,
)
from flask.blueprints import BlueprintSetupState
from flask_login import current_user

from forum.access import permissions, spoilers
from forum.access.viewer import current_viewer
from forum.conversation import live
from forum.db import db_session
from forum.discussion import presenting, reading
from forum.discussion.forms import EmptyForm
from forum.views import MAX_ID

bp = Blueprint("live", __name__)

NO_STORE = "no-store"  # a count of a moment: no cache, shared or private, keeps it


@bp.record_once
def _memo(state: BlueprintSetupState) -> None:
    # One memo per app (per worker process): tests build many apps on reused thread ids.
    state.app.extensions["forum.live"] = live.ThreadCounts()


def _after() -> int:
    """The number of the last post the page shows (?after=), or 400."""
    raw = request.args.get("after", "")
    if not raw.isdigit() or len(raw) > 10 or int(raw) > MAX_ID:
        abort(400, description="after: the number of the last post the page shows")
    return int(raw)


@bp.get("/t/<int:thread_id>/live")
def poll(thread_id: int) -> Response:
    """204 when the thread has no post after `after`; {"posts": N, "new": k} when it has."""
    after = _after()
    counts: live.ThreadCounts = current_app.extensions["forum.live"]
    known = counts.fresh(thread_id) or counts.read(db_session(), thread_id)
    post_count = known.post_count
    if known.is_hidden:
        # Hidden (or missing): only its moderators may learn anything, even that it exists.
        thread = reading.thread_with_board(db_session(), thread_id)
        if thread is None or not permissions.can_see_thread(current_viewer(), thread):
            abort(404)
        post_count = thread.post_count
    if post_count <= after:
        response = Response(status=204)
    else:
        response = jsonify(posts=post_count, new=post_count - after)
    response.headers["Cache-Control"] = NO_STORE
    return response


@bp.get("/t/<int:thread_id>/after/<int:number>")
def posts(thread_id: int, number: int) -> Response:
    """The posts after `number` as `viewer` sees them (a fragment for static/js/live.js)."""
    viewer = current_viewer()
    found = live.posts_after(db_session(), viewer, thread_id, number)
    if found is None:
        abort(404)
    thread = found.thread
    revealed = request.args.get("reveal") == "1"
    if spoilers.thread_title(viewer, thread, revealed).masked:
        # Its page is a warning with no posts: so is this.
        abort(404)
    cards = presenting.post_cards(
        found.posts, thread, viewer, spoilers.thread_page_limit(viewer, thread, revealed)
    )
    deletable = current_user.is_authenticated and any(card.delete_url for card in cards)
    # The page the first new post is on: where "reload" goes when there are too many.
    page = number // int(current_app.config["POSTS_PER_PAGE"]) + 1
    page_url = url_for(
        "threads.thread",
        thread_id=thread.id,
        slug=thread.slug,
        page=page if page > 1 else None,
        reveal="1" if revealed else None,
    )
    response = Response(
        render_template(
            "conversation/live_posts.html",
            found=found,
            thread=thread,
            cards=cards,
            action_form=EmptyForm() if deletable else None,
            revealed="1" if revealed else None,
            reload_url=page_url,
            # The moderator tools' "back to" links (mod/_post_tools.html) go to the thread
            # page, not to this fragment's address.
            request=_ThreadPageRequest(page_url),
        )
    )
    response.headers["Cache-Control"] = NO_STORE
    return response


class _ThreadPageRequest:
    """What mod/_post_tools.html reads of `request` (full_path), as if on the thread page."""

    def __init__(self, full_path: str) -> None:
        self.full_path = full_path
