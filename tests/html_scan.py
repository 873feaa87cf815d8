"""Reading rendered pages the way a browser does: with the standard library's html.parser, never
regular expressions. The one page reader of the test suite.

What a fan sees (`read`, `form_page`): the page's text, its first <title> and <h1>, its error
messages and the values its form fields would submit. `signed_in_as`: whose account chip the
header shows.

Three questions, asked of every page the security tests fetch (`scan`):

- post_body_findings: does any `.post-body` element hold live markup (a script, a frame, an
  event handler, an inline style, a javascript:/vbscript:/data: URL, a tag Markdown never makes)?
- page_findings: does the page *outside* the post bodies hold anything a template never emits
  (inline scripts, handlers, dangerous URLs)? Catches a title or username that escaped.
- page_shape: the sequence of elements and attribute names outside the post bodies. Escaped
  text never changes it, so a page showing hostile text must have the shape of the same page
  showing harmless text.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import unquote

from werkzeug.test import TestResponse

VOID_ELEMENTS = frozenset({
    "area", "base", "br", "col", "embed", "hr", "img", "input", "keygen", "link", "meta",
    "param", "source", "track", "wbr",
})  # fmt: skip

# What Markdown (CommonMark + tables + strikethrough) can produce. Anything else inside a post
# body came from the author's raw HTML and should have been escaped.
MARKDOWN_TAGS = frozenset({
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "del", "s", "code",
    "pre", "blockquote", "ul", "ol", "li", "a", "img", "table", "thead", "tbody", "tr", "th",
    "td", "label", "input", "span",
})  # fmt: skip
MARKDOWN_ATTRIBUTES = frozenset(
    {"href", "title", "rel", "src", "alt", "loading", "referrerpolicy", "start"}
)
# Classes a post body may carry: table column alignment on a cell, and the spoiler markup
# (forum/discussion/spoiler_html.py), each on the one element that format puts it on.
CELL_ALIGNMENTS = frozenset({"align-left", "align-center", "align-right"})
BODY_CLASSES: dict[str, frozenset[str]] = {
    "th": CELL_ALIGNMENTS,
    "td": CELL_ALIGNMENTS,
    "label": frozenset({"spoiler"}),
    "input": frozenset({"spoiler-toggle"}),
    "span": frozenset({"spoiler-text", "spoiler spoiler-withheld"}),
}
# Spoiler attributes: which elements may carry them. `type` is checked separately (checkbox only).
SPOILER_ATTRIBUTES: dict[str, frozenset[str]] = {
    "data-episode": frozenset({"label", "span"}),
    "aria-label": frozenset({"input"}),
    "type": frozenset({"input"}),
}
EPISODE_CODE = re.compile(r"S\d{1,3}E\d{1,3}")

# Elements that run script, load documents, submit forms or restyle the page.
DANGEROUS_TAGS = frozenset({
    "script", "iframe", "frame", "frameset", "object", "embed", "applet", "svg", "math",
    "style", "link", "meta", "base", "form", "input", "button", "textarea", "select",
    "template", "noscript", "xmp", "plaintext", "noembed", "portal", "video", "audio",
})  # fmt: skip
URL_ATTRIBUTES = frozenset({
    "href", "src", "xlink:href", "action", "formaction", "srcset", "poster", "background",
    "data", "codebase", "cite", "lowsrc", "dynsrc", "ping", "content", "to", "from", "values",
})  # fmt: skip
BAD_SCHEMES = ("javascript:", "vbscript:", "data:", "livescript:", "mocha:")


def normalized_url(value: str) -> str:
    """A URL as a browser decides its scheme. `value` comes from html.parser, which has already
    decoded character references the way a browser does (numeric ones even without a
    semicolon); decoding again would see schemes no browser sees. Then every ASCII control or
    space and invisible format character is removed (browsers drop leading ones and tabs and
    newlines anywhere) and the rest lowercased."""
    kept = (
        ch
        for ch in value
        if ord(ch) > 0x20 and ord(ch) != 0x7F and unicodedata.category(ch) not in {"Cc", "Cf"}
    )
    return "".join(kept).lower()


def dangerous_url(value: str) -> bool:
    url = normalized_url(value)
    candidates = [url]
    if "," in url:  # srcset and meta refresh carry several URLs
        candidates += [part.strip().split(" ")[0] for part in url.replace(";", ",").split(",")]
        candidates += [part.partition("url=")[2] for part in url.split(";")]
    return any(candidate.startswith(BAD_SCHEMES) for candidate in candidates if candidate)


def _classes(attrs: list[tuple[str, str | None]]) -> set[str]:
    return {name for key, value in attrs if key == "class" for name in (value or "").split()}


class TextAndFields(HTMLParser):
    """What a fan sees of a page: its text (no scripts or styles), the first <title> and <h1>,
    error messages (class "error" or role "alert") and the values of form fields as a browser
    would submit them (a textarea's first newline dropped, see `textarea_value`)."""

    def __init__(self, page: str | None = None) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.values: dict[str, str] = {}
        self.errors: list[str] = []
        self.title = ""
        self.h1 = ""
        self._skip = 0
        self._textarea: str | None = None
        self._capture: str | None = None  # "title", "h1" or "error"
        self._captured: list[str] = []
        self._depth_tag: str | None = None
        if page is not None:
            self.feed(page)
            self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        self._skip += tag in ("script", "style")
        if tag == "input" and "name" in values:
            self.values[values["name"]] = values.get("value", "")
        elif tag == "textarea":
            self._textarea = values.get("name") or values.get("id") or "textarea"
            self.values[self._textarea] = ""
        elif self._capture is None and (
            (tag == "title" and not self.title)
            or (tag == "h1" and not self.h1)
            or "error" in _classes(attrs)
            or values.get("role") == "alert"
        ):  # the first <title> and <h1> only: post bodies have headings of their own
            self._capture = tag if tag in ("title", "h1") else "error"
            self._depth_tag, self._captured = tag, []

    def handle_endtag(self, tag: str) -> None:
        self._skip -= tag in ("script", "style")
        if tag == "textarea" and self._textarea is not None:
            self.values[self._textarea] = textarea_value(self.values[self._textarea])
            self._textarea = None
        if self._capture and tag == self._depth_tag:
            text = "".join(self._captured)
            if self._capture == "error":
                self.errors.append(" ".join(text.split()))
            elif self._capture == "title":
                self.title = text.strip()
            else:
                self.h1 = text.strip()
            self._capture = None

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self.values[self._textarea] += data
        if self._capture:
            self._captured.append(data)
        if not self._skip:
            self.parts.append(data)

    @property
    def text(self) -> str:
        return " ".join(self.parts)


def read(page: str) -> TextAndFields:
    return TextAndFields(page)


def csrf_token(page: str) -> str:
    """The CSRF token a page's forms carry."""
    token = read(page).values.get("csrf_token")
    assert token, "the page has no csrf_token field"
    return token


def form_page(response: TestResponse) -> TextAndFields:
    """What a fan sees of a rendered form page (see TextAndFields)."""
    return read(response.get_data(as_text=True))


def page_text(response: TestResponse) -> str:
    """The text a reader sees of a response (no tags, attributes, scripts or styles)."""
    return read(response.get_data(as_text=True)).text


class _Scan(TextAndFields):
    """One pass over a page: what a fan sees, findings inside and outside `.post-body`, and
    the shape outside."""

    def __init__(self) -> None:
        super().__init__()
        self.body_findings: list[str] = []
        self.page_findings: list[str] = []
        self.shape: list[str] = []
        self.post_bodies = 0
        self._stack: list[tuple[str, bool]] = []  # (tag, whether it opened a post body)
        self._body_depth = 0

    # html.parser calls these for <tag ...> and <tag .../>
    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        super().handle_starttag(tag, attrs)
        self._element(tag, attrs)
        if tag not in VOID_ELEMENTS:
            opens_body = "post-body" in _classes(attrs)
            self._stack.append((tag, opens_body))
            if opens_body:
                self._body_depth += 1
                self.post_bodies += 1

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        super().handle_starttag(tag, attrs)
        self._element(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        super().handle_endtag(tag)
        # Close up to the matching element (browsers close unclosed children the same way).
        for index in range(len(self._stack) - 1, -1, -1):
            if self._stack[index][0] == tag:
                for _tag, opened in self._stack[index:]:
                    self._body_depth -= opened
                del self._stack[index:]
                return

    def handle_data(self, data: str) -> None:
        super().handle_data(data)
        if self._stack and self._stack[-1][0] == "script" and data.strip():
            where = self.body_findings if self._body_depth else self.page_findings
            where.append(f"inline script: {data.strip()[:60]!r}")

    def handle_comment(self, data: str) -> None:
        if self._body_depth:
            self.body_findings.append(f"comment: <!--{data[:40]}-->")

    def _element(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        described = " ".join(f"{k}={v!r}" for k, v in attrs)[:120]
        if self._body_depth:
            # Numbered from 0 in page order, so a finding can be traced to its post.
            where = f"post-body #{self.post_bodies - 1} <{tag} {described}>"
            self._check_body_element(tag, attrs, where)
        else:
            self.shape.append(f"{tag}[{','.join(sorted(k for k, _v in attrs))}]")
            self._check_page_element(tag, attrs, f"<{tag} {described}>")

    def _check_body_element(
        self, tag: str, attrs: list[tuple[str, str | None]], where: str
    ) -> None:
        found = self.body_findings
        values = dict(attrs)
        # The one input a post body may hold: a spoiler's checkbox (it submits nothing: it
        # has no name and sits in no form).
        spoiler_toggle = (
            tag == "input"
            and values.get("class") == "spoiler-toggle"
            and values.get("type") == "checkbox"
            and "name" not in values
        )
        if tag in DANGEROUS_TAGS and not spoiler_toggle:
            found.append(f"dangerous element {where}")
        elif tag not in MARKDOWN_TAGS:
            found.append(f"element Markdown never makes {where}")
        for name, value in attrs:
            if name.startswith("on"):
                found.append(f"event handler {name} in {where}")
            elif name == "style":
                found.append(f"style attribute in {where}")
            elif name == "srcdoc":
                found.append(f"srcdoc in {where}")
            elif name == "class":
                if value not in BODY_CLASSES.get(tag, ()):
                    found.append(f"class other than a cell alignment or spoiler in {where}")
            elif name in SPOILER_ATTRIBUTES:
                if tag not in SPOILER_ATTRIBUTES[name]:
                    found.append(f"attribute {name} off a spoiler element in {where}")
                elif name == "type" and value != "checkbox":
                    found.append(f"input type other than checkbox in {where}")
                elif name == "data-episode" and not EPISODE_CODE.fullmatch(value or ""):
                    found.append(f"data-episode that is no episode code in {where}")
            elif name not in MARKDOWN_ATTRIBUTES:
                found.append(f"attribute {name} Markdown never makes in {where}")
            if name in URL_ATTRIBUTES and value and dangerous_url(value):
                found.append(f"dangerous URL in {where}")

    def _check_page_element(
        self, tag: str, attrs: list[tuple[str, str | None]], where: str
    ) -> None:
        found = self.page_findings
        values = dict(attrs)
        if tag == "script" and not (values.get("src") or "").startswith("/static/"):
            found.append(f"script not from /static/: {where}")
        if tag in {
            "iframe",
            "frame",
            "frameset",
            "object",
            "embed",
            "applet",
            "base",
            "math",
            "style",
            "template",
            "noscript",
            "portal",
        }:
            found.append(f"element no template uses: {where}")
        if tag == "meta" and (values.get("http-equiv") or "").lower() == "refresh":
            found.append(f"meta refresh: {where}")
        for name, value in attrs:
            if name.startswith("on"):
                found.append(f"event handler {name} in {where}")
            elif name in {"style", "srcdoc", "formaction"}:
                found.append(f"{name} attribute in {where}")
            if name in URL_ATTRIBUTES and value and dangerous_url(value):
                found.append(f"dangerous URL in {where}")


@dataclass(frozen=True)
class PageScan:
    body_findings: list[str]
    page_findings: list[str]
    shape: list[str]
    post_bodies: int
    seen: TextAndFields  # what a fan sees of the page, from the same parse

    @property
    def findings(self) -> list[str]:
        return self.body_findings + self.page_findings


def scan(page: str, *, fragment_is_post_body: bool = False) -> PageScan:
    """Scan a whole page, or (for the preview endpoint) a fragment that is one post body."""
    if fragment_is_post_body:
        page = f'<div class="post-body">{page}</div>'
    parser = _Scan()
    parser.feed(page)
    parser.close()
    return PageScan(
        parser.body_findings, parser.page_findings, parser.shape, parser.post_bodies, parser
    )


def textarea_value(raw: str) -> str:
    """The value a browser gives a textarea: one leading newline is dropped (the HTML parser
    keeps it; WTForms writes one)."""
    return raw.removeprefix("\r\n").removeprefix("\n")


class _UserChip(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.href: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a" and "user-chip" in _classes(attrs) and self.href is None:
            self.href = dict(attrs).get("href") or ""


def signed_in_as(page: str) -> str | None:
    """The username in the page header's account chip (a link to /u/<name>), or None for a
    visitor."""
    chip = _UserChip()
    chip.feed(page)
    if chip.href is None:
        return None
    return unquote(chip.href.rsplit("/", 1)[-1])


class _HeadTags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.meta: dict[str, list[str]] = {}
        self.links: list[dict[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "meta" and ("property" in values or "name" in values):
            name = values.get("property") or values.get("name") or ""
            self.meta.setdefault(name, []).append(values.get("content", ""))
        elif tag == "link":
            self.links.append(values)


@dataclass(frozen=True)
class HeadTags:
    """A page's <meta property/name> contents by name (a list each: a tag printed twice is a
    bug the caller can see) and its <link> elements' attributes, as a link previewer reads
    them (character references decoded)."""

    meta: dict[str, list[str]]
    links: list[dict[str, str]]

    def one(self, name: str) -> str | None:
        """The content of the one meta tag called `name`; None when there is none."""
        found = self.meta.get(name, [])
        assert len(found) <= 1, f"{name} printed {len(found)} times"
        return found[0] if found else None

    def link(self, rel: str, type_: str | None = None) -> dict[str, str] | None:
        found = [
            link
            for link in self.links
            if link.get("rel") == rel and (type_ is None or link.get("type") == type_)
        ]
        assert len(found) <= 1, f"{len(found)} <link rel={rel}>"
        return found[0] if found else None


def head_tags(page: str) -> HeadTags:
    """The link-preview tags of a page (OpenGraph, Twitter, canonical, feed links)."""
    parser = _HeadTags()
    parser.feed(page)
    parser.close()
    return HeadTags(parser.meta, parser.links)
