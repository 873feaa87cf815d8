"""Did this POST come from one of this site's own pages?

The CSRF token already refuses forged forms; this answers the next question, asked when a form
is refused: may the refusal page hand the typed text back in a fresh form? Only to a form sent
from this site. Handing a cross-site request's text back, with a valid token, on this site's
own page, turns the refusal into a one-click forgery: the victim sees their own forum asking
them to "send it again", and one click posts the attacker's words as them.

The browser says where a form came from in three headers, read in this order:

1. ``Sec-Fetch-Site`` (Chrome 76+, Firefox 90+, Safari 16.4+): only ``same-origin`` counts;
   ``same-site`` (a sibling subdomain) does not.
2. ``Origin``: browsers send it on every POST (Firefox since 70, Chrome and Safari for years
   before); a page that hides its address sends ``Origin: null``, which is not ours.
3. ``Referer``: our pages send it on same-origin requests (Referrer-Policy: same-origin).

A request with none of them is treated as not same-origin. A browser new enough to have
sent none of them on a form POST does not exist: only a very old one whose Referer the
attacker's page suppressed, or a script. Such a sender loses nothing it can't see: the
browser still has the text (the back button, and static/js/app.js keeps drafts).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, request


def _origin(url: str) -> str | None:
    parts = urlsplit(url.strip())
    if not parts.scheme or not parts.hostname:
        return None
    port = parts.port
    default = {"http": 80, "https": 443}.get(parts.scheme.lower())
    host = parts.hostname.lower() + (f":{port}" if port and port != default else "")
    return f"{parts.scheme.lower()}://{host}"


def own_origins() -> set[str]:
    """The origin this request was addressed to (after the trusted proxies, see publicurl)
    and the configured public address."""
    origins = {_origin(request.host_url), _origin(current_app.config.get("PUBLIC_URL") or "")}
    return {origin for origin in origins if origin}


def is_same_origin() -> bool:
    """True only when the browser said the request came from this site."""
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site is not None:
        return fetch_site.strip().lower() == "same-origin"
    origin = request.headers.get("Origin")
    if origin is not None:
        return _origin(origin) in own_origins()
    referer = request.headers.get("Referer")
    if referer:
        return _origin(referer) in own_origins()
    return False


def path_on_this_site(url: str | None) -> str | None:
    """The path (and query) of `url` when it points at this site, else None."""
    if not url or _origin(url) not in own_origins():
        return None
    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
