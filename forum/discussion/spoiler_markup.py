"""Spoilers in post Markdown: how ``>!text!<`` and ``>!S1E8: text!<`` are parsed.

forum.discussion.markup registers these rules on its markdown-it parsers and lets this module's
attribute check into its bleach allowlist; forum.discussion.spoiler_html stays the one place that
knows the stored HTML (every spoiler made here is written through it). Kept apart from markup so
the general Markdown pipeline and the spoiler syntax can each be read, and changed, on their own;
a change to either rule set still means bumping markup.RENDER_VERSION.

The syntax: ``>!text!<`` hides text behind a click; ``>!S1E8: text!<`` also names the episode
(normalised by episode_codes), so a page can withhold it from viewers who haven't watched that
far (spoiler_html.withhold). The text is inline Markdown. The first ``!<`` closes, so spoilers
don't nest; with no ``!<``, or nothing to hide, ``>!`` is text. The cases that needed care:

- Line starts: ``>!x!<`` at the start of a line is a spoiler, not a quote of "!x!<", and it
  ends a quote above it rather than joining it (:func:`blockquote_unless_spoiler`).
- Links: no spoiler inside a link's text, where its checkbox would follow the link
  (:func:`inline_rule`).
- Emphasis cap: markup drops formatting nested past MAX_NESTING but keeps the tokens of
  TOKEN_TYPES, since without them a spoiler's text would show.
- The Markdown budget: the cut between Markdown and plain text never splits a spoiler
  (:func:`cut_outside_spoiler`), and spoilers past it are still made (:func:`escape_with_spoilers`).
- Sanitising: bleach admits label/input/span only with exactly the attributes spoiler_html
  writes (:func:`allowed_attribute`).

Pure functions over strings and markdown-it state: no Flask, no database.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from html import escape
from typing import Any

from markdown_it.rules_block import StateBlock
from markdown_it.rules_block.blockquote import blockquote as _stock_blockquote
from markdown_it.rules_core import StateCore
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token

from forum.discussion import episode_codes, spoiler_html

SPOILER_OPEN, SPOILER_CLOSE = ">!", "!<"
# The token types inline_rule makes; markup's later passes (emphasis cap, mentions) look for them.
TOKEN_TYPES = ("spoiler_open", "spoiler_close")
_EPISODE_PREFIX = re.compile(episode_codes.CODE.pattern + r":[ \t]*")


@dataclass(frozen=True, slots=True)
class Spoiler:
    text_start: int  # where the hidden text starts (past `>!` and any "S1E8: ")
    close: int  # where its `!<` is
    episode: int | None  # episode_codes key, for an episode spoiler


def spoiler_at(src: str, start: int, end: int) -> Spoiler | None:
    """The spoiler whose `>!` is at `start` and which closes before `end`, if there is one."""
    if not src.startswith(SPOILER_OPEN, start):
        return None
    text_start = start + len(SPOILER_OPEN)
    close = src.find(SPOILER_CLOSE, text_start, end)
    if close < 0:
        return None
    episode = None
    prefix = _EPISODE_PREFIX.match(src, text_start, close)
    if prefix is not None:
        episode = episode_codes.parse_code(prefix.group().partition(":")[0])
        if episode is not None:
            text_start = prefix.end()
    if not src[text_start:close].strip():
        return None
    return Spoiler(text_start, close, episode)


def inline_rule(state: StateInline, silent: bool) -> bool:
    """Inline rule: the text between `>!` and `!<` is parsed as inline Markdown inside the
    spoiler. Not inside a link's text: a checkbox inside a link would follow it."""
    if state.linkLevel > 0 or state.src[state.pos] != ">":
        return False
    found = spoiler_at(state.src, state.pos, state.posMax)
    if found is None:
        return False
    if not silent:
        opening = state.push("spoiler_open", "label", 1)
        opening.meta["episode"] = found.episode
        end = state.posMax
        state.pos, state.posMax = found.text_start, found.close
        state.md.inline.tokenize(state)
        state.posMax = end
        state.push("spoiler_close", "label", -1)
    state.pos = found.close + len(SPOILER_CLOSE)
    return True


def out_of_image_text(state: StateCore) -> None:
    """Core rule: a spoiler inside an image's description (`![>!S1E8: x!<](...)`) is dropped
    with its text. The description becomes the `alt` attribute, plain text that no label can
    hide and that feed readers and screen readers print."""
    for block in state.tokens:
        for token in block.children or ():
            if token.type == "image" and token.children:
                token.children = _without_spoilers(token.children)


def _without_spoilers(tokens: list[Token]) -> list[Token]:
    kept: list[Token] = []
    inside = False
    for token in tokens:
        if token.type in TOKEN_TYPES:  # spoilers don't nest
            inside = token.type == "spoiler_open"
        elif not inside:
            kept.append(token)
    return kept


def blockquote_unless_spoiler(state: StateBlock, start: int, end: int, silent: bool) -> bool:
    """`>!x!<` at the start of a line is a spoiler, as on Reddit, not a quote of "!x!<" (with a
    space, `> !x` still quotes). Such a line also ends a quote above it instead of joining it
    as a continuation, which would show its text. The `!<` must be on the same line."""

    def spoiler_line(line: int) -> bool:
        pos = state.bMarks[line] + state.tShift[line]
        return spoiler_at(state.src, pos, state.eMarks[line]) is not None

    if spoiler_line(start):
        return False
    if silent:
        return _stock_blockquote(state, start, end, silent)
    for line in range(start + 1, end):
        if state.isEmpty(line):  # a blank line ends the quote anyway
            break
        if spoiler_line(line):
            end = line
            break
    # The quote's last paragraph would run on lazily up to lineMax, past `end`.
    line_max, state.lineMax = state.lineMax, min(state.lineMax, end)
    try:
        return _stock_blockquote(state, start, end, silent)
    finally:
        state.lineMax = line_max


def render_open(_renderer: Any, tokens: list[Token], index: int, _options: Any, _env: Any) -> str:
    return spoiler_html.opening_html(tokens[index].meta["episode"])


def render_close(*_args: Any) -> str:
    return spoiler_html.CLOSING_HTML


# What spoiler_html.opening_html writes, attribute by attribute.
_ATTRIBUTES: dict[tuple[str, str], Callable[[str], object]] = {
    ("label", "class"): "spoiler".__eq__,
    ("label", "data-episode"): re.compile(r"S\d{1,3}E\d{1,3}").fullmatch,
    ("input", "class"): "spoiler-toggle".__eq__,
    ("input", "type"): "checkbox".__eq__,
    ("input", "aria-label"): re.compile(r"Show spoiler( for S\d{1,3}E\d{1,3})?").fullmatch,
    ("span", "class"): "spoiler-text".__eq__,
}


def allowed_attribute(tag: str, name: str, value: str) -> bool:
    """Exactly the spoiler markup of spoiler_html.opening_html: users cannot type these tags
    (raw HTML is off), and no other attribute or value may pass should anything else make
    them."""
    check = _ATTRIBUTES.get((tag, name))
    return check is not None and bool(check(value))


def escape_with_spoilers(text: str) -> str:
    """`text` escaped, its spoilers made as Markdown makes them (with their text as written), so
    a long post's spoilers stay hidden past the budget too. Linear: once a `>!` finds no `!<`
    after it, no later one can."""
    pieces: list[str] = []
    done = 0
    start = text.find(SPOILER_OPEN)
    while start >= 0 and text.find(SPOILER_CLOSE, start + len(SPOILER_OPEN)) >= 0:
        found = spoiler_at(text, start, len(text))
        if found is None:  # nothing to hide: its `!<` is past any `>!` it contains
            start = text.find(SPOILER_OPEN, start + len(SPOILER_OPEN))
            continue
        pieces += [
            escape(text[done:start], quote=False),
            spoiler_html.opening_html(found.episode),
            escape(text[found.text_start : found.close], quote=False),
            spoiler_html.CLOSING_HTML,
        ]
        done = found.close + len(SPOILER_CLOSE)
        start = text.find(SPOILER_OPEN, done)
    pieces.append(escape(text[done:], quote=False))
    return "".join(pieces)


def cut_outside_spoiler(source: str, cut: int) -> int:
    """Where Markdown ends, moved back to the start of the line (or the `>!`) of a spoiler the
    budget would cut in two: half a spoiler is no spoiler, and its text would show."""
    if cut == len(source):
        return cut
    # The first `>!` after the last `!<` before the cut opens the spoiler the cut may be in.
    opener = source.find(SPOILER_OPEN, source.rfind(SPOILER_CLOSE, 0, cut) + 1, cut)
    if opener < 0 or source.find(SPOILER_CLOSE, opener + len(SPOILER_OPEN)) < 0:
        return cut
    line_start = source.rfind("\n", 0, opener) + 1
    return line_start or opener
