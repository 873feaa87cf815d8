"""Checking the configuration before anything starts.

Every problem is one ConfigError whose message names the environment variable and fits on one
line: the entry points (forum/platform/startup.py) print it after "showboard: " and exit with code
2.
load_config runs these checks, so the web server, the worker, every CLI command and the tests'
create_app all refuse the same settings. Messages never repeat a password from a URL.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import SplitResult, urlsplit

from limits import parse_many
from redis.connection import parse_url as parse_redis_url
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

PREFIX = "FORUM_"
# The test suite's own variables (FORUM_TEST_DATABASE_URL, ...), read by tests/conftest.py.
TEST_PREFIX = "FORUM_TEST_"
CHOICES: dict[str, tuple[str, ...]] = {
    "ENV": ("development", "production"),
    "LOG_FORMAT": ("text", "json"),
}
TRUE = {"1", "true", "yes", "on"}
FALSE = {"0", "false", "no", "off"}
# Settings whose default is None ("decide from FORUM_ENV" or "decide from TESTING") but which
# are switches when set.
OPTIONAL_SWITCHES = {"REQUIRE_EMAIL_VERIFICATION", "JOBS_IMMEDIATE"}
REQUIRED_IN_PRODUCTION = {
    "SECRET_KEY": "a long random string",
    "PUBLIC_URL": "the site's address, like https://fans.example.org",
    "SMTP_URL": "the mail server, like smtp://user:pass@mail.example.org:587?starttls=true",
}


class ConfigError(RuntimeError):
    """The configuration cannot work. The message names the variable, in one line."""


def check_environment(environ: Mapping[str, str], known: Iterable[str]) -> None:
    """Refuse FORUM_* variables that are no setting: a typo would otherwise be ignored and the
    default used in its place (a development mail outbox in production, say)."""
    keys = list(known)
    for name in sorted(environ):
        if not name.startswith(PREFIX) or name.startswith(TEST_PREFIX):
            continue
        key = name[len(PREFIX) :]
        if key in keys:
            continue
        # Compared without the prefix, which every name shares and which would make any
        # short name look close to FORUM_ENV.
        match = difflib.get_close_matches(key, keys, n=1)
        hint = f"; did you mean {PREFIX}{match[0]}?" if match else " (README.md lists the settings)"
        raise ConfigError(f"{name} is not a setting{hint}")


def parse(key: str, raw: str, default: Any) -> Any:
    """An environment variable's text as the type of the setting's default."""
    if isinstance(default, bool) or (default is None and key in OPTIONAL_SWITCHES):
        return _switch(key, raw)
    if isinstance(default, int):
        try:
            return int(raw.strip())
        except ValueError:
            raise ConfigError(f"{PREFIX}{key} must be a whole number, not {_shown(raw)}") from None
    if default is None and not raw.strip():
        return None  # FORUM_SMTP_URL= (empty, as compose files write it) means unset
    return raw.strip()


def _switch(key: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value not in TRUE | FALSE:
        raise ConfigError(f"{PREFIX}{key} must be true or false, not {_shown(raw)}")
    return value in TRUE


def check(config: Mapping[str, Any], defaults: Mapping[str, Any]) -> None:
    """Raise ConfigError for the first setting that cannot work."""
    for key, choices in CHOICES.items():
        if config.get(key) not in choices:
            raise ConfigError(
                f"{PREFIX}{key} must be {' or '.join(choices)}, not {_shown(str(config.get(key)))}"
            )
    for key, default in defaults.items():
        value = config.get(key)
        counts = isinstance(default, int) and not isinstance(default, bool)
        if counts and isinstance(value, int) and value < 0:
            raise ConfigError(f"{PREFIX}{key} must be 0 or more, not {value}")
        if key.startswith("LIMIT_") and isinstance(value, str):
            _check_rate(key, value)
    if str(config.get("RATE_LIMITS", "on")).strip().lower() not in TRUE | FALSE:
        raise ConfigError(
            f"{PREFIX}RATE_LIMITS must be on or off, not {_shown(str(config['RATE_LIMITS']))}"
        )
    for key, check_url in (
        ("DATABASE_URL", _check_database_url),
        ("REDIS_URL", _check_redis_url),
        ("SMTP_URL", _check_smtp_url),
        ("PUBLIC_URL", _check_public_url),
    ):
        if config.get(key):
            check_url(str(config[key]))
    if config["ENV"] == "production":
        for key, example in REQUIRED_IN_PRODUCTION.items():
            if not config.get(key):
                raise ConfigError(
                    f"{PREFIX}{key} must be set when FORUM_ENV=production ({example})"
                )


def _check_rate(key: str, value: str) -> None:
    try:
        parse_many(value)
    except ValueError:
        raise ConfigError(
            f"{PREFIX}{key} must be a rate like '5 per 15 minutes', not {_shown(value)}"
        ) from None


def _check_database_url(value: str) -> None:
    wanted = "a postgresql+psycopg://user:pass@host/dbname or sqlite:///path URL"
    try:
        url = make_url(value)
        backend = url.get_backend_name()
        dialect = url.get_dialect() if backend in {"postgresql", "sqlite"} else None
    except (ArgumentError, NoSuchModuleError, ValueError):  # ValueError: a port that is no number
        dialect = None
    if dialect is None:
        raise ConfigError(f"FORUM_DATABASE_URL must be {wanted}, not {_shown(value)}")
    try:
        dialect.import_dbapi()
    except ImportError:
        raise ConfigError(
            f"FORUM_DATABASE_URL names a database driver that is not installed "
            f"({url.drivername}); use {wanted}"
        ) from None


def _check_redis_url(value: str) -> None:
    try:
        parse_redis_url(value)
    except ValueError:
        raise ConfigError(
            f"FORUM_REDIS_URL must be a redis://host:6379/0, rediss:// or "
            f"unix:// URL, not {_shown(value)}"
        ) from None


def _check_smtp_url(value: str) -> None:
    parts = _split(value)
    if parts is None or parts.scheme not in {"smtp", "smtps"} or not parts.hostname:
        raise ConfigError(
            f"FORUM_SMTP_URL must be an smtp://host:port or smtps://host:port "
            f"URL, not {_shown(value)}"
        )


def _check_public_url(value: str) -> None:
    parts = _split(value)
    if (
        parts is None
        or parts.scheme not in {"http", "https"}
        or not parts.hostname
        or parts.username is not None
        or parts.query
        or parts.fragment
    ):
        raise ConfigError(
            f"FORUM_PUBLIC_URL must be an absolute http(s) URL like "
            f"https://fans.example.org, not {_shown(value)}"
        )


def _split(value: str) -> SplitResult | None:
    try:
        parts = urlsplit(value.strip())
        _ = parts.port  # raises ValueError for a port that is no number
    except ValueError:
        return None
    return parts


def mask_password(url: str) -> str:
    """scheme://user:secret@host -> scheme://user:***@host."""
    return re.sub(r"(://[^:/@\s]*):[^@/\s]*@", r"\1:***@", url)


def _shown(value: str) -> str:
    """The value quoted for a message: a URL's password masked, kept to one short line."""
    masked = mask_password(value).replace("\n", " ").replace("\r", " ")
    if len(masked) > 80:
        masked = masked[:77] + "..."
    return repr(masked)
