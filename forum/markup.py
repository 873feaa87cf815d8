"""The one place where user text becomes HTML.

Every post body goes through :func:`render` exactly once, when it is written, and the result is
stored. Templates autoescape everything; the only way to show stored HTML unescaped is
:func:`as_markup`. Keeping both halves in this module means there is a single, reviewable
answer to "can user input reach the page as markup?": only after Markdown rendering *and*
allowlist sanitising here. Nothing else in the codebase may build ``markupsafe.Markup`` from
user-controlled data.

Pipeline: markdown-it-py (CommonMark, raw HTML disabled, nesting capped) -> bleach allowlist
(tags, attributes, URL protocols) -> a final html5lib filter that forces ``rel`` on links and
keeps only ``http(s)`` images. Bump :data:`RENDER_VERSION` whenever any rule below changes, so
stored posts can be re-rendered.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from bleach.css_sanitizer import CSSSanitizer
from bleach.html5lib_shim import Filter, getTreeWalker
from bleach.sanitizer import Cleaner
from markdown_it import MarkdownIt
from markupsafe import Markup

RENDER_VERSION: int = 1

# Block nesting (quotes, lists) deeper than this is rendered as plain text, which keeps both
# markdown-it and html5lib far from Python's recursion limit whatever the input.
MAX_NESTING = 20

LINK_REL = "nofollow ugc noopener"
IMAGE_SCHEMES = ("http://", "https://")

ALLOWED_TAGS = frozenset(
    {"p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "del", "s", "code",
     "pre", "blockquote", "ul", "ol", "li", "a", "img", "table", "thead", "tbody", "tr", "th",
     "td"}
)  # fmt: skip
ALLOWED_ATTRIBUTES: dict[str, list[str]] = {
    "a": ["href", "title", "rel"],
    "img": ["src", "alt", "title", "loading", "referrerpolicy"],
    "th": ["style"],  # markdown-it writes column alignment as style="text-align:..."
    "td": ["style"],
    "ol": ["start"],
}
ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto"})

_md = MarkdownIt(
    "commonmark",
    {"html": False, "linkify": True, "typographer": False, "maxNesting": MAX_NESTING},
).enable(["table", "strikethrough", "linkify"])


class _LinkImageFilter(Filter):
    """Runs after bleach's sanitiser: set ``rel`` on every link, unwrap links whose href was
    removed, and replace any image without an absolute http(s) ``src`` by its alt text."""

    def __iter__(self) -> Iterator[dict[str, Any]]:
        open_links: list[bool] = []  # per open <a>: was its tag kept?
        for token in super().__iter__():
            kind, name = token["type"], token.get("name")
            if name == "a" and kind == "StartTag":
                attrs = token["data"]
                keep = (None, "href") in attrs
                open_links.append(keep)
                if not keep:
                    continue
                attrs[(None, "rel")] = LINK_REL
            elif name == "a" and kind == "EndTag":
                if open_links and not open_links.pop():
                    continue
            elif name == "img" and kind in ("StartTag", "EmptyTag"):
                attrs = token["data"]
                src = attrs.get((None, "src"), "")
                if not src.lower().startswith(IMAGE_SCHEMES):
                    alt = attrs.get((None, "alt"), "")
                    if alt:
                        yield {"type": "Characters", "data": alt}
                    continue
                attrs[(None, "loading")] = "lazy"
                attrs[(None, "referrerpolicy")] = "no-referrer"
            yield token


class _Walker(getTreeWalker("etree")):  # type: ignore[misc]
    """bleach's etree walker finds an element's position among its siblings with list.index
    every time it climbs back up, which is quadratic: a 12,000-row table took over 10 s. Same
    walk, but each parent's child positions are indexed once."""

    def __init__(self, tree: Any) -> None:
        super().__init__(tree)
        self._positions: dict[int, dict[int, int]] = {}

    def getParentNode(self, node: Any) -> Any:
        if not isinstance(node, tuple) or node[3] == "text" or len(node[2]) < 2:
            return super().getParentNode(node)
        parents = node[2]
        parent, grandparent = parents.pop(), parents[-1]
        positions = self._positions.get(id(grandparent))
        if positions is None:
            positions = {id(child): i for i, child in enumerate(grandparent)}
            self._positions[id(grandparent)] = positions
        return parent, positions[id(parent)], parents, None


_cleaner = Cleaner(
    tags=ALLOWED_TAGS,
    attributes=ALLOWED_ATTRIBUTES,
    protocols=ALLOWED_PROTOCOLS,
    strip=True,
    strip_comments=True,
    css_sanitizer=CSSSanitizer(allowed_css_properties=["text-align"]),
    filters=[_LinkImageFilter],
)
_cleaner.walker = _Walker


def _sanitize(html: str) -> str:
    """Allowlist-clean an HTML fragment. Disallowed tags are stripped (their text is kept,
    escaped); disallowed attributes and URLs are dropped."""
    return str(_cleaner.clean(html))


def render(source: str) -> str:
    """Turn a post's Markdown source into sanitised HTML, ready to store."""
    return _sanitize(_md.render(source))


def as_markup(html: str) -> Markup:
    """Mark stored post HTML as safe for templates.

    ``html`` MUST be a value returned by :func:`render` (normally read back from the
    database). Passing anything else here bypasses sanitising and is an XSS hole.
    """
    return Markup(html)
