"""Stored post HTML as plain text, for what can't show HTML: search documents and snippets,
link-preview excerpts. Spoilers are kept apart (forum/discussion/spoiler_html.py knows their
format): `open_text` never holds a word of any spoiler.

Regular expressions are enough, as in spoiler_html: the HTML is markup's sanitised output, so
a "<" always opens a tag and user text arrives escaped."""

from __future__ import annotations

import re
from html import unescape

from forum.discussion import spoiler_html

# Tags that end a word (blocks, line breaks); any other tag (<strong>) sits inside one.
_BREAKING_TAG = re.compile(
    r"</?(?:p|br|li|ul|ol|h[1-6]|blockquote|pre|table|thead|tbody|tr|td|th|hr|div|label)\b[^>]*>"
)
_TAG = re.compile(r"<[^>]*>")
_SPACES = re.compile(r"\s+")


def plain(html: str) -> str:
    """The text of `html`, tags gone, entities decoded, runs of white space made one space."""
    text = _TAG.sub("", _BREAKING_TAG.sub(" ", html))
    return _SPACES.sub(" ", unescape(text)).strip()


def open_text(html: str) -> str:
    """The plain text of stored post HTML outside its spoilers, generic or episode."""
    return plain(spoiler_html.without_spoilers(html))


def spoiler_text(html: str) -> str:
    """The plain text of every spoiler in stored post HTML, joined by spaces."""
    return " ".join(plain(inner) for inner in spoiler_html.spoiler_contents(html))
