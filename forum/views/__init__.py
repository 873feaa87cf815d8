"""Blueprints, one per audience or area. Views are thin: parse, ask forum/* to do the work,
commit once, render or redirect."""

from __future__ import annotations

from flask import Flask


def register_blueprints(app: Flask) -> None:
    from forum.views import accounts, boards, errors, search, threads, users

    for module in (accounts, boards, threads, users, search):
        app.register_blueprint(module.bp)
    errors.init_app(app)
