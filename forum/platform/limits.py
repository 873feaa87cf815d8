"""Rate limits (Flask-Limiter), kept in Redis when FORUM_REDIS_URL is set so they hold across
gunicorn workers and machines, in memory otherwise.

Without Redis every worker process counts on its own, so a limit of 5 is 5 per worker: two
workers let 10 through. Production needs Redis; `create_app` says so in the log when it runs
in production without it.

When Redis is set but unreachable, limits fall back to this process's memory (one warning,
from Flask-Limiter) and Redis is probed again with growing pauses of 1 to 32 s; the clients
fail within a fraction of a second (forum/platform/redisconn.py), so no request waits on a dead
Redis.

Each app gets its own Limiter, and the limited views are wrapped when the app is built: the
limits are settings (FORUM_LIMIT_*), and tests can run two apps on one Redis side by side.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask, Response, current_app, g, request, session
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import current_user

from forum.platform import redisconn
from forum.platform.text import identity_key, strip_control

log = logging.getLogger(__name__)


def by_ip() -> str:
    return f"ip:{get_remote_address()}"


def by_member_or_ip() -> str:
    if current_user.is_authenticated:
        return f"user:{current_user.id}"
    return by_ip()


def _identity(raw: str) -> str:
    """The name or address the way the forms clean it and accounts look it up: control and
    zero-width characters dropped, trimmed, NFKC, casefolded. 'vic\\u200btim' is 'victim'."""
    return identity_key(strip_control(raw).strip())


def by_login_name() -> str:
    return f"login:{_identity(request.form.get('username', ''))[:254]}"


def _address_field() -> str:
    # The register and reset forms call it `email`; the settings page prefixes its forms.
    form = request.form
    return form.get("email") or form.get("em-email") or ""


def by_target_address() -> str:
    """The address a mail will go to: the one typed in the form, or for a resent
    confirmation the member's own."""
    typed = _address_field()
    if not typed and current_user.is_authenticated:
        typed = current_user.email
    return f"mail:{_identity(typed)[:254]}"


def _failed(response: Response) -> bool:
    return response.status_code != 302


def _succeeded(response: Response) -> bool:
    return response.status_code == 302


def _always(_response: Response) -> bool:
    return True


def by_pending_login() -> str:
    """The account waiting for its second factor (forum/views/signin.py), else the member."""
    pending = session.get("pending_login")
    if isinstance(pending, dict) and "uid" in pending:
        return f"user:{pending['uid']}"
    return by_member_or_ip()


def _second_factor_failed(_response: Response) -> bool:
    # Set by the view: JSON ceremonies and re-shown forms fail without a telling status.
    return bool(g.get("second_factor_failed"))


def _not_a_preview() -> bool:
    return "preview" not in request.form


@dataclass(frozen=True)
class Rule:
    setting: str  # the config key holding the limit ("5 per hour")
    key: Callable[[], str]
    counts: Callable[[Response], bool] = _always  # which responses use up the limit
    exempt: Callable[[], bool] | None = None  # requests this rule ignores
    # Rules naming the same shared scope draw on one counter, whichever view they guard.
    shared: str | None = None
    # Forms are limited where they write; a read that costs real work (search) by its GETs.
    methods: tuple[str, ...] = ("POST",)


PREVIEWS = Rule("LIMIT_PREVIEWS", by_member_or_ip, exempt=_not_a_preview, shared="previews")
# Every mail to one address counts here, whichever form asked for it.
MAIL_TO_ADDRESS = Rule(
    "LIMIT_MAIL_PER_ADDRESS", by_target_address, _succeeded, shared="mail-per-address"
)

# Codes are 6 digits: only a few wrong guesses per account, wherever they are typed; the
# per-address rule stops one client guessing for many accounts at once.
# A search runs full-text queries, and the header box asks for suggestions as fans type:
# both draw on one counter per address, generous for a person, a wall for a scraper.
SEARCHES = Rule("LIMIT_SEARCH", by_ip, shared="search", methods=("GET",))

SECOND_FACTOR = [
    Rule(
        "LIMIT_SECOND_FACTOR",
        by_pending_login,
        _second_factor_failed,
        shared="second-factor-account",
    ),
    Rule("LIMIT_SECOND_FACTOR_IP", by_ip, _second_factor_failed, shared="second-factor-ip"),
]

RULES: dict[str, list[Rule]] = {
    # Only failed logins count, but once over the limit even the right password is refused.
    "accounts.login": [
        Rule("LIMIT_LOGIN_IP", by_ip, _failed),
        Rule("LIMIT_LOGIN_ACCOUNT", by_login_name, _failed),
    ],
    # Every attempt counts: an answer that differs between success and failure must not
    # become free to ask for.
    "accounts.register": [Rule("LIMIT_REGISTER", by_ip), MAIL_TO_ADDRESS],
    "accounts.reset_request": [Rule("LIMIT_PASSWORD_RESET", by_ip), MAIL_TO_ADDRESS],
    "accounts.resend_verification": [Rule("LIMIT_VERIFY_RESEND", by_member_or_ip), MAIL_TO_ADDRESS],
    "accounts.change_email": [
        Rule("LIMIT_EMAIL_CHANGE", by_member_or_ip, _succeeded),
        MAIL_TO_ADDRESS,
    ],
    "boards.new_thread": [Rule("LIMIT_THREADS", by_member_or_ip, _succeeded), PREVIEWS],
    "threads.reply": [Rule("LIMIT_REPLIES", by_member_or_ip, _succeeded), PREVIEWS],
    "threads.edit": [PREVIEWS],
    "reports.report": [Rule("LIMIT_REPORTS", by_member_or_ip, _succeeded)],
    # Previews render Markdown (CPU) without saving anything: every request counts, through
    # this endpoint or a form's preview button alike.
    "threads.preview": [Rule("LIMIT_PREVIEWS", by_member_or_ip, shared="previews")],
    "signin.second_factor": SECOND_FACTOR,
    "signin.second_factor_passkey": SECOND_FACTOR,
    "signin.passkey_login": SECOND_FACTOR,
    "signin.totp_enable": SECOND_FACTOR,
    "search.search": [SEARCHES],
    "search.suggest": [SEARCHES],
    # The @mention autocomplete (forum/views/quoting.py): asked as members type, like search's.
    "quoting.suggest": [Rule("LIMIT_SEARCH", by_member_or_ip, methods=("GET",))],
}


def init_app(app: Flask) -> None:
    enabled = app.config["RATE_LIMITS_ENABLED"]
    if not enabled:
        log.warning(
            "FORUM_RATE_LIMITS=off: rate limits, new-member limits and flood control "
            "are all switched off. Never run a public forum like this."
        )
    redis_url = app.config["REDIS_URL"]
    if enabled and not redis_url and app.config["ENV"] == "production":
        log.warning(
            "FORUM_REDIS_URL is not set: each worker process keeps its own rate-limit "
            "counts, so with N workers every limit is N times as generous. Production "
            "needs Redis."
        )
    limiter = Limiter(
        key_func=by_ip,
        storage_uri=redis_url or "memory://",
        storage_options=redisconn.options() if redis_url else {},
        enabled=enabled,
        key_prefix="showboard",
        strategy="moving-window",
        # Redis down: count in this process until it is back, instead of answering 500.
        in_memory_fallback_enabled=True,
        # A deduction that fails after the view ran (Redis gone mid-request) is logged and
        # dropped; the fallback takes over from the next request.
        swallow_errors=True,
    )
    limiter.init_app(app)
    app.extensions["forum.limiter"] = limiter
    for endpoint, rules in RULES.items():
        # Flask-Limiter's decorators are typed as possibly returning a coroutine function, which
        # Flask's own view type does not take back; these views are plain functions throughout.
        view: Callable[..., Any] | None = app.view_functions.get(endpoint)
        if view is None:
            continue
        for rule in rules:
            if rule.shared:
                view = limiter.shared_limit(
                    _setting(rule.setting),
                    scope=rule.shared,
                    key_func=rule.key,
                    methods=list(rule.methods),
                    deduct_when=rule.counts,
                    exempt_when=rule.exempt,
                )(view)
            else:
                view = limiter.limit(
                    _setting(rule.setting),
                    key_func=rule.key,
                    methods=list(rule.methods),
                    deduct_when=rule.counts,
                    exempt_when=rule.exempt,
                    scope=f"{endpoint}:{rule.setting}",
                )(view)
        app.view_functions[endpoint] = view


def _setting(name: str) -> Callable[[], str]:
    return lambda: current_app.config[name]
