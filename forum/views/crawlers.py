"""What search engines and link previewers read: robots.txt and the sitemaps. The link-preview
tags themselves are built by forum/sharing/link_previews.py, which this blueprint makes a
template global (`link_previews`), as templating.py makes permissions `can`."""

from __future__ import annotations

from flask import Blueprint, abort, render_template
from werkzeug.wrappers import Response

from forum.db import db_session
from forum.platform.pagecache import serve_document
from forum.platform.publicurl import external_url
from forum.sharing import link_previews, sitemap_reading

bp = Blueprint("crawlers", __name__)
bp.record_once(lambda state: state.app.jinja_env.globals.update(link_previews=link_previews))

SITEMAP = "application/xml"
# Pages that are private, per visitor, forms, or spoilers on request: no use in an index.
# Prefixes, so /login/second-factor and /settings/sessions are covered too (and /mod/log: the
# public moderation log is for people, not an index). The * rules are the wildcard extension
# the big crawlers read; others skip them.
PRIVATE_PATHS = (
    "/search",
    "/login",
    "/logout",
    "/register",
    "/reset",
    "/verify",
    "/settings",
    "/mod",
    "/admin",
    "/reports",
    "/preview",
    "/p/",  # permalinks redirect to the thread page; /p/<id>/reveal shows spoilers
    "/*?reveal=",  # "show anyway": spoilers a visitor asked for
    "/*&reveal=",
    "/b/*/new",
)


@bp.get("/robots.txt")
def robots() -> Response:
    lines = ["User-agent: *", *(f"Disallow: {path}" for path in PRIVATE_PATHS)]
    lines += ["", f"Sitemap: {external_url('crawlers.sitemap_index')}", ""]
    response = Response("\n".join(lines), mimetype="text/plain")
    # The same until the next deploy: no database, no revalidation for a day.
    response.cache_control.public = True
    response.cache_control.max_age = 86_400
    return response


@bp.get("/sitemap.xml")
def sitemap_index() -> Response:
    def render() -> bytes:
        pages, last_post = sitemap_reading.sitemap_pages(db_session())
        return render_template(
            "crawlers/sitemap_index.xml",
            boards_url=external_url("crawlers.sitemap_boards"),
            last_post=last_post,
            thread_pages=[
                (external_url("crawlers.sitemap_threads", page=page.number), page.lastmod)
                for page in pages
            ],
        ).encode()

    return serve_document(render, SITEMAP)


@bp.get("/sitemap-boards.xml")
def sitemap_boards() -> Response:
    return serve_document(lambda: _urlset(sitemap_reading.sitemap_boards(db_session())), SITEMAP)


@bp.get("/sitemap-threads-<int:page>.xml")
def sitemap_threads(page: int) -> Response:
    def render() -> bytes:
        urls = sitemap_reading.sitemap_threads(db_session(), page)
        if urls is None:
            abort(404)
        return _urlset(urls)

    return serve_document(render, SITEMAP)


def _urlset(urls: list[sitemap_reading.SitemapUrl]) -> bytes:
    return render_template("crawlers/urlset.xml", urls=urls).encode()
