"""Site settings an admin changes from /admin/settings: name, tagline, whether registration is
open, and the community rules (Markdown).

Every page may want them (the header shows the name, /register the rules), so each process
caches them, together with the site-wide content version (forum/pagecache.py) they were read
under, in the same statement. Saving settings bumps that version, so:

- a page for the anonymous cache has just read the current version; cached settings older than
  it are read again first, so the next such page on every worker and every machine shows the
  change, and no page is ever cached under the new version with the old settings;
- every other page uses cached settings for at most CACHE_SECONDS.

The cache lives on the app, not the module, so each app (and each test's app) starts empty.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from flask import current_app, has_app_context, has_request_context
from sqlalchemy import select
from sqlalchemy.orm import Session

from forum import markup, moderation, pagecache
from forum.models import CacheState, SiteSetting, User

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
    """The current settings, from this process's cache when it is fresh: younger than
    CACHE_SECONDS, and read under a content version at least as new as the one this request
    has seen."""
    now = time.monotonic()
    cached: tuple[float, int, SiteSettings] | None = _app_extensions().get(_CACHE_KEY)
    seen = pagecache.site_version_seen() if has_request_context() else None
    if cached is not None and cached[0] > now and (seen is None or cached[1] >= seen):
        return cached[2]
    version, value = _load_with_version(session)
    # One tuple swapped in whole, so a request thread never sees half an update.
    _app_extensions()[_CACHE_KEY] = (now + CACHE_SECONDS, version, value)
    return value


def registration_open(session: Session) -> bool:
    return get_settings(session).registration_open


def save(session: Session, actor: User, site_name: str, tagline: str, registration_is_open: bool,
         rules_markdown: str) -> None:
    """Store new settings (one mod-log row). The caller commits, then calls forget_cached().

    Bumps the site-wide content version itself, whatever the view declares: that is what
    makes every cached page, and every worker's cached settings, give way to the new ones."""
    moderation.save_settings(session, actor, {
        "site_name": site_name,
        "tagline": tagline,
        "registration_open": "1" if registration_is_open else "0",
        "rules_markdown": rules_markdown,
    })
    pagecache.bump_site_version(session)


def forget_cached() -> None:
    """Drop this process's cached settings; call after committing a change."""
    _app_extensions().pop(_CACHE_KEY, None)


def load(session: Session) -> SiteSettings:
    """The stored settings, past the cache (the admin form shows these)."""
    return _load_with_version(session)[1]


def _load_with_version(session: Session) -> tuple[int, SiteSettings]:
    """The content version and the stored settings, read in one statement (cache_state has
    one row; the join adds the settings stored so far)."""
    rows = session.execute(
        select(CacheState.version, SiteSetting.key, SiteSetting.value)
        .select_from(CacheState)
        .outerjoin(SiteSetting, SiteSetting.key.in_(KEYS))
    ).all()
    version = max((row[0] for row in rows), default=0)
    return version, _from_stored({key: value for _v, key, value in rows if key is not None})


def _from_stored(stored: dict[str, str]) -> SiteSettings:
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
