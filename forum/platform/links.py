"""`url_for` for links printed in a loop.

Building a URL through Werkzeug's routing costs several microseconds; a thread page prints
dozens. `link` asks `url_for` once per endpoint (and script root) with stand-in values, keeps the
answer as a pattern, and fills the real values in with `str.replace`, quoted the way Werkzeug's
path converters quote them, so the result is exactly what `url_for` gives (tests/test_links.py
holds it to that).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any
from urllib.parse import quote

from flask import request, url_for

# Stand-ins no real value contains; one per argument position.
_INT_STAND_IN = 918_273_645_546_372_800
_TEXT_STAND_IN = "zqzstandin{}zqz"
# What Werkzeug's default path converter leaves unquoted (werkzeug.routing.converters).
_PATH_SAFE = "!$&'()*+,/:;=@"


@lru_cache(maxsize=256)
def _pattern(
    script_root: str, endpoint: str, names: tuple[str, ...], types: tuple[type, ...]
) -> tuple[tuple[str, ...], tuple[tuple[int, bool], ...]]:
    """The URL cut around its values: the literal pieces, and per gap the argument position
    and whether it is an integer (printed as is) or text (quoted)."""
    # Any, not int | str: url_for's own keyword parameters (_external, _anchor...) are typed
    # narrower, and these names are the route's arguments, never those.
    stand_ins: dict[str, Any] = {}
    tokens: list[tuple[str, int, bool]] = []
    for position, (name, kind) in enumerate(zip(names, types, strict=True)):
        is_int = issubclass(kind, int)
        stand_in = _INT_STAND_IN + position if is_int else _TEXT_STAND_IN.format(position)
        stand_ins[name] = stand_in
        tokens.append((str(stand_in), position, is_int))
    url = url_for(endpoint, **stand_ins)
    pieces: list[str] = []
    slots: list[tuple[int, bool]] = []
    start = 0
    for at, token, position, is_int in sorted(
        (url.index(token), token, position, is_int) for token, position, is_int in tokens
    ):
        pieces.append(url[start:at])
        slots.append((position, is_int))
        start = at + len(token)
    pieces.append(url[start:])
    return tuple(pieces), tuple(slots)


@lru_cache(maxsize=4096)
def _quoted(text: str) -> str:
    return quote(text, safe=_PATH_SAFE)


def link(endpoint: str, **values: int | str) -> str:
    """The path `url_for(endpoint, **values)` gives. Text values must be path arguments (a
    query string quotes differently); integers may be either."""
    # The request object itself, not the proxy: an attribute read through Werkzeug's
    # LocalProxy costs ten times as much (a failed lookup, then __getattr__).
    script_root = request._get_current_object().root_path  # type: ignore[attr-defined]
    given = [*values.values()]
    pieces, slots = _pattern(script_root, endpoint, (*values,), (*map(type, given),))
    url = pieces[0]
    index = 1
    for position, is_int in slots:
        value = given[position]
        url += (str(value) if is_int else _quoted(value)) + pieces[index]
        index += 1
    return url
