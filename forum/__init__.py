"""Showboard: a discussion board for TV-show fan communities."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask

from forum import db
from forum.accounts import passwords
from forum.platform.config import load_config


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """The app, with `config` over the FORUM_* environment over the defaults. A setting that
    cannot work raises ConfigError (forum/platform/startup.py turns it into one line and exit 2)."""
    project_root = Path(__file__).resolve().parent.parent
    app = Flask(
        __name__,
        instance_path=str(project_root / "instance"),
        template_folder=str(project_root / "templates"),
        static_folder=str(project_root / "static"),
    )
    app.config.update(load_config(Path(app.instance_path), config))
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    db.init_app(app)
    passwords.configure(app.config["ARGON2_TIME_COST"], app.config["ARGON2_MEMORY_KIB"])

    from forum import cli
    from forum.accounts import auth
    from forum.platform import (
        freshness,
        health,
        jobs,
        limits,
        pagecache,
        publicurl,
        querystring,
        requestlog,
        security,
        startup,
        templating,
    )
    from forum.views import register_blueprints

    publicurl.init_app(app)  # the Host check (production) and absolute links
    requestlog.init_app(app)
    health.init_app(app)
    jobs.init_app(app)
    auth.init_app(app)
    security.init_app(app)
    # Versions are kept with the page cache off too: cached settings follow the site-wide one.
    freshness.init_app(app)
    pagecache.init_app(app)
    templating.init_app(app)
    register_blueprints(app)
    limits.init_app(app)  # after the blueprints: it wraps their views
    cli.init_app(app)
    startup.guard_commands(app)  # after every command is added: each waits for the database
    querystring.init_app(app)  # outside every other wrapper but ProxyFix: they read the query
    publicurl.trust_proxies(app)  # last: the outermost WSGI wrapper
    return app
