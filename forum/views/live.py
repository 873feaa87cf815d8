"""Live threads: /t/<id>/live (is there news?, cheaply) and the new posts as HTML.

The poll is the busiest request a finale night has: a thousand fans polling every 5 s are 200
a second, nearly all answered "no news". Those are answered in front of Flask (`NoNewsPolls`,
a WSGI wrapper): when the process's memo (forum/conversation/live.py) is fresh, says the
thread is visible to everyone and has no post after the page's last, the answer is a bare 204
with no request context, session, hooks or SQL. Every other poll (memo too old, a hidden or
missing thread, news, a malformed query) goes through Flask to the `poll` view below, which
always reads the thread's current state from the database (one statement, which refreshes the
memo; a fresh memo is never trusted there), checks a hidden thread against the viewer, and is
listed in auth.NO_VIEWER (no session touch, no remember-cookie refresh).

The window a memo leaves after a moderator hides a thread: for at most MEMO_SECONDS, in each
process whose memo last saw the thread visible, NoNewsPolls may still answer a no-news poll
204, which says no more than "no news" (it is the only answer the wrapper ever gives: never a
count, never a body). Any poll that reaches Flask answers 404 at once, and refreshes the memo,
so the wrapper stops answering for that thread in that process too.

The new posts (`posts`) are shown to the member, so they move the member's read mark like a
page view (forum/conversation/read_marks.py: write_apart, at most one write, none when the
mark doesn't move) and read the notifications about them; a visitor's fetch writes nothing.

What the wrapper skips, on purpose, for that one answer: the request log line (like the health
probes: 200 lines a second of "no news" would bury the page views), the Host check (a 204 carries
no link), the rate limits (the poll has none: answered from memory it costs less than the
limiter's bookkeeping would, and the database is read at most once per thread per MEMO_SECONDS
however many ask) and the security headers a page needs (it has no body; it gets nosniff and
no-store).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, cast
from urllib.parse import parse_qs

from flask import (
    Blueprint,
    Flask,
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
from forum.conversation import live, read_marks
from forum.db import db_session
from forum.discussion import presenting, reading
from forum.discussion.forms import EmptyForm
from forum.views import MAX_ID

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

bp = Blueprint("live", __name__)

NO_STORE = "no-store"  # a count of a moment: no cache, shared or private, keeps it


@bp.record_once
def _memo(state: BlueprintSetupState) -> None:
    # One memo per app (per worker process): tests build many apps on reused thread ids.
    app = cast(Flask, state.app)
    counts = app.extensions["forum.live"] = live.ThreadCounts()
    app.wsgi_app = NoNewsPolls(app.wsgi_app, counts)  # type: ignore[method-assign]


_POLL_PATH = re.compile(r"/t/([1-9][0-9]{0,9})/live")
_NO_NEWS_HEADERS = [
    ("Cache-Control", NO_STORE),
    ("X-Content-Type-Options", "nosniff"),
    ("Content-Length", "0"),
]


class NoNewsPolls:
    """Answers `GET /t/<id>/live?after=<n>` with 204 from the memo when it is fresh and the
    thread visible to everyone with no post after n; passes every other request to Flask."""

    def __init__(self, wsgi_app: WSGIApplication, counts: live.ThreadCounts) -> None:
        self.wsgi_app, self.counts = wsgi_app, counts

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") == "GET" and self._no_news(
            environ.get("PATH_INFO", ""), environ.get("QUERY_STRING", "")
        ):
            start_response("204 No Content", list(_NO_NEWS_HEADERS))
            return []
        return self.wsgi_app(environ, start_response)

    def _no_news(self, path: str, query: str) -> bool:
        # Only the exact form live.js sends; anything else is Flask's to answer (or refuse).
        if not query.startswith("after=") or not path.endswith("/live"):
            return False
        found = _POLL_PATH.fullmatch(path)
        after = query[6:]
        if found is None or not (after.isascii() and after.isdigit()) or len(after) > 10:
            return False
        known = self.counts.fresh(int(found.group(1)))
        return known is not None and not known.is_hidden and known.post_count <= int(after)


def _after() -> int | None:
    """The number of the last post the page shows (?after=); None when it is not one."""
    # Read from the raw query: request.args fails on bytes that aren't UTF-8.
    raw = parse_qs(request.query_string.decode("latin-1")).get("after", [""])[0]
    # isascii: "²".isdigit() is true, and int() refuses it.
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 10 or int(raw) > MAX_ID:
        return None
    return int(raw)


@bp.get("/t/<int:thread_id>/live")
def poll(thread_id: int) -> Response:
    """204 when the thread has no post after `after`; {"posts": N, "new": k} when it has."""
    after = _after()
    if after is None:
        # Answered here, not by the error page: it prints the request's address, which fails
        # on a query that isn't UTF-8 (and a script has no use for a page).
        return Response(
            "after: the number of the last post the page shows\n", 400, mimetype="text/plain"
        )
    counts: live.ThreadCounts = current_app.extensions["forum.live"]
    # Never the memo here: a thread hidden a moment ago must be a 404 at once, and the count
    # read now is the memo's next answer for NoNewsPolls.
    known = counts.read(db_session(), thread_id)
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
    html = render_template(
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
    if found.posts:
        # Last, after every read: it ends the read transaction (db.write_apart).
        read_marks.mark_shown_read(db_session(), viewer, thread.id, found.posts[-1].number)
    response = Response(html)
    response.headers["Cache-Control"] = NO_STORE
    return response


class _ThreadPageRequest:
    """What mod/_post_tools.html reads of `request` (full_path), as if on the thread page."""

    def __init__(self, full_path: str) -> None:
        self.full_path = full_path
