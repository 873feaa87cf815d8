"""Site settings an admin changes from /admin/settings: name, tagline, whether registration is
open, and the community rules (Markdown).

Every page may want them (the header shows the name, /register the rules), so each process
caches them, together with the site-wide content version (forum/platform/pagecache.py) they were
read
under, in the same statement. Saving settings bumps that version, so:

- a page for the anonymous cache has just read the current version; cached settings older than
  it are read again first, so the next such page on every worker and every machine shows the
  change, and no page is ever cached under the new version with the old settings;
- every other page uses cached settings for at most CACHE_SECONDS; with Redis, the saving
  request also publishes the version there after its commit (forget_cached), and every
  worker checks it before using its cache, so those pages show the change on the next
  request too. (While Redis is down, CACHE_SECONDS again.)

The cache lives on the app, not the module, so each app (and each test's app) starts empty.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Any

from flask import current_app, g, has_app_context, has_request_context
from sqlalchemy import select
from sqlalchemy.orm import Session

from forum.access.spoilers import EMPTY_CATALOGUE, Catalogue, load_catalogue
from forum.discussion import markup
from forum.models import CacheState, SiteSetting, User
from forum.platform import freshness, pagecache, redisconn
from forum.staff import moderation

CACHE_SECONDS = 10.0
_CACHE_KEY = "forum.site_settings"
# A published version only matters to caches younger than CACHE_SECONDS; keep it a while.
_PUBLISHED_SECONDS = 3600

# The SiteSetting keys this module reads and writes.
KEYS = ("site_name", "tagline", "registration_open", "rules_markdown", "require_second_factor")


@dataclass(frozen=True)
class SiteSettings:
    site_name: str
    tagline: str
    registration_open: bool
    rules_markdown: str
    # Rendered when the settings are loaded (at most once per CACHE_SECONDS per process), so a
    # change to the Markdown rules never leaves stale stored HTML behind.
    rules_html: str
    # Moderators and admins must sign in with a second factor to use their areas.
    require_second_factor: bool = False
    # Not a setting, but read and kept the same way: every board's episodes and air dates,
    # for the spoiler rules (forum/access/spoilers.py). Writes to episodes are site-wide.
    episodes: Catalogue = EMPTY_CATALOGUE


@dataclass(frozen=True)
class _Cached:
    expires: float  # time.monotonic()
    namespace: str  # the database's page-cache namespace: Redis keys are per database
    version: int  # the content version the settings were read under
    settings: SiteSettings


def get_settings(session: Session) -> SiteSettings:
    """The current settings, from this process's cache when it is fresh: younger than
    CACHE_SECONDS, and read under a content version at least as new as the one this request
    has seen and the one the last save published in Redis."""
    cached: _Cached | None = _app_extensions().get(_CACHE_KEY)
    if cached is not None and _fresh(cached):
        return cached.settings
    namespace, version, value = _load_with_version(session)
    # One object swapped in whole, so a request thread never sees half an update.
    _app_extensions()[_CACHE_KEY] = _Cached(
        time.monotonic() + CACHE_SECONDS, namespace, version, value
    )
    return value


def _fresh(cached: _Cached) -> bool:
    if cached.expires <= time.monotonic():
        return False
    if not has_request_context():
        return True
    seen = pagecache.site_version_seen()
    if seen is not None:  # the page cache has just read the version: nothing is newer
        return cached.version >= seen
    link = _link()
    if link is None:
        return True
    published = link.call(lambda r: r.get(_redis_key(cached.namespace)), None)
    return published is None or cached.version >= int(published)


def _link() -> redisconn.Link | None:
    """The app's Redis link. Looked up here first because redisconn.link() builds a Link (a
    client and its connection pool) to pass to setdefault on every call, even when the app
    has one: 0.3 ms of CPU, on every page that checks the settings version."""
    made: redisconn.Link | None = current_app.extensions.get("forum.redis")
    return made if made is not None else redisconn.link(current_app)


def _redis_key(namespace: str) -> str:
    return f"showboard:settings-version:{namespace}"


def registration_open(session: Session) -> bool:
    return get_settings(session).registration_open


def save(
    session: Session,
    actor: User,
    site_name: str,
    tagline: str,
    registration_is_open: bool,
    rules_markdown: str,
    require_second_factor: bool | None = None,
) -> None:
    """Store new settings (one mod-log row). The caller commits, then calls forget_cached().

    Bumps the site-wide content version itself, whatever the view declares: that is what
    makes every cached page, and every worker's cached settings, give way to the new ones."""
    values = {
        "site_name": site_name,
        "tagline": tagline,
        "registration_open": "1" if registration_is_open else "0",
        "rules_markdown": rules_markdown,
    }
    if require_second_factor is not None:  # None: left as it is
        values["require_second_factor"] = "1" if require_second_factor else "0"
    moderation.save_settings(session, actor, values)
    freshness.changed(session, site=True)
    # Only this transaction can have written this version, so settings read under it or
    # later are the new ones: that is the number to publish once it commits.
    if has_request_context():
        g.saved_settings_version = session.execute(
            select(CacheState.namespace, CacheState.version)
        ).one()


def forget_cached() -> None:
    """Drop this process's cached settings; call after committing a change. With Redis, tell
    the other workers too."""
    _app_extensions().pop(_CACHE_KEY, None)
    saved = g.pop("saved_settings_version", None) if has_request_context() else None
    link = _link() if has_app_context() else None
    if saved is not None and link is not None:
        namespace, version = saved
        # Two saves racing could publish out of order; CACHE_SECONDS still bounds that.
        link.call(lambda r: r.set(_redis_key(namespace), version, ex=_PUBLISHED_SECONDS), None)


def load(session: Session) -> SiteSettings:
    """The stored settings, past the cache (the admin form shows these)."""
    return _load_with_version(session)[2]


def _load_with_version(session: Session) -> tuple[str, int, SiteSettings]:
    """The page-cache namespace, the content version and the stored settings, read in one
    statement (cache_state has one row; the join adds the settings stored so far)."""
    rows = session.execute(
        select(CacheState.namespace, CacheState.version, SiteSetting.key, SiteSetting.value)
        .select_from(CacheState)
        .outerjoin(SiteSetting, SiteSetting.key.in_(KEYS))
    ).all()
    namespace, version = (rows[0][0], rows[0][1]) if rows else ("", 0)
    stored = {key: value for _n, _v, key, value in rows if key is not None}
    return namespace, version, replace(_from_stored(stored), episodes=load_catalogue(session))


def _from_stored(stored: dict[str, str]) -> SiteSettings:
    rules = stored.get("rules_markdown", "")
    return SiteSettings(
        site_name=stored.get("site_name") or _default_site_name(),
        tagline=stored.get("tagline", ""),
        registration_open=stored.get("registration_open", "1") != "0",
        rules_markdown=rules,
        rules_html=markup.render(rules).html if rules.strip() else "",
        require_second_factor=stored.get("require_second_factor", "0") == "1",
    )


def _default_site_name() -> str:
    # Until an admin names the site, FORUM_SITE_NAME (the config default) is its name.
    return current_app.config["SITE_NAME"] if has_app_context() else "Showboard"


def _app_extensions() -> dict[str, Any]:
    # Outside an app (a script), a throwaway dict: nothing is cached.
    return current_app.extensions if has_app_context() else {}
