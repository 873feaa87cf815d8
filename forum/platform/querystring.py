"""Query strings whose bytes aren't UTF-8 are percent-encoded before Flask sees them.

A client may send raw bytes in the request line (`GET /search?q=\xb2`); WSGI hands them on as
they came. Werkzeug decodes `request.args` leniently, but `request.full_path`, which the pages'
"log in and come back" links print, decodes strictly and raised: a 500 for every page, the
error page included. Encoding just the bytes that don't decode makes the request the one a
browser would have sent (`?q=%B2`): every page answers, and the value reads as a replacement
character like any other undecodable escape."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING
from urllib.parse import quote

from flask import Flask

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

# Everything a query string may hold as it is; only bytes outside ASCII get escaped.
_KEPT = "".join(chr(code) for code in range(0x21, 0x7F))


class Utf8QueryString:
    def __init__(self, wsgi_app: WSGIApplication) -> None:
        self.wsgi_app = wsgi_app

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        query: str = environ.get("QUERY_STRING", "")
        if not query.isascii():
            raw = query.encode("latin-1", "replace")  # WSGI strings carry bytes as latin-1
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError:
                environ["QUERY_STRING"] = quote(raw, safe=_KEPT)
        return self.wsgi_app(environ, start_response)


def init_app(app: Flask) -> None:
    app.wsgi_app = Utf8QueryString(app.wsgi_app)  # type: ignore[method-assign]
