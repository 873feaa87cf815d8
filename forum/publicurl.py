"""The public address: trusted proxies (ProxyFix), the Host check, absolute links.

Every absolute link (mail, feeds, canonical URLs) is built from FORUM_PUBLIC_URL, never from
the request's Host header, which a client controls."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Flask, current_app
from werkzeug.routing import MapAdapter

# What `make run` serves; production must name its own address (forum/config.py checks it).
DEVELOPMENT_PUBLIC_URL = "http://127.0.0.1:5000"


def init_app(app: Flask) -> None:
    if not app.config.get("PUBLIC_URL"):
        app.config["PUBLIC_URL"] = DEVELOPMENT_PUBLIC_URL


def _adapter() -> MapAdapter:
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    adapter = app.extensions.get("forum.public_urls")
    if adapter is None:
        parts = urlsplit(app.config["PUBLIC_URL"])
        adapter = app.url_map.bind(parts.netloc, script_name=parts.path.rstrip("/") or "/",
                                   url_scheme=parts.scheme)
        app.extensions["forum.public_urls"] = adapter
    return adapter


def external_url(endpoint: str, **values: Any) -> str:
    """An absolute URL on the public address, the same whatever request (or job) asks."""
    return _adapter().build(endpoint, values, force_external=True)
