"""The public address: trusted proxies (ProxyFix), the Host check, absolute links."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Placeholder until this module is built."""
