"""Configuration defaults. The app factory overlays FORUM_* environment variables on these:
any key below can be set as FORUM_<KEY> (FORUM_DATABASE_URL, FORUM_LIMIT_REPLIES, ...), parsed
as the default's type. Nothing reads the environment at import time."""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path
from typing import Any

from forum.platform.configcheck import ConfigError, check, check_environment, parse

__all__ = ["DEFAULTS", "FIXED", "ConfigError", "load_config"]

log = logging.getLogger(__name__)

DEFAULTS: dict[str, Any] = {
    "ENV": "development",
    "SITE_NAME": "Showboard",
    "DATABASE_URL": None,  # None: the SQLite file in the instance folder
    "SECRET_KEY": None,
    "REDIS_URL": None,
    # Mail: unset SMTP_URL means development mail, printed and saved to instance/outbox/.
    "SMTP_URL": None,
    "SMTP_TIMEOUT": 10,
    "MAIL_FROM": "Showboard <no-reply@showboard.local>",
    # None: required in production, not in development.
    "REQUIRE_EMAIL_VERIFICATION": None,
    # Abuse resistance. RATE_LIMITS=off switches off all of it (for load tests).
    "RATE_LIMITS": "on",
    "LIMIT_LOGIN_IP": "20 per 15 minutes",
    "LIMIT_LOGIN_ACCOUNT": "5 per 15 minutes",
    "LIMIT_REGISTER": "5 per hour",
    "LIMIT_PASSWORD_RESET": "5 per hour",
    "LIMIT_THREADS": "10 per hour",
    "LIMIT_REPLIES": "30 per 10 minutes",
    "LIMIT_REPORTS": "20 per hour",
    "LIMIT_PREVIEWS": "60 per minute",
    "LIMIT_SEARCH": "120 per minute",
    "NEW_MEMBER_HOURS": 24,
    "NEW_MEMBER_MAX_THREADS": 3,
    "NEW_MEMBER_MAX_LINKS": 2,
    "FLOOD_WINDOW_SECONDS": 300,
    # Argon2id cost: the library's recommended defaults (3 passes over 64 MiB).
    "ARGON2_TIME_COST": 3,
    "ARGON2_MEMORY_KIB": 65536,
    "THREADS_PER_PAGE": 30,
    "POSTS_PER_PAGE": 20,
    "MAX_CONTENT_LENGTH": 1024 * 1024,
    "SQL_ECHO": False,
    # Operations (deploy guide: docs/deploy.md).
    # The site's public address (https://fans.example.org); every absolute link is built from
    # it, never from the request. Required in production.
    "PUBLIC_URL": None,
    # How many reverse proxies stand in front; 0 ignores X-Forwarded-* headers.
    "TRUSTED_PROXIES": 0,
    # How long the web server, the worker and CLI commands wait for an unreachable database
    # at start (retrying every 2 s) before giving up with exit code 2.
    "STARTUP_WAIT_SECONDS": 60,
    "LOG_FORMAT": "text",  # text | json
    # The job queue's SQLite file when FORUM_REDIS_URL is unset (None: instance/jobs.sqlite3).
    "JOBS_PATH": None,
    # Seconds before a failed mail is tried again (then doubled each time); 0: the default 240.
    "MAIL_RETRY_SECONDS": 0,
    # The queue's name (its Redis keys): sites sharing one Redis keep separate queues.
    "JOBS_NAME": "showboard",
    # Seconds a notification waits before it is mailed, so a member reading along in the app
    # (which marks it read) gets no mail for it (forum/conversation/notification_mail.py).
    "NOTIFICATION_MAIL_DELAY_SECONDS": 120,
    # Run jobs inside the request instead of queueing them. None: on under TESTING only.
    "JOBS_IMMEDIATE": None,
    # Mail bombing: confirmation resends and email changes per member, and every mail the
    # site sends to one address (sign-up, resend, change, reset) whoever asks for it.
    "LIMIT_VERIFY_RESEND": "3 per hour",
    "LIMIT_EMAIL_CHANGE": "5 per hour",
    "LIMIT_MAIL_PER_ADDRESS": "5 per hour",
    # The in-process page cache's size per worker (without Redis), in bytes of stored pages.
    "PAGE_CACHE_MAX_BYTES": 64 * 1024 * 1024,
    # Off: every anonymous page is rendered, never looked up or stored (benchmarks of a miss,
    # debugging a page); responses still say X-Cache: miss (forum/platform/pagecache.py).
    "PAGE_CACHE": True,
    # Login sessions end after this many days without a visit, and this many days after the
    # password was typed, however often they are used (forum/accounts/auth.py).
    "SESSION_IDLE_DAYS": 30,
    "SESSION_MAX_DAYS": 365,
    # Wrong second-factor codes or passkey answers per account, and per client address.
    "LIMIT_SECOND_FACTOR": "5 per 15 minutes",
    "LIMIT_SECOND_FACTOR_IP": "20 per 15 minutes",
    # Episodes that aired in the last this many days count as unseen for visitors (and members
    # who haven't set their progress on the show): their spoilers stay hidden.
    "SPOILER_GRACE_DAYS": 7,
}

# Flask settings that are not meant to be changed per deployment.
FIXED: dict[str, Any] = {
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "REMEMBER_COOKIE_HTTPONLY": True,
    "REMEMBER_COOKIE_SAMESITE": "Lax",
    # CSRF tokens live as long as the session; an expired form is handed back, not lost.
    "WTF_CSRF_TIME_LIMIT": None,
}


def load_config(instance_path: Path, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Defaults, then FORUM_* variables, then `overrides` (tests), checked together: a
    ConfigError names the first variable that cannot work (forum/platform/configcheck.py)."""
    check_environment(os.environ, DEFAULTS)
    config = {**DEFAULTS, **FIXED}
    for name, default in DEFAULTS.items():
        raw = os.environ.get(f"FORUM_{name}")
        if raw is not None:
            config[name] = parse(name, raw, default)
    for name, value in (overrides or {}).items():
        # Tests may write settings as the environment would ("3", "off").
        is_text = isinstance(value, str) and name in DEFAULTS
        config[name] = parse(name, value, DEFAULTS[name]) if is_text else value
    check(config, DEFAULTS)

    production = config["ENV"] == "production"
    if not config["DATABASE_URL"]:
        config["DATABASE_URL"] = f"sqlite:///{instance_path / 'showboard.sqlite3'}"
    if not config["SECRET_KEY"]:
        config["SECRET_KEY"] = _development_secret(instance_path)  # production has one (check)
    if config["REQUIRE_EMAIL_VERIFICATION"] is None:
        config["REQUIRE_EMAIL_VERIFICATION"] = production
    if production:
        config["SESSION_COOKIE_SECURE"] = True
        config["REMEMBER_COOKIE_SECURE"] = True
    enabled = str(config["RATE_LIMITS"]).strip().lower() not in {"off", "0", "false", "no"}
    config["RATE_LIMITS_ENABLED"] = enabled
    config["RATELIMIT_ENABLED"] = enabled  # Flask-Limiter's own switch
    # A refusal says when to come back (Retry-After), for people's browsers and polite bots.
    config["RATELIMIT_HEADERS_ENABLED"] = True
    return config


def _development_secret(instance_path: Path) -> str:
    """Generate a key once and keep it, so development sessions survive restarts."""
    key_file = instance_path / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key
