"""Search: the results page (/search) and the header box's suggestions (/search/suggest).

Both are per query and per viewer, so neither is in the page cache; members' responses are
`private, no-store` like every page they get. Whatever is typed, the answer is a page (a
message under the field that means nothing), never an error. Over LIMIT_SEARCH
(forum/platform/limits.py) the answer is a 429 that says so in search's words: the page
keeps the query in the header's box, the suggestions answer an empty list.
"""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, render_template, request
from werkzeug.exceptions import TooManyRequests
from werkzeug.wrappers import Response

from forum.access.viewer import current_viewer
from forum.db import db_session
from forum.platform.text import strip_control
from forum.search import search_forms, search_reading, search_suggestions

bp = Blueprint("search", __name__)

# A suggestion is asked for as the fan types: more than this is not a title being typed.
SUGGEST_QUERY_MAX = 100
TOO_MANY_MESSAGE = (
    "That's a lot of searching in a short time. Wait a minute, then search again: "
    "your search is still in the box above."
)


@bp.get("/search")
def search() -> str:
    form = search_forms.parse(request.args)
    results = search_reading.find(
        db_session(), current_viewer(), form, int(current_app.config["POSTS_PER_PAGE"])
    )
    # `query` fills the header's search box too (base.html).
    return render_template("search.html", results=results, form=results.form, query=form.q)


@bp.get("/search/suggest")
def suggest() -> Response:
    query = strip_control(request.args.get("q", ""))[:SUGGEST_QUERY_MAX]
    found = search_suggestions.suggestions(db_session(), current_viewer(), query)
    return jsonify(
        {
            "query": query,
            "suggestions": [
                {"kind": s.kind, "label": s.label, "url": s.url, "detail": s.detail} for s in found
            ],
        }
    )


@bp.errorhandler(TooManyRequests)
def too_many(_error: TooManyRequests) -> tuple[Response | str, int]:
    # Before forum/views/errors.py's page, which speaks of forms ("tried that too many times").
    if request.endpoint == "search.suggest":
        return jsonify({"query": "", "suggestions": [], "error": "too many searches"}), 429
    query = strip_control(request.args.get("q", ""))[: search_forms.MAX_QUERY].strip()
    page = render_template(
        "error.html",
        code=429,
        title="Slow down a little",
        message=TOO_MANY_MESSAGE,
        query=query,
    )
    return page, 429
