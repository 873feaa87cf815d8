"""Jinja filters and globals. Stored post HTML reaches templates only through `as_markup`,
which lives in forum/discussion/markup.py; nothing here marks user text safe."""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path
from typing import Any

from flask import Flask, request, url_for

from forum.access import permissions
from forum.access.viewer import current_viewer
from forum.db import db_session
from forum.discussion import markup
from forum.discussion.presenting import iso, long_date, time_ago
from forum.platform.settings import get_settings
from forum.staff.navigation import staff_navigation


def init_app(app: Flask) -> None:
    static_root = Path(app.static_folder or "static")

    @cache
    def fingerprint(filename: str) -> str:
        return hashlib.sha256((static_root / filename).read_bytes()).hexdigest()[:12]

    @cache
    def asset_under(script_root: str, filename: str) -> str:
        return url_for("static", filename=filename, v=fingerprint(filename))

    def asset(filename: str) -> str:
        """A static URL that changes when the file does, so it can be cached for a year."""
        # Every page prints three: url_for once per file (and script root), not per page.
        return asset_under(request._get_current_object().root_path, filename)  # type: ignore[attr-defined]

    def static_max_age(_filename: str | None) -> int | None:
        # Fingerprinted URLs never change content; plain ones revalidate.
        return 31_536_000 if request.args.get("v") else None

    app.get_send_file_max_age = static_max_age  # type: ignore[method-assign, assignment]

    app.jinja_env.filters.update(
        time_ago=time_ago, iso=iso, long_date=long_date, html=markup.as_markup
    )
    app.jinja_env.globals.update(can=permissions, asset=asset)
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    @app.context_processor
    def site() -> dict[str, Any]:
        session = db_session()
        settings = get_settings(session)
        viewer = current_viewer()
        found = {
            "site_name": settings.site_name,
            "site_tagline": settings.tagline,
            "viewer": viewer,
            "staff_nav": staff_navigation(session, viewer),
            "request": request._get_current_object(),  # type: ignore[attr-defined]
        }
        if viewer.user is not None:
            # The member object itself rather than Flask-Login's proxy (this processor runs
            # after Flask-Login's, so its value wins): templates read current_user a dozen
            # times a page, and each read through a LocalProxy costs ten times a plain one.
            # A visitor keeps the proxy, so their page reads no session it has no need of.
            found["current_user"] = viewer.user
        return found
