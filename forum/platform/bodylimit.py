"""Chunked request bodies get the same size limit as any other: over MAX_CONTENT_LENGTH, 413.

Werkzeug refuses a body whose Content-Length is over the limit before reading it. A chunked
body has no Content-Length: Werkzeug then reads at most MAX_CONTENT_LENGTH bytes of it and
parses what it got, so an oversized form was silently cut short (a post losing its end, or a
CSRF token that was never read) instead of refused. This middleware reads a chunked body up to
one byte past the limit and hands it on with a Content-Length, so Werkzeug's own check applies:
within the limit the request is as the client sent it; past it, 413 and the friendly page.

Only chunked bodies the server has terminated (``wsgi.input_terminated``: gunicorn and
Werkzeug's server de-chunk them and say so) are read; any other stream without a length is
left to Werkzeug, which reads none of it.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from flask import Flask

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

READ_SIZE = 64 * 1024


class ChunkedBodyLimit:
    def __init__(self, wsgi_app: WSGIApplication, flask_app: Flask) -> None:
        self.wsgi_app, self.flask_app = wsgi_app, flask_app

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        limit = self.flask_app.config.get("MAX_CONTENT_LENGTH")
        if (
            limit
            and not environ.get("CONTENT_LENGTH")
            and environ.get("wsgi.input_terminated")
            and "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        ):
            body = _read_at_most(environ["wsgi.input"], int(limit) + 1)
            # From here on it is an ordinary body with a length (Werkzeug ignores a
            # Content-Length that comes with Transfer-Encoding: chunked).
            environ["wsgi.input"] = io.BytesIO(body)
            environ["CONTENT_LENGTH"] = str(len(body))  # one past the limit: Werkzeug says 413
            del environ["HTTP_TRANSFER_ENCODING"], environ["wsgi.input_terminated"]
        return self.wsgi_app(environ, start_response)


def _read_at_most(stream: Any, size: int) -> bytes:
    chunks, left = [], size
    while left > 0:
        chunk = stream.read(min(left, READ_SIZE))
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def init_app(app: Flask) -> None:
    app.wsgi_app = ChunkedBodyLimit(app.wsgi_app, app)  # type: ignore[method-assign]
