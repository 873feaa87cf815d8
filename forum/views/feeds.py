"""Atom feeds (RFC 4287): the newest threads of the site and of a board, a thread's latest
posts. Built as a visitor sees the site (forum/sharing/feed_reading.py), so every reader
gets the same bytes, stored and revalidated by forum/platform/pagecache.serve_document."""

from __future__ import annotations

from flask import Blueprint, abort, render_template
from werkzeug.wrappers import Response

from forum.db import db_session
from forum.platform.pagecache import serve_document
from forum.platform.settings import get_settings
from forum.sharing import feed_reading
from forum.sharing.feed_reading import Feed

bp = Blueprint("feeds", __name__)

ATOM = "application/atom+xml"


def _atom(feed: Feed | None) -> bytes:
    if feed is None:
        abort(404)
    return render_template("feeds/feed.xml", feed=feed).encode()


def _site_name() -> str:
    return get_settings(db_session()).site_name


@bp.get("/feed.atom")
def site() -> Response:
    return serve_document(lambda: _atom(feed_reading.site_feed(db_session(), _site_name())), ATOM)


@bp.get("/b/<slug>/feed.atom")
def board(slug: str) -> Response:
    return serve_document(
        lambda: _atom(feed_reading.board_feed(db_session(), slug, _site_name())), ATOM
    )


@bp.get("/t/<int:thread_id>/feed.atom")
def thread(thread_id: int) -> Response:
    return serve_document(
        lambda: _atom(feed_reading.thread_feed(db_session(), thread_id, _site_name())), ATOM
    )
