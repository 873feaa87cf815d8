"""Blueprints, one per audience or area. Views are thin: parse, ask forum/* to do the work,
commit once, render or redirect."""

from __future__ import annotations

from typing import Any

from flask import Flask
from werkzeug.routing import IntegerConverter

# Ids are INTEGER columns, 32-bit signed on PostgreSQL, so no row has a larger id; and handing a
# larger number to the driver fails (out of range on PostgreSQL, OverflowError past 2**63 on
# SQLite): a 500 where the answer is "no such thing", a 404.
MAX_ID = 2**31 - 1


class IdConverter(IntegerConverter):
    """`<int:...>` capped at the largest id the database can hold, so bigger numbers 404."""

    def __init__(self, url_map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(url_map, *args, **kwargs)


def register_blueprints(app: Flask) -> None:
    from forum.views import (
        accounts,
        admin,
        boards,
        crawlers,
        episodes,
        errors,
        feeds,
        history,
        live,
        mail_choices,
        mod,
        notifications,
        quoting,
        reports,
        search,
        signin,
        threads,
        unread,
        users,
        watching,
    )

    # Before any blueprint adds a rule: rules bind their converter when they are added.
    app.url_map.converters["int"] = IdConverter
    # history (the moderation log, edit history) is public: outside mod's guard, not under it.
    for module in (
        accounts,
        boards,
        episodes,
        threads,
        users,
        search,
        reports,
        history,
        mod,
        admin,
        signin,
        feeds,
        crawlers,
        notifications,
        mail_choices,
        watching,
        unread,
        quoting,
        live,
    ):
        app.register_blueprint(module.bp)
    errors.init_app(app)
