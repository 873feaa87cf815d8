"""Episode codes ("S1E8") and the integer keys they sort by.

Watch progress, a thread's episode, a post's "discusses up to" and the `>!S1E8: ...!<` spoiler
spans all compare episodes. They do it as one integer, `season * 1000 + number`, so a filter or
a mask is a plain integer comparison: S1E10 (1010) < S2E1 (2001). A key of 0 is "nothing
watched yet"; CAUGHT_UP is beyond every episode.
"""

from __future__ import annotations

import re

# Seasons and episode numbers a key can hold (number < 1000 keeps seasons apart).
MAX_SEASON = 999
MAX_NUMBER = 999
NOTHING_WATCHED = 0
CAUGHT_UP = 2**31 - 1  # fits an SQL INTEGER on both engines

CODE = re.compile(r"[Ss](\d{1,3})[Ee](\d{1,3})")


def key_of(season: int, number: int) -> int:
    return season * 1000 + number


def code_of(key: int) -> str:
    """ "S1E8" for 1008."""
    return f"S{key // 1000}E{key % 1000}"


def parse_code(text: str) -> int | None:
    """The key of a code such as "S1E8" or "s01e08"; None when `text` is not one (or names
    season 0 or episode 0)."""
    found = CODE.fullmatch(text.strip())
    if found is None:
        return None
    season, number = int(found.group(1)), int(found.group(2))
    if not (1 <= season <= MAX_SEASON and 1 <= number <= MAX_NUMBER):
        return None
    return key_of(season, number)
