"""Blueprints, one per audience or area. Views are thin: parse, ask forum/* to do the work,
commit once, render or redirect."""

from __future__ import annotations

from flask import Flask


def register_blueprints(app: Flask) -> None:
    from forum.views import (
        accounts,
        admin,
        boards,
        errors,
        mod,
        reports,
        search,
        signin,
        threads,
        users,
    )

    for module in (accounts, boards, threads, users, search, reports, mod, admin, signin):
        app.register_blueprint(module.bp)
    # The moderation log and edit history: public pages about moderation, outside the guard.
    app.register_blueprint(mod.public)
    errors.init_app(app)
