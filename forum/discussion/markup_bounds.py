"""How much rendering a post may cost: the bounds forum.discussion.markup works within.

A preview renders whatever a member sends, up to 50,000 characters, on a web worker, and
markdown-it and bleach (html5lib) both spend pure-Python time per structure: per line, per
table cell, per list item, per emphasis delimiter, per entity, per link. Unbounded, 50,000
characters of ``|x|y|`` rows took 1.2 s. So:

- :func:`markdown_length` finds how much of a post (from its start) fits MARKDOWN_BUDGET, a
  budget counted in characters that make work, weighted by what each one can cost. Only that
  part goes through Markdown and bleach; forum.discussion.markup shows the rest as escaped
  paragraphs.
- :func:`bounded_table` ends tables once the render has made MAX_TABLE_CELLS cells:
  markdown-it pads short rows to the header's width, so under a wide header every
  one-character row costs hundreds of cells.
- :class:`CappedLinkify` and forum.discussion.markup's autolink rule make at most MAX_LINKS links
per
  render from bare URLs and ``<autolinks>``.

The numbers come from bench/adversarial.py, which hunts for slow inputs with hypothesis.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from markdown_it.rules_block import StateBlock
from markdown_it.rules_block.table import table as _stock_table

# What each character may make markdown-it and bleach do. A line can open a block (paragraph,
# list item, heading, table row: several tokens and tags each); inline markers can each become
# a token; & < > " become entities, which html5lib decodes one by one; . : @ are where linkify's
# regexes work. Every other character is plain text, which costs next to nothing.
COSTS: dict[str, int] = {
    "\n": 4,
    **dict.fromkeys('&<>"', 2),
    **dict.fromkeys("!#$%*+-=[\\]^_`{}~|.:@", 1),
}
# The dearest mixes bench/adversarial.py finds render 50,000 characters in 40-70 ms of CPU on
# this project's 2-core machines while busy (plain prose: about 20 ms); 0.5-77 s before.
MARKDOWN_BUDGET = 2_400
_COSTLY = re.compile("[" + re.escape("".join(COSTS)) + "]")

# Per render, not per table or per paragraph: many small tables must not add up.
MAX_TABLE_CELLS = 600
MAX_LINKS = 200


@dataclass
class Allowance:
    """What one render may still make: table cells, and links that are not Markdown links
    (bare URLs and <autolinks>; Markdown links have MAX_LINK_BRACKETS in
    forum.discussion.markup)."""

    cells: int = MAX_TABLE_CELLS
    links: int = MAX_LINKS


_allowance: ContextVar[Allowance] = ContextVar("markup_allowance")


@contextmanager
def allowance() -> Iterator[Allowance]:
    """A fresh allowance for the render inside this block (markdown-it calls the rules below
    from deep inside, so they find it here rather than through arguments)."""
    token = _allowance.set(Allowance())
    try:
        yield _allowance.get()
    finally:
        _allowance.reset(token)


def _left() -> Allowance:
    # Outside allowance() (markdown-it used directly), nothing is left: the rules fall back to
    # text, which is always safe.
    return _allowance.get(Allowance(cells=0, links=0))


def markdown_length(source: str) -> int:
    """How many characters from the start of `source` get Markdown: all of them unless the
    weighted count passes MARKDOWN_BUDGET. Then the cut falls at the start of the line where
    it ran out (or, if that is the first line, after the last space before it), so Markdown
    and plain text meet at a line or word boundary."""
    spent = 0
    for match in _COSTLY.finditer(source):  # stops after at most MARKDOWN_BUDGET matches
        spent += COSTS[match.group()]
        if spent > MARKDOWN_BUDGET:
            cut = match.start()
            line_start = source.rfind("\n", 0, cut) + 1
            if line_start:
                return line_start
            space = max(source.rfind(" ", 0, cut), source.rfind("\t", 0, cut))
            return space + 1 if space >= 0 else cut
    return len(source)


def _delimiter_columns(state: StateBlock, line: int) -> int:
    text = state.src[state.bMarks[line] + state.tShift[line] : state.eMarks[line]].strip()
    return max(1, text.strip("|").count("|") + 1)


def bounded_table(state: StateBlock, start_line: int, end_line: int, silent: bool) -> bool:
    """markdown-it's table rule, told the table ends where the render's cell allowance does;
    the lines after it are parsed as whatever they are (usually a paragraph). A table whose
    header alone is over the allowance is no table."""
    if start_line + 2 > end_line:
        return False
    left = _left()
    columns = _delimiter_columns(state, start_line + 1)
    rows = left.cells // columns  # the header row included
    if rows < 1:
        return False
    made = _stock_table(state, start_line, min(end_line, start_line + 1 + rows), silent)
    if made and not silent:
        left.cells -= (state.line - start_line - 1) * columns
    return made


def links_left() -> int:
    return _left().links


def spend_link() -> None:
    _left().links -= 1


class CappedLinkify:
    """linkify-it behind markdown-it's linkify rules, handing out links while the render's
    allowance lasts; past it, text that looks like a URL stays text. linkify-it's own regex
    work is per candidate ('.', ':', '@'), which MARKDOWN_BUDGET counts."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def pretest(self, text: str) -> bool:
        return _left().links > 0 and bool(self._inner.pretest(text))

    def test(self, text: str) -> bool:
        return _left().links > 0 and bool(self._inner.test(text))

    def match(self, text: str) -> list[Any] | None:
        left = _left()
        found = (self._inner.match(text) or [])[: max(left.links, 0)]
        left.links -= len(found)
        return found or None

    def match_at_start(self, text: str) -> Any:
        # Spent by forum.discussion.markup's inline rule once the link is really made (it probes
        # first).
        return self._inner.match_at_start(text) if _left().links > 0 else None
