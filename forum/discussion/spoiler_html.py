"""Spoilers in stored post HTML: the format (written by forum.discussion.markup through
:func:`opening_html`), and episode spoilers read back when a page is drawn for a viewer.

A spoiler is stored as a checkbox in a label, so it opens on a click (or Space) without
JavaScript, the CSS showing ``.spoiler-text`` once the box is checked:

    <label class="spoiler"><input class="spoiler-toggle" type="checkbox"
    aria-label="Show spoiler"><span class="spoiler-text">TEXT</span></label>

and an episode spoiler (``>!S1E8: TEXT!<``) as the same with ``data-episode="S1E8"`` on the
label and ``aria-label="Show spoiler for S1E8"``. Hiding TEXT with CSS is not enough for a
viewer who hasn't seen the episode (it is one click, or view-source, away), so :func:`withhold`
takes it out of the page: the viewer gets a link to reveal it instead.

Regular expressions are enough here, and safe, because the HTML is markup's output: raw HTML is
off and bleach allows ``label`` only with these attributes, so the only ``<label`` in it are
spoilers, user text can't hold a ``<`` (it is escaped), and spoilers never nest, so a spoiler
ends at the first ``</label>``. Pure functions: no Flask, no database.
"""

from __future__ import annotations

import re
from html import escape

from forum.discussion import episode_codes

# The opening of an episode spoiler up to the first </label>: everything the viewer must not get.
_EPISODE_SPOILER = re.compile(
    r'<label class="spoiler" data-episode="S(\d{1,3})E(\d{1,3})">.*?</label>', re.DOTALL
)
_EPISODE_LABEL = re.compile(r'<label class="spoiler" data-episode="S(\d{1,3})E(\d{1,3})">')
# Every spoiler, generic or episode: its code (None for a generic one) and its inner HTML.
_ANY_SPOILER = re.compile(
    r'<label class="spoiler"(?: data-episode="(S\d{1,3}E\d{1,3})")?>(.*?)</label>', re.DOTALL
)
# Escaped user text may contain data-episode; it can't contain the "<label" before it.
_MARKER = "data-episode"
WITHHELD_CLASS = "spoiler spoiler-withheld"
_WITHHELD_OPEN = f'<span class="{WITHHELD_CLASS}" data-episode='
CLOSING_HTML = "</span></label>"


def opening_html(episode: int | None) -> str:
    """A spoiler's stored HTML up to its text (an episode spoiler's when `episode` is a key);
    CLOSING_HTML follows the text. The one place the format is written: the patterns above
    read it, and markup's allowlist admits exactly these attributes."""
    if episode is None:
        label, aria = '<label class="spoiler">', "Show spoiler"
    else:
        code = episode_codes.code_of(episode)
        label, aria = f'<label class="spoiler" data-episode="{code}">', f"Show spoiler for {code}"
    return (
        f'{label}<input class="spoiler-toggle" type="checkbox" aria-label="{aria}">'
        '<span class="spoiler-text">'
    )


def _key(found: re.Match[str]) -> int:
    return episode_codes.key_of(int(found.group(1)), int(found.group(2)))


def spoiler_keys(html: str) -> frozenset[int]:
    """The episode keys of the episode spoilers in stored post HTML."""
    if _MARKER not in html:
        return frozenset()
    return frozenset(_key(found) for found in _EPISODE_LABEL.finditer(html))


def withhold(html: str, limit: int, reveal_url: str) -> str:
    """`html` with every episode spoiler about an episode after `limit` (an episode key: what
    the viewer has watched) replaced by a link to `reveal_url`; its text is gone, not hidden.
    Generic spoilers and spoilers up to `limit` stay as they are. Without any episode spoiler,
    `html` itself is returned."""
    if _MARKER not in html:
        return html
    href = escape(reveal_url, quote=True)

    def replace(found: re.Match[str]) -> str:
        key = _key(found)
        if key <= limit:
            return found.group()
        code = episode_codes.code_of(key)
        return (
            f'{_WITHHELD_OPEN}"{code}"><a href="{href}" rel="nofollow">'
            f"Spoiler for {code} · reveal</a></span>"
        )

    return _EPISODE_SPOILER.sub(replace, html)


def withhold_every(html: str, limit: int, reveal_url: str) -> str:
    """`html` for places that can't hide anything (feeds): episode spoilers after `limit`
    withheld as :func:`withhold` does, and every other spoiler, generic ones too, cut out the
    same way, since a feed reader shows no CSS and no checkbox."""
    html = withhold(html, limit, reveal_url)
    href = escape(reveal_url, quote=True)

    def cut(found: re.Match[str]) -> str:
        code = found.group(1)
        what = f"Spoiler for {code}" if code else "Spoiler"
        return (
            f'<span class="{WITHHELD_CLASS}"><a href="{href}" rel="nofollow">{what} · reveal</a>'
            "</span>"
        )

    return _ANY_SPOILER.sub(cut, html)


def without_spoilers(html: str) -> str:
    """`html` with every spoiler, generic or episode, taken out (a space in its place)."""
    return _ANY_SPOILER.sub(" ", html)


def spoiler_contents(html: str) -> list[str]:
    """The inner HTML of every spoiler in `html`, in order."""
    return [found.group(2) for found in _ANY_SPOILER.finditer(html)]


def has_withheld(html: str) -> bool:
    """Whether :func:`withhold` took a spoiler out of `html` (its result), e.g. to explain the
    reveal links once above the posts."""
    return _WITHHELD_OPEN in html
