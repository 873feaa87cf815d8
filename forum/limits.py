"""Rate limits (Flask-Limiter), kept in Redis when FORUM_REDIS_URL is set so they hold across
gunicorn workers and machines, in memory otherwise.

Each app gets its own Limiter, and the limited views are wrapped when the app is built: the
limits are settings (FORUM_LIMIT_*), and tests can run two apps on one Redis side by side.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from flask import Flask, Response, current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import current_user

from forum.text import identity_key

log = logging.getLogger(__name__)


def by_ip() -> str:
    return f"ip:{get_remote_address()}"


def by_member_or_ip() -> str:
    if current_user.is_authenticated:
        return f"user:{current_user.id}"
    return by_ip()


def by_login_name() -> str:
    return f"login:{identity_key(request.form.get('username', ''))[:60]}"


def _failed(response: Response) -> bool:
    return response.status_code != 302


def _succeeded(response: Response) -> bool:
    return response.status_code == 302


# endpoint -> [(setting, key function, which responses count)]
RULES: dict[str, list[tuple[str, Callable[[], str], Callable[[Response], bool]]]] = {
    # Only failed logins count, but once over the limit even the right password is refused.
    "accounts.login": [("LIMIT_LOGIN_IP", by_ip, _failed),
                       ("LIMIT_LOGIN_ACCOUNT", by_login_name, _failed)],
    "accounts.register": [("LIMIT_REGISTER", by_ip, _succeeded)],
    "accounts.reset_request": [("LIMIT_PASSWORD_RESET", by_ip, lambda _r: True)],
    "boards.new_thread": [("LIMIT_THREADS", by_member_or_ip, _succeeded)],
    "threads.reply": [("LIMIT_REPLIES", by_member_or_ip, _succeeded)],
    "reports.report": [("LIMIT_REPORTS", by_member_or_ip, _succeeded)],
    # Previews render Markdown (CPU) without saving anything: every request counts.
    "threads.preview": [("LIMIT_PREVIEWS", by_member_or_ip, lambda _r: True)],
}


def init_app(app: Flask) -> None:
    enabled = app.config["RATE_LIMITS_ENABLED"]
    if not enabled:
        log.warning("FORUM_RATE_LIMITS=off: rate limits, new-member limits and flood control "
                    "are all switched off. Never run a public forum like this.")
    storage = app.config["REDIS_URL"] or "memory://"
    limiter = Limiter(key_func=by_ip, storage_uri=storage, enabled=enabled,
                      key_prefix="showboard", strategy="moving-window")
    limiter.init_app(app)
    app.extensions["forum.limiter"] = limiter
    for endpoint, rules in RULES.items():
        view = app.view_functions.get(endpoint)
        if view is None:
            continue
        for setting, key, counts in rules:
            view = limiter.limit(_setting(setting), key_func=key, methods=["POST"],
                                 deduct_when=counts, scope=f"{endpoint}:{setting}")(view)
        app.view_functions[endpoint] = view


def _setting(name: str) -> Callable[[], str]:
    return lambda: current_app.config[name]
