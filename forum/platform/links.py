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
def _pattern(script_root: str, endpoint: str, arguments: tuple[tuple[str, bool], ...]) -> str:
    # Any, not int | str: url_for's own keyword parameters (_external, _anchor...) are typed
    # narrower, and these names are the route's arguments, never those.
    stand_ins: dict[str, Any] = {
        name: _INT_STAND_IN + position if is_int else _TEXT_STAND_IN.format(position)
        for position, (name, is_int) in enumerate(arguments)
    }
    return url_for(endpoint, **stand_ins)


def link(endpoint: str, **values: int | str) -> str:
    """The path `url_for(endpoint, **values)` gives. Text values must be path arguments (a
    query string quotes differently); integers may be either."""
    arguments = tuple((name, isinstance(value, int)) for name, value in values.items())
    url = _pattern(request.script_root, endpoint, arguments)
    for position, value in enumerate(values.values()):
        if isinstance(value, int):
            url = url.replace(str(_INT_STAND_IN + position), str(value), 1)
        else:
            url = url.replace(_TEXT_STAND_IN.format(position), quote(value, safe=_PATH_SAFE), 1)
    return url
