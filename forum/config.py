"""Configuration defaults. The app factory overlays FORUM_* environment variables on these.

Nothing here reads the environment at import time: `load_config` is called by `create_app`.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

DEFAULTS: dict[str, Any] = {
    "ENV": "development",
    "SITE_NAME": "Showboard",
    "DATABASE_URL": None,  # None means the SQLite file in the instance folder
    "SECRET_KEY": None,
    "REDIS_URL": None,
    "RATE_LIMITS": "on",
    "THREADS_PER_PAGE": 30,
    "POSTS_PER_PAGE": 20,
    "MAX_CONTENT_LENGTH": 1 * 1024 * 1024,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "REMEMBER_COOKIE_HTTPONLY": True,
    "REMEMBER_COOKIE_SAMESITE": "Lax",
    "WTF_CSRF_TIME_LIMIT": None,  # tokens live as long as the session; see docs/architecture.md
    "SQL_ECHO": False,
}

# Environment variables the app understands, with the type each is parsed as.
ENV_VARIABLES: dict[str, type] = {
    "FORUM_ENV": str,
    "FORUM_SITE_NAME": str,
    "FORUM_DATABASE_URL": str,
    "FORUM_SECRET_KEY": str,
    "FORUM_REDIS_URL": str,
    "FORUM_RATE_LIMITS": str,
    "FORUM_SQL_ECHO": bool,
}


class ConfigError(RuntimeError):
    """The configuration cannot work (for example production without a secret key)."""


def _parse(value: str, kind: type) -> Any:
    if kind is bool:
        return value.strip().lower() in {"1", "true", "yes", "on"}
    return value


def load_config(instance_path: Path, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    config = dict(DEFAULTS)
    for name, kind in ENV_VARIABLES.items():
        if name in os.environ:
            config[name.removeprefix("FORUM_")] = _parse(os.environ[name], kind)
    config.update(overrides or {})

    production = config["ENV"] == "production"
    if not config["DATABASE_URL"]:
        config["DATABASE_URL"] = f"sqlite:///{instance_path / 'showboard.sqlite3'}"
    if not config["SECRET_KEY"]:
        if production:
            raise ConfigError("FORUM_SECRET_KEY must be set when FORUM_ENV=production.")
        config["SECRET_KEY"] = _development_secret(instance_path)
    if production:
        config["SESSION_COOKIE_SECURE"] = True
        config["REMEMBER_COOKIE_SECURE"] = True
    config["RATE_LIMITS_ENABLED"] = str(config["RATE_LIMITS"]).lower() not in {"off", "0", "false"}
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
