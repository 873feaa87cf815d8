"""Site settings an admin changes from /admin/settings: name, tagline, whether registration is
open, and the community rules (Markdown).

Every page may want them (the header shows the name, /register the rules), so they are cached
per process for CACHE_SECONDS and dropped from this process's cache when an admin saves. Other
worker processes pick a change up within CACHE_SECONDS. The cache lives on the app, not the
module, so each app (and each test's app) starts empty.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import select
from sqlalchemy.orm import Session

from forum import markup, moderation
from forum.models import SiteSetting, User

CACHE_SECONDS = 10.0
_CACHE_KEY = "forum.site_settings"

# The SiteSetting keys this module reads and writes.
KEYS = ("site_name", "tagline", "registration_open", "rules_markdown")


@dataclass(frozen=True)
class SiteSettings:
    site_name: str
    tagline: str
    registration_open: bool
    rules_markdown: str
    # Rendered when the settings are loaded (at most once per CACHE_SECONDS per process), so a
    # change to the Markdown rules never leaves stale stored HTML behind.
    rules_html: str


def get_settings(session: Session) -> SiteSettings:
    """The current settings, from this process's cache when it is fresh."""
    now = time.monotonic()
    cached: tuple[float, SiteSettings] | None = _app_extensions().get(_CACHE_KEY)
    if cached is not None and cached[0] > now:
        return cached[1]
    value = load(session)
    # One tuple swapped in whole, so a request thread never sees half an update.
    _app_extensions()[_CACHE_KEY] = (now + CACHE_SECONDS, value)
    return value


def registration_open(session: Session) -> bool:
    return get_settings(session).registration_open


def save(session: Session, actor: User, site_name: str, tagline: str, registration_is_open: bool,
         rules_markdown: str) -> None:
    """Store new settings (one mod-log row). The caller commits, then calls forget_cached()."""
    moderation.save_settings(session, actor, {
        "site_name": site_name,
        "tagline": tagline,
        "registration_open": "1" if registration_is_open else "0",
        "rules_markdown": rules_markdown,
    })


def forget_cached() -> None:
    """Drop this process's cached settings; call after committing a change."""
    _app_extensions().pop(_CACHE_KEY, None)


def load(session: Session) -> SiteSettings:
    """The stored settings, past the cache (the admin form shows these)."""
    stored = {key: value for key, value in session.execute(
        select(SiteSetting.key, SiteSetting.value).where(SiteSetting.key.in_(KEYS)))}
    rules = stored.get("rules_markdown", "")
    return SiteSettings(
        site_name=stored.get("site_name") or _default_site_name(),
        tagline=stored.get("tagline", ""),
        registration_open=stored.get("registration_open", "1") != "0",
        rules_markdown=rules,
        rules_html=markup.render(rules) if rules.strip() else "",
    )


def _default_site_name() -> str:
    # Until an admin names the site, FORUM_SITE_NAME (the config default) is its name.
    return current_app.config["SITE_NAME"] if has_app_context() else "Showboard"


def _app_extensions() -> dict[str, Any]:
    # Outside an app (a script), a throwaway dict: nothing is cached.
    return current_app.extensions if has_app_context() else {}
