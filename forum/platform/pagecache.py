"""Whole-page cache for anonymous visitors.

A page is stored under (database namespace, content versions, URL). Two versions key a page:

- the site-wide version (`cache_state`), bumped by any change that may show anywhere (a
  moderator's action, a rename, the settings);
- the `cache_version` of the row the page is about (the thread, the board, the member; the
  board index sums its boards').

Which of them a write bumps is declared by the write itself, next to the change, and turned
into versions by forum/platform/freshness.py. So a reply makes its own thread, board, the index
and its author's profile miss, and leaves every other cached page valid; a moderator's action
empties the cache. Either way the next request after the commit sees the change, in every
worker. Pages live in Redis when FORUM_REDIS_URL is set (shared by all workers; skipped while
Redis is down), otherwise in an in-process LRU capped in bytes (PAGE_CACHE_MAX_BYTES per
worker). The URL part of the key is the path and the page number only, so made-up query strings
can't fill the cache. Responses carry an ETag of the same key, so a browser's revalidation costs
one indexed read and no rendering.

With PAGE_CACHE off nothing is looked up or stored: every page is rendered and says
`X-Cache: miss` (what `python -m bench` measures as a cache miss; also for debugging a page).

Feeds and sitemaps (`serve_document`) are keyed the same way, but they are the same for
everyone (built as a visitor), so members share them too; they show no relative times, so they
are kept longer (DOCUMENT_TTL_SECONDS); and they answer If-Modified-Since as well as
If-None-Match, with the time they were first rendered under their key as Last-Modified.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, Protocol

from flask import Flask, Response, current_app, g, request, session
from sqlalchemy.engine import Connection

from forum.models import utcnow
from forum.platform import redisconn, requestlog
from forum.platform.pagination import parse_page
from forum.platform.text import identity_key

# Pages show relative times ("5 minutes ago"), so even an unchanged page is re-rendered soon.
PAGE_TTL_SECONDS = 60
DEFAULT_MAX_BYTES = 64 * 1024 * 1024


# Feeds and sitemaps: keyed by content versions like pages, and without relative times, so a
# stored one is right until its key changes; the TTL only frees memory.
DOCUMENT_TTL_SECONDS = 3600


class PageStore(Protocol):
    # Whether every worker and host reads the same copies (Redis), or this process alone.
    shared: bool

    def get(self, key: str) -> bytes | None: ...
    def set(self, key: str, page: bytes, ttl: int = PAGE_TTL_SECONDS) -> None: ...


class LocalStore:
    """This process's pages, least recently used dropped first once they hold more than
    `max_bytes` (keys and pages counted; a worker's Python overhead comes on top)."""

    shared = False

    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self._pages: OrderedDict[str, tuple[float, bytes]] = OrderedDict()
        self._max_bytes = max_bytes
        self._bytes = 0
        self._lock = threading.Lock()

    @property
    def size(self) -> tuple[int, int]:
        """(pages, bytes) held now."""
        with self._lock:
            return len(self._pages), self._bytes

    def get(self, key: str) -> bytes | None:
        with self._lock:
            entry = self._pages.get(key)
            if entry is None:
                return None
            if entry[0] < time.monotonic():
                self._drop(key)
                return None
            self._pages.move_to_end(key)
            return entry[1]

    def set(self, key: str, page: bytes, ttl: int = PAGE_TTL_SECONDS) -> None:
        cost = _cost(key, page)
        if cost > self._max_bytes:
            return
        with self._lock:
            if key in self._pages:
                self._drop(key)
            self._pages[key] = (time.monotonic() + ttl, page)
            self._bytes += cost
            while self._bytes > self._max_bytes:
                self._drop(next(iter(self._pages)))

    def _drop(self, key: str) -> None:
        _expires, page = self._pages.pop(key)
        self._bytes -= _cost(key, page)


def _cost(key: str, page: bytes) -> int:
    return len(key) + len(page)


class RedisStore:
    """Pages shared by every worker. A Redis that is down is a miss, never an error page: the
    breaker skips it for a few seconds after a failure, so pages render as if uncached."""

    shared = True

    def __init__(self, link: redisconn.Link) -> None:
        self._link = link

    def get(self, key: str) -> bytes | None:
        page = self._link.call(lambda r: r.get(f"showboard:page:{key}"), None)
        # The client is built without decode_responses, so what Redis gives back is bytes.
        return page if isinstance(page, bytes) else None

    def set(self, key: str, page: bytes, ttl: int = PAGE_TTL_SECONDS) -> None:
        self._link.call(lambda r: r.set(f"showboard:page:{key}", page, ex=ttl), None)


def _personal() -> bool:
    """Pages for logged-in members, or carrying a one-off message, are never shared."""
    return (
        "_user_id" in session
        or "_flashes" in session
        or current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token") in request.cookies
    )


def _shareable() -> bool:
    return (
        request.method == "GET"
        and request.endpoint in CACHEABLE_ENDPOINTS
        and not _personal()
        # "Show anyway" pages show spoilers one visitor asked for: never another's page.
        and "reveal" not in request.args
    )


def _serve_cached() -> Response | None:
    if not _shareable():
        return None
    key = _page_key()
    etag = hashlib.blake2b(key.encode(), digest_size=12).hexdigest()
    g.page_cache = (key, etag)
    if etag in request.if_none_match:
        return _with_cache_headers(Response(status=304), etag, "revalidated")
    page = current_app.extensions["forum.pagecache"].get(key)
    if page is None:
        return None
    return _with_cache_headers(Response(page, mimetype="text/html"), etag, "hit")


# Per cacheable endpoint: the row version that belongs in the key, as a scalar subquery with
# one parameter ({p}), and that parameter from the URL's view arguments.
_ROW_VERSIONS: dict[str, tuple[str, Callable[[dict[str, Any]], object] | None]] = {
    "threads.thread": (
        "(SELECT cache_version FROM threads WHERE id = {p})",
        lambda args: args["thread_id"],
    ),
    "boards.board": (
        "(SELECT cache_version FROM boards WHERE slug = {p})",
        lambda args: args["slug"],
    ),
    "users.profile": (
        "(SELECT cache_version FROM users WHERE username_key = {p})",
        lambda args: identity_key(args["username"]),
    ),
    # The index shows every board's totals and latest post.
    "boards.index": ("(SELECT SUM(cache_version) FROM boards)", None),
}
CACHEABLE_ENDPOINTS = frozenset(_ROW_VERSIONS)
# Feeds and sitemaps (serve_document) key on the versions of the pages they follow: a thread's
# feed on its thread's, a board's on its board's, the site feed and the sitemaps on every
# board's (the index's). The site and board feeds print their threads' opening posts: a new
# thread, and an opening post's edit or deletion, bump its board (forum/discussion/posting.py).
# Sitemaps list threads' addresses and last posts: a new post bumps its board, a rename or a
# hide (a moderator action) is site-wide.
_DOCUMENT_VERSIONS: dict[str, tuple[str, Callable[[dict[str, Any]], object] | None]] = {
    "feeds.site": _ROW_VERSIONS["boards.index"],
    "feeds.board": _ROW_VERSIONS["boards.board"],
    "feeds.thread": _ROW_VERSIONS["threads.thread"],
    "crawlers.sitemap_index": _ROW_VERSIONS["boards.index"],
    "crawlers.sitemap_boards": _ROW_VERSIONS["boards.index"],
    "crawlers.sitemap_threads": _ROW_VERSIONS["boards.index"],
}
# The cached pages that read a query parameter (?page=N, nothing else): how many items the
# page numbers count, read in the same statement (same parameter), and the page size's setting.
_PAGED: dict[str, tuple[str, str]] = {
    "threads.thread": ("(SELECT post_count FROM threads WHERE id = {p})", "POSTS_PER_PAGE"),
    "boards.board": ("(SELECT thread_count FROM boards WHERE slug = {p})", "THREADS_PER_PAGE"),
}
_PLACEHOLDERS = {"qmark": "?", "format": "%s", "pyformat": "%s"}


def _page_address(items: int | None) -> str:
    """The URL as the page sees it: its path, and the page number the view will show (parsed
    and clamped to the last page as forum/platform/pagination.py does), so ?x=1, ?x=2, ?page=01 and
    ?page=99999 are pages already cached, not new entries a visitor can add by the thousand."""
    paged = _PAGED.get(str(request.endpoint))
    if paged is None:
        return request.path
    number = parse_page(request.args.get("page"))
    if items is not None:
        last = max(1, -(-int(items) // int(current_app.config[paged[1]])))
        number = min(number, last)
    return f"{request.path}?page={number}"


def site_version_seen() -> int | None:
    """The site-wide content version this request read before it rendered (cacheable pages
    only): anything shown on the page must be at least as new as this."""
    seen: int | None = g.get("site_version")
    return seen


@lru_cache(maxsize=16)
def _version_query(endpoint: str, paramstyle: str) -> str:
    placeholder = _PLACEHOLDERS[paramstyle]
    row_version = _versions_of(endpoint)[0].format(p=placeholder)
    items = _PAGED[endpoint][0].format(p=placeholder) if endpoint in _PAGED else "NULL"
    return f"SELECT namespace, version, {row_version}, {items} FROM cache_state"


def _page_key() -> str:
    """The namespace, the site-wide version, the page's row version and its address, read
    with one plain statement.

    A cache hit must cost next to nothing, so this skips the ORM session (and, on SQLite, the
    explicit BEGIN every session transaction takes): one indexed read on a pooled connection,
    which is an implicit transaction of its own. When the sessions are bound to a connection
    rather than an engine (the tests' rolled-back transaction), read through it, so the
    versions are the ones the request's own transaction sees."""
    endpoint = str(request.endpoint)
    argument = _versions_of(endpoint)[1]
    parameters: tuple[object, ...] = (argument(request.view_args or {}),) if argument else ()
    if endpoint in _PAGED:
        parameters *= 2
    bind = current_app.extensions["forum.sessionmaker"].kw["bind"]
    query = _version_query(endpoint, bind.dialect.paramstyle)
    if isinstance(bind, Connection):
        namespace, site, row, items = bind.exec_driver_sql(query, parameters).one()
    else:
        raw = bind.raw_connection()
        try:
            cursor = raw.cursor()
            cursor.execute(query, parameters)
            requestlog.note_raw_statement()  # engine events don't see this raw read
            namespace, site, row, items = cursor.fetchone()
            cursor.close()
        finally:
            raw.close()
    g.site_version = int(site)
    return f"{namespace}:{site}:{row}:{_spoiler_epoch()}:{_page_address(items)}"


def _versions_of(endpoint: str) -> tuple[str, Callable[[dict[str, Any]], object] | None]:
    return _ROW_VERSIONS.get(endpoint) or _DOCUMENT_VERSIONS[endpoint]


def _spoiler_epoch() -> int:
    """Which episodes visitors count as seen changes as episodes leave the grace period
    (forum/access/spoilers.py), with no write to bump a version: the key counts them. The
    episodes come from the settings' per-process cache, read again only when stale."""
    from forum.db import db_session  # the settings import this module
    from forum.platform.settings import get_settings

    catalogue = get_settings(db_session()).episodes
    return catalogue.epoch(utcnow().date(), current_app.config["SPOILER_GRACE_DAYS"])


def _store_page(response: Response) -> Response:
    cached = g.pop("page_cache", None)
    if cached is None or response.status_code != 200 or response.headers.get("X-Cache"):
        return response
    if session.modified or response.headers.get("Set-Cookie"):
        return response
    key, etag = cached
    current_app.extensions["forum.pagecache"].set(key, response.get_data())
    return _with_cache_headers(response, etag, "miss")


def _mark_rendered(response: Response) -> Response:
    """PAGE_CACHE off: a page the cache would have stored says it was rendered, as a miss does,
    so a benchmark or a developer can tell from the response that it was not served stored."""
    if response.status_code != 200 or session.modified or response.headers.get("Set-Cookie"):
        return response
    if _shareable():
        response.headers["X-Cache"] = "miss"
    return response


def _with_cache_headers(response: Response, etag: str, state: str) -> Response:
    response.set_etag(etag)
    response.headers["Cache-Control"] = "no-cache"  # revalidate every time: cheap with the ETag
    response.headers["X-Cache"] = state
    return response


def serve_document(render: Callable[[], bytes], mimetype: str) -> Response:
    """A feed or a sitemap (an endpoint of _DOCUMENT_VERSIONS) for anyone: `render` builds it
    as a visitor sees it, so members get the same bytes. Its ETag is its key, read in one
    statement, so a revalidation (If-None-Match) costs that read.

    Last-Modified is when the stored copy was rendered. HTTP dates count whole seconds, so two
    different copies rendered within one second would share a date and If-Modified-Since could
    not tell them apart: each new copy of a URL is dated at least a second after the last one
    dated (kept beside the copies). That holds only where every worker and host shares the
    copies and the dates (Redis): in-process stores date their copies apart, by clocks that may
    differ, so a copy rendered before a moderator hid a post could pass for current. So
    If-Modified-Since is answered only for a copy read from a shared store; otherwise (and with
    PAGE_CACHE off) only If-None-Match is. Dates ahead of the server's clock are ignored."""
    page_key = _page_key()
    key = f"doc:{current_app.config['PUBLIC_URL']}:{page_key}"
    etag = hashlib.blake2b(key.encode(), digest_size=12).hexdigest()
    if etag in request.if_none_match:
        return _with_cache_headers(Response(status=304), etag, "revalidated")
    now = int(time.time())
    store: PageStore | None = current_app.extensions.get("forum.pagecache")
    stored = store.get(key) if store is not None else None
    if stored is not None:
        stamp, _newline, body = stored.partition(b"\n")
        modified, state = int(stamp), "hit"
    else:
        body, modified, state = render(), now, "miss"
        if store is not None:
            namespace = page_key.partition(":")[0]
            dated = f"doc-dated:{namespace}:{current_app.config['PUBLIC_URL']}:{request.path}"
            last = store.get(dated)
            modified = max(now, int(last) + 1) if last is not None else now
            store.set(dated, b"%d" % modified, DOCUMENT_TTL_SECONDS)
            store.set(key, b"%d\n" % modified + body, DOCUMENT_TTL_SECONDS)
    since = request.if_modified_since
    if (
        state == "hit"
        and store is not None
        and store.shared
        and since is not None
        # If-None-Match, when sent, decides alone (RFC 9110 13.1.3); it didn't match above.
        and not request.if_none_match
        and modified <= since.timestamp() <= now
    ):
        response = Response(status=304)
    else:
        response = Response(body, mimetype=mimetype)
    response.last_modified = datetime.fromtimestamp(modified, UTC)
    return _with_cache_headers(response, etag, state)


def init_app(app: Flask) -> None:
    if not app.config["PAGE_CACHE"]:
        # Decided once here, so a request with the cache off pays no check at all.
        app.after_request(_mark_rendered)
        return
    link = redisconn.link(app)
    store: PageStore = RedisStore(link) if link else LocalStore(app.config["PAGE_CACHE_MAX_BYTES"])
    app.extensions["forum.pagecache"] = store
    app.before_request(_serve_cached)
    app.after_request(_store_page)
