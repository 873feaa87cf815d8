"""The public address: trusted proxies (ProxyFix), the Host check, absolute links.

Every absolute link (mail, feeds, canonical URLs) is built from FORUM_PUBLIC_URL, never from
the request's Host header, which a client controls. In production a request for any other host
is refused, so no page is ever served under a name an attacker picked; health checkers, which
call by IP address, are let through.

X-Forwarded-* headers are believed only from the FORUM_TRUSTED_PROXIES proxies in front
(werkzeug's ProxyFix); with 0 they are ignored, since anyone can send them.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, request
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import MapAdapter

# What `make run` serves; production must name its own address (forum/platform/configcheck.py
# checks it).
DEVELOPMENT_PUBLIC_URL = "http://127.0.0.1:5000"
# Load balancers and orchestrators probe these by IP address, without the site's host name.
ANY_HOST_PATHS = frozenset({"/healthz", "/readyz"})


def init_app(app: Flask) -> None:
    if not app.config.get("PUBLIC_URL"):
        app.config["PUBLIC_URL"] = DEVELOPMENT_PUBLIC_URL
    if app.config["ENV"] == "production":
        app.before_request(_refuse_other_hosts)


def trust_proxies(app: Flask) -> None:
    """Believe X-Forwarded-For/-Proto/-Host/-Port/-Prefix from the configured number of
    proxies. Called last in create_app, so the proxy fix wraps every other WSGI middleware and
    everything (rate limits, the request log, sessions, the Host check) sees the client."""
    hops = app.config["TRUSTED_PROXIES"]
    if hops:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops, x_prefix=hops
        )


def public_host(app: Flask) -> str:
    return (urlsplit(app.config["PUBLIC_URL"]).hostname or "").lower()


def _refuse_other_hosts() -> Response | None:
    if request.path in ANY_HOST_PATHS:
        return None
    # The port is left out: behind a proxy the app may see the public name with its own port.
    asked = (urlsplit(f"//{request.host}").hostname or "").rstrip(".")
    if asked == public_host(current_app):
        return None
    return Response(
        f"Bad Request: this site answers at {current_app.config['PUBLIC_URL']}\n",
        status=400,
        mimetype="text/plain",
    )


def _adapter() -> MapAdapter:
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    adapter: MapAdapter | None = app.extensions.get("forum.public_urls")
    if adapter is None:
        parts = urlsplit(app.config["PUBLIC_URL"])
        adapter = app.url_map.bind(
            parts.netloc, script_name=parts.path.rstrip("/") or "/", url_scheme=parts.scheme
        )
        app.extensions["forum.public_urls"] = adapter
    return adapter


def external_url(endpoint: str, **values: Any) -> str:
    """An absolute URL on the public address, the same whatever request (or job) asks."""
    return _adapter().build(endpoint, values, force_external=True)
