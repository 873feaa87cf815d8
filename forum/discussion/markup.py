"""The one place where user text becomes HTML.

A post body goes through :func:`render` when it is written and the result is stored. Templates
autoescape everything; the only way to show stored HTML unescaped is :func:`as_markup`. With
both halves here, "can user input reach a page as markup?" has one reviewable answer: only via
Markdown rendering *and* allowlist sanitising in this module, or as text escaped here. No other
module may build ``markupsafe.Markup`` from user-controlled data (no ``|safe``, no
``Markup(...)``).

Pipeline: markdown-it-py (CommonMark, no raw HTML, nesting capped, ``>!spoilers!<``) -> bleach
allowlist -> a filter forcing ``rel`` on links and allowing only http(s) images. Bump
RENDER_VERSION whenever a rule changes, so stored posts get re-rendered. The spoiler syntax's
rules live in forum/discussion/spoiler_markup.py and are registered here.

Rendering is bounded, because previews render whatever a member sends (up to 50,000
characters) on a web worker: only the part of a post that fits MARKDOWN_BUDGET goes through
Markdown and bleach, and the rest becomes escaped paragraphs (see :func:`markdown_length`).
Tables, links and emphasis have their own caps below. Nothing is ever dropped: past a bound
the text is shown as written.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from html import unescape
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from bleach.sanitizer import Cleaner
from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from markdown_it.rules_inline import StateInline
from markdown_it.rules_inline.autolink import autolink as _stock_autolink
from markdown_it.rules_inline.linkify import linkify as _stock_linkify
from markdown_it.token import Token
from markupsafe import Markup

from forum.discussion import markup_bounds as bounds
from forum.discussion import spoiler_html, spoiler_markup

if TYPE_CHECKING:
    # bleach re-exports its vendored html5lib's Filter and getTreeWalker at run time, but
    # types-bleach types them only under html5lib's own name (which isn't installed).
    from html5lib.filters.base import Filter
    from html5lib.treewalkers import getTreeWalker
else:
    from bleach.html5lib_shim import Filter, getTreeWalker

# 2: table alignment as a class; no links past MAX_LINK_BRACKETS. 3: Markdown only within
# markup_bounds.MARKDOWN_BUDGET (the rest as escaped paragraphs), tables end at
# MAX_TABLE_CELLS, at most MAX_LINKS bare URLs become links. 4: >!spoilers!< and >!S1E8: episode
# spoilers!< as a checkbox in a label (forum/discussion/spoiler_html.py withholds them).
# 5: a spoiler inside an image's description is dropped (alt text can't hide it).
# 6: @name links to the member's profile (class="mention") when the name is an account's.
RENDER_VERSION: int = 6

# Deeper quotes/lists are cut off (content dropped) by markdown-it, emphasis by _cap_inline_nesting
MAX_NESTING = 20
LINK_REL = "nofollow ugc noopener"
IMAGE_SCHEMES = ("http://", "https://")
ALLOWED_TAGS = frozenset(
    {"p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "del", "s", "code",
     "pre", "blockquote", "ul", "ol", "li", "a", "img", "table", "thead", "tbody", "tr", "th",
     "td", "label", "input", "span"}
)  # fmt: skip
TABLE_ALIGNMENTS = ("left", "center", "right")
ALIGNMENT_CLASSES = frozenset(f"align-{side}" for side in TABLE_ALIGNMENTS)


MENTION_CLASS = "mention"


def _allowed_cell_attribute(_tag: str, name: str, value: str) -> bool:
    return name == "class" and value in ALIGNMENT_CLASSES


def _allowed_link_attribute(_tag: str, name: str, value: str) -> bool:
    # class only as a mention's: Markdown gives links no class, so only _link_mentions makes it.
    return name in ("href", "title", "rel") or (name == "class" and value == MENTION_CLASS)


ALLOWED_ATTRIBUTES: dict[str, list[str] | Callable[[str, str, str], bool]] = {
    "a": _allowed_link_attribute,
    "img": ["src", "alt", "title", "loading", "referrerpolicy"],
    "th": _allowed_cell_attribute,  # class="align-left|center|right" only
    "td": _allowed_cell_attribute,
    "ol": ["start"],
    "label": spoiler_markup.allowed_attribute,  # the spoiler format's attributes only
    "input": spoiler_markup.allowed_attribute,
    "span": spoiler_markup.allowed_attribute,
}
ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto"})


def _cap_inline_nesting(state: StateCore) -> None:
    """maxNesting bounds blocks, but emphasis is paired after tokenizing and can nest thousands
    deep (``*****...a...*****``). Drop the formatting tags below MAX_NESTING, keep the text."""
    for block in state.tokens:
        if block.type != "inline" or not block.children:
            continue
        kept: list[Token] = []
        depth = 0  # tags open around the current token; markdown-it nests them properly
        for token in block.children:
            depth -= token.nesting == -1
            # A spoiler's tags stay at any depth: without them its text would show.
            if (
                token.nesting == 0
                or depth < MAX_NESTING
                or token.type in spoiler_markup.TOKEN_TYPES
            ):
                kept.append(token)
            depth += token.nesting == 1
        block.children = kept


def _linkify(state: StateInline, silent: bool) -> bool:
    """markdown-it-py's linkify lacks upstream's guard against matches that do not advance, so
    ``e.com[//x.p://`` raised RuntimeError. A silent probe only moves state.pos: try it first.
    A link made here is spent from the render's allowance (markup_bounds.MAX_LINKS); once it
    is gone the stock rule is not even asked, as its scheme search rescans the paragraph's
    pending text at every ':' (quadratic in a long paragraph)."""
    if bounds.links_left() <= 0:
        return False
    start = state.pos
    probe = _stock_linkify(state, True)
    advanced, state.pos = state.pos > start, start
    made = probe and advanced and _stock_linkify(state, silent)
    if made and not silent:
        bounds.spend_link()
    return made


def _autolink(state: StateInline, silent: bool) -> bool:
    """``<http://...>`` links, spent from the same allowance as bare URLs."""
    if bounds.links_left() <= 0:
        return False
    made = _stock_autolink(state, silent)
    if made and not silent:
        bounds.spend_link()
    return made


def _alignment_as_class(state: StateCore) -> None:
    """markdown-it aligns table columns with style="text-align:..."; the CSP blocks inline
    styles (and post bodies carry none), so the alignment becomes a class the CSS knows."""
    for token in state.tokens:
        if token.type in ("th_open", "td_open") and "style" in token.attrs:
            side = str(token.attrs.pop("style")).removeprefix("text-align:")
            if side in TABLE_ALIGNMENTS:
                token.attrs["class"] = f"align-{side}"


def _markdown(links: bool) -> MarkdownIt:
    md = MarkdownIt(
        "commonmark",
        {"html": False, "linkify": True, "typographer": False, "maxNesting": MAX_NESTING},
    ).enable(["table", "strikethrough", "linkify"])
    md.linkify = bounds.CappedLinkify(md.linkify)
    md.block.ruler.at("table", bounds.bounded_table, {"alt": ["paragraph", "reference"]})
    md.inline.ruler.at("linkify", _linkify)
    md.inline.ruler.at("autolink", _autolink)
    # Spoilers (spoiler_markup): an inline rule, quotes that yield to a spoiler at a line start,
    # and the stored format from spoiler_html.
    md.inline.ruler.before("emphasis", "spoiler", spoiler_markup.inline_rule)
    md.block.ruler.at(
        "blockquote",
        spoiler_markup.blockquote_unless_spoiler,
        {"alt": ["paragraph", "reference", "blockquote", "list"]},
    )
    md.add_render_rule("spoiler_open", spoiler_markup.render_open)
    md.add_render_rule("spoiler_close", spoiler_markup.render_close)
    md.core.ruler.push("spoilers_out_of_image_text", spoiler_markup.out_of_image_text)
    md.core.ruler.push("cap_inline_nesting", _cap_inline_nesting)
    md.core.ruler.push("alignment_as_class", _alignment_as_class)
    if not links:
        md.disable(["link", "image"])
    return md


_md = _markdown(links=True)
# Every "[" may open a link label, which markdown-it scans to its end: the work grows with
# brackets x the text after them (8,000 "![" took 0.35 s, ten times 16,000 characters of prose).
# Past MAX_LINK_BRACKETS a post is rendered with its brackets as text; bare URLs still link.
MAX_LINK_BRACKETS = 100
_md_without_links = _markdown(links=False)


class _LinkImageFilter(Filter):
    """Runs after bleach's sanitiser: sets ``rel`` on links, unwraps links that lost their href,
    replaces images without an absolute http(s) ``src`` by their alt text."""

    def __iter__(self) -> Iterator[dict[str, Any]]:
        kept_links: list[bool] = []
        for token in super().__iter__():
            kind, name, attrs = token["type"], token.get("name"), token.get("data")
            if name == "a" and kind == "StartTag":
                kept_links.append((None, "href") in attrs)
                if not kept_links[-1]:
                    continue
                attrs[(None, "rel")] = LINK_REL
            elif name == "a" and kind == "EndTag" and kept_links and not kept_links.pop():
                continue
            elif name == "img" and kind in ("StartTag", "EmptyTag"):
                if not attrs.get((None, "src"), "").lower().startswith(IMAGE_SCHEMES):
                    if attrs.get((None, "alt")):  # bleach keeps entities in values; unescape
                        yield {"type": "Characters", "data": unescape(attrs[(None, "alt")])}
                    continue
                attrs[(None, "loading")] = "lazy"
                attrs[(None, "referrerpolicy")] = "no-referrer"
            yield token


class _Walker(getTreeWalker("etree")):  # type: ignore[misc]
    """bleach's etree walker climbs back to a parent with list.index over its siblings, which
    is quadratic (a 12,000-row table took 10 s). Same walk, positions indexed once per parent."""

    def __init__(self, tree: Any) -> None:
        super().__init__(tree)
        self._positions: dict[int, dict[int, int]] = {}  # id(element) -> {id(child): index}

    def getParentNode(self, node: Any) -> Any:
        if not isinstance(node, tuple) or node[3] == "text" or len(node[2]) < 2:
            return super().getParentNode(node)
        parents = node[2]
        parent, grandparent = parents.pop(), parents[-1]
        if id(grandparent) not in self._positions:
            self._positions[id(grandparent)] = {id(c): i for i, c in enumerate(grandparent)}
        return parent, self._positions[id(grandparent)][id(parent)], parents, None


_cleaners = threading.local()


def _cleaner() -> Cleaner:
    """This thread's Cleaner: building one costs about as much as cleaning a short post, and
    bleach Cleaners are not thread-safe, so each thread keeps its own."""
    cleaner = getattr(_cleaners, "cleaner", None)
    if cleaner is None:
        cleaner = Cleaner(
            tags=ALLOWED_TAGS,
            attributes=ALLOWED_ATTRIBUTES,
            protocols=ALLOWED_PROTOCOLS,
            strip=True,
            strip_comments=True,
            filters=[_LinkImageFilter],
        )
        # clean() walks the parsed tree with this class; types-bleach declares `walker` as an
        # instance, though bleach itself sets a class there too.
        cleaner.walker = _Walker  # type: ignore[assignment]
        _cleaners.cleaner = cleaner
    return cleaner


def _sanitize(html: str) -> str:
    # Disallowed tags are stripped (text kept, escaped), disallowed attributes and URLs dropped.
    return str(_cleaner().clean(html))


@dataclass(frozen=True)
class Rendering:
    """A rendered post, and how much work went into it (tests bound these numbers)."""

    html: str
    markdown_chars: int  # characters of the source that went through Markdown
    tokens: int  # what markdown-it produced for them, nested tokens included
    sanitized_chars: int  # the HTML bleach parsed ...
    sanitized_tags: int  # ... the tags in it (html5lib's work is per tag and per entity) ...
    sanitized_entities: int  # ... and its entities


@dataclass(frozen=True, slots=True)
class Rendered:
    """A post's HTML, ready to store, and what its Markdown refers to. Found in the text that
    went through Markdown, never inside code or a link's address; the features that act on
    them (notifications, quote links, spoiler masks) resolve them when the post is saved."""

    html: str
    # @name as typed, in order of first appearance, each once: those a notification may go
    # to, so none inside a quote (the quoted author wrote it; the quote notifies them) or a
    # spoiler (a notification would give away what it hides). Not resolved to accounts: a
    # name may be nobody's, and the caller compares by identity key (forum/platform/text.py).
    mentions: tuple[str, ...] = ()
    # The posts it quotes: a link to a post's permalink (/p/<id>) inside a blockquote, which
    # is what a quote-reply writes, in order of first appearance, each once.
    quoted_post_ids: tuple[int, ...] = ()
    # The episodes its `>!S1E8: ...!<` spoilers are about, as episode_codes keys.
    spoiler_codes: frozenset[int] = frozenset()


# Maps @names as typed to the usernames of the accounts they name, leaving out names that are
# nobody's (forum/conversation/mentions.py's resolver_for: one query for all of them).
MentionResolver = Callable[[Sequence[str]], Mapping[str, str]]
# A post names at most this many members for the resolver to look up (the notifications take
# the first ten); later names stay text.
MAX_RESOLVED_MENTIONS = 100


def render(
    source: str,
    mention_resolver: MentionResolver | None = None,
    withheld_quotes: Collection[int] = (),
) -> Rendered:
    """Turn a post's Markdown source into sanitised HTML, ready to store, with what it found.
    With `mention_resolver`, each @name that is a member's becomes a link to their profile
    (as it is when the post is saved: `flask posts rerender` resolves again). A quote of one of
    the posts in `withheld_quotes` (hidden, deleted, in a hidden thread) keeps only
    WITHHELD_QUOTE: the stored HTML is public, and the quote is a copy of text its readers may
    no longer see (forum/discussion/quote_copies.py re-renders the copies when that changes).
    `quoted_post_ids` still names them. Called where text is saved
    (forum/discussion/posting.py, quote_copies.py), by `flask posts rerender`, and through
    :func:`preview`; nowhere else."""
    return _render(source, mention_resolver, withheld_quotes)[0]


def preview(source: str, mention_resolver: MentionResolver | None = None) -> str:
    """What `source` will look like once posted: the HTML render() would store."""
    return _render(source, mention_resolver)[0].html


def rendering(source: str) -> Rendering:
    """:func:`render`, with its work counted. The part of `source` past markup_bounds'
    budget becomes escaped paragraphs, after the sanitised Markdown of the part before."""
    return _render(source, None)[1]


def _render(
    source: str, resolver: MentionResolver | None, withheld: Collection[int] = ()
) -> tuple[Rendered, Rendering]:
    cut = spoiler_markup.cut_outside_spoiler(source, bounds.markdown_length(source))
    head, tail = source[:cut], source[cut:]
    md = _md if head.count("[") <= MAX_LINK_BRACKETS else _md_without_links
    with bounds.allowance():
        tokens = md.parse(head)
        found = _references(tokens)
        if withheld and found.quoted and _withhold_quotes(tokens, set(withheld), head):
            # A withheld quote was still open where Markdown stopped: the plain text after the
            # cut goes on with it, up to its first blank line.
            tail = _after_first_paragraph(tail)
        if resolver is not None and found.linkable:
            members = resolver(found.linkable[:MAX_RESOLVED_MENTIONS])
            if members:
                _link_mentions(tokens, members)
        html = md.renderer.render(tokens, md.options, {})
    token_count = sum(1 + len(token.children or ()) for token in tokens)
    # Past the budget a quote is plain text, but still a copy of the post it credits.
    quoted = dict.fromkeys(found.quoted)
    quoted.update(dict.fromkeys(_plain_quoted_ids(tail)))
    stored = _sanitize(html) + _plain_paragraphs(tail, withheld)
    spoilers = spoiler_html.spoiler_keys(stored)
    return (
        Rendered(
            html=stored,
            mentions=found.mentions,
            quoted_post_ids=tuple(quoted),
            spoiler_codes=spoilers,
        ),
        Rendering(
            html=stored,
            markdown_chars=cut,
            tokens=token_count,
            sanitized_chars=len(html),
            sanitized_tags=html.count("<"),
            sanitized_entities=html.count("&"),
        ),
    )


# Not after a letter, digit or @ (an email address, @@x), and not cut out of a longer word.
_MENTION = re.compile(r"(?<![\w@])@([\w-]{2,30})(?![\w-])")
_PERMALINK = re.compile(r"^/p/([1-9][0-9]{0,9})/?$")


@dataclass(frozen=True, slots=True)
class _References:
    mentions: tuple[str, ...]  # outside quotes, code and spoilers: Rendered.mentions
    linkable: tuple[str, ...]  # outside code, spoilers and link texts, quotes included
    quoted: tuple[int, ...]


def _mentionable(block: Token) -> Iterator[tuple[Token, bool]]:
    """The text tokens of an inline block where an @name may be (outside spoilers), each with
    whether it is inside a link's text (shown as written: a link can't hold another)."""
    in_spoiler = False  # spoilers don't nest
    links = 0
    for token in block.children or ():
        if token.type in spoiler_markup.TOKEN_TYPES:
            in_spoiler = token.type == "spoiler_open"
        elif token.type == "link_open":
            links += 1
        elif token.type == "link_close":
            links -= 1
        elif token.type == "text" and "@" in token.content and not in_spoiler:
            yield token, links > 0


def _references(tokens: list[Token]) -> _References:
    """The @names in plain text outside spoilers and the permalinks inside blockquotes, from the
    parsed tokens: one pass over what Markdown already produced, so code spans and blocks (their
    own token types) and link addresses (attributes, not text) are skipped for free. A mention
    inside a spoiler stays text and notifies nobody (either would give away what it hides); one
    inside a quote is linked but notifies nobody (the quoted author wrote it)."""
    mentions: dict[str, None] = {}
    linkable: dict[str, None] = {}
    quoted: dict[int, None] = {}
    quote_depth = 0
    for block in tokens:
        quote_depth += block.type == "blockquote_open"
        quote_depth -= block.type == "blockquote_close"
        for token, in_link in _mentionable(block):
            names = _MENTION.findall(token.content)
            if not quote_depth:
                mentions.update(dict.fromkeys(names))
            if not in_link:
                linkable.update(dict.fromkeys(names))
        if quote_depth:
            for token in block.children or ():
                if token.type == "link_open":
                    found = _PERMALINK.match(str(token.attrs.get("href", "")))
                    if found:
                        quoted[int(found.group(1))] = None
    return _References(tuple(mentions), tuple(linkable), tuple(quoted))


WITHHELD_QUOTE = "The quoted post is no longer available."


def _quoted_id(block: Token) -> Iterator[int]:
    """The posts an inline block's links point to by permalink."""
    for token in block.children or ():
        if token.type == "link_open":
            found = _PERMALINK.match(str(token.attrs.get("href", "")))
            if found:
                yield int(found.group(1))


def _withhold_quotes(tokens: list[Token], withheld: set[int], head: str) -> bool:
    """Empty every blockquote that credits a post in `withheld` (a permalink in its own text,
    outside the quotes nested in it: wherever _references found it, so every withheld id of
    quoted_post_ids loses its quote), nested quotes and all, leaving WITHHELD_QUOTE as its one
    paragraph. Whatever was inside goes, typed or copied: the attribution says it is that
    post's text. True when one of them reached the end of `head` (the Markdown part)."""
    closing: dict[int, int] = {}  # blockquote_open index -> its blockquote_close index
    owners: list[int] = []  # the blockquotes open at this token, innermost last
    marked: set[int] = set()
    for index, token in enumerate(tokens):
        if token.type == "blockquote_open":
            owners.append(index)
        elif token.type == "blockquote_close" and owners:
            closing[owners.pop()] = index
        elif token.type == "inline" and owners and not withheld.isdisjoint(_quoted_id(token)):
            marked.add(owners[-1])
    if not marked:
        return False
    # markdown-it counts \r and \r\n as line ends too: counting \n alone errs towards
    # "reached the end", which withholds more, never less.
    last_line = head.count("\n")
    kept: list[Token] = []
    reached_end = False
    index = 0
    while index < len(tokens):
        token = tokens[index]
        kept.append(token)
        if index in marked:
            reached_end |= token.map is not None and token.map[1] >= last_line
            kept += _placeholder(token.level + 1)
            index = closing[index]  # the close is kept; nested marked quotes went with it
            continue
        index += 1
    tokens[:] = kept
    return reached_end


def _placeholder(level: int) -> list[Token]:
    opening = Token("paragraph_open", "p", 1, level=level, block=True)
    text = Token("inline", "", 0, content=WITHHELD_QUOTE, level=level + 1, block=True)
    text.children = [_text(WITHHELD_QUOTE, 0)]
    return [opening, text, Token("paragraph_close", "p", -1, level=level, block=True)]


def _after_first_paragraph(text: str) -> str:
    """`text` from its first blank line on (a blockquote's lines, lazy ones too, end there)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    found = _BLANK_LINE.search(text)
    return text[found.end() :] if found else ""


def profile_path(username: str) -> str:
    """A member's profile (forum/views/users.py's /u/<username>), without Flask: markup runs
    in jobs and the CLI too."""
    return "/u/" + quote(username, safe="")


def _link_mentions(tokens: list[Token], members: Mapping[str, str]) -> None:
    """Each @name in `members` (as typed -> username) becomes a link to that member's profile,
    its text as typed: the same text tokens _references read, split around the names."""
    for block in tokens:
        if block.type != "inline" or not block.children:
            continue
        targets = {id(token) for token, in_link in _mentionable(block) if not in_link}
        if not targets:
            continue
        children: list[Token] = []
        for token in block.children:
            if id(token) in targets:
                children.extend(_split_mentions(token, members))
            else:
                children.append(token)
        block.children = children


def _split_mentions(token: Token, members: Mapping[str, str]) -> list[Token]:
    pieces: list[Token] = []
    done = 0
    for found in _MENTION.finditer(token.content):
        username = members.get(found.group(1))
        if username is None:
            continue
        if found.start() > done:
            pieces.append(_text(token.content[done : found.start()], token.level))
        opening = Token("link_open", "a", 1, level=token.level)
        opening.attrs = {"href": profile_path(username), "class": MENTION_CLASS}
        pieces += [
            opening,
            _text(found.group(), token.level + 1),
            Token("link_close", "a", -1, level=token.level),
        ]
        done = found.end()
    if not pieces:
        return [token]
    if done < len(token.content):
        pieces.append(_text(token.content[done:], token.level))
    return pieces


def _text(content: str, level: int) -> Token:
    return Token("text", "", 0, content=content, level=level)


def without_quotes(source: str) -> str:
    """`source` without the lines of its blockquotes, for a quote of it (forum/conversation/
    quoting.py): as on Discourse, quoting a post doesn't quote what it quoted. Parsed as
    :func:`render` parses it, so a spoiler line (`>!x!<`) is not taken for a quote; past the
    Markdown budget (plain text when rendered) nothing is a quote."""
    # Line numbers as markdown-it counts them: it reads \r\n and a lone \r as \n too.
    source = source.replace("\r\n", "\n").replace("\r", "\n")
    cut = spoiler_markup.cut_outside_spoiler(source, bounds.markdown_length(source))
    head = source[:cut]
    md = _md if head.count("[") <= MAX_LINK_BRACKETS else _md_without_links
    with bounds.allowance():
        tokens = md.parse(head)
    dropped: set[int] = set()
    depth = 0
    for token in tokens:
        if token.type == "blockquote_open" and depth == 0 and token.map:
            dropped.update(range(*token.map))
        depth += token.type == "blockquote_open"
        depth -= token.type == "blockquote_close"
    if not dropped:
        return source
    lines = head.split("\n")
    return "\n".join(line for n, line in enumerate(lines) if n not in dropped) + source[cut:]


_BLANK_LINES = re.compile(r"\n[ \t]*\n\s*")
_BLANK_LINE = re.compile(r"(?:^|\n)[ \t]*(?:\n|$)")


# Plain text that reads as a quote: a line starting as a blockquote does (not a `>!spoiler`);
# as in Markdown it may interrupt a paragraph, and the paragraph's later lines go on with it.
_PLAIN_QUOTE = re.compile(r"^ {0,3}>(?!!)", re.MULTILINE)
_PLAIN_PERMALINK = re.compile(r"\]\(/p/([1-9][0-9]{0,9})/?\)")


def _paragraphs(text: str) -> list[str]:
    """Text past the Markdown budget, split at blank lines. Whole-string operations only: this
    part may be long."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\0", "\ufffd").strip()
    return _BLANK_LINES.split(text) if text else []


def _plain_quote(part: str) -> tuple[str, tuple[int, ...]]:
    """A paragraph of plain text as (what comes before its quote, the posts the quote credits
    by permalink); a paragraph without a quote is all before."""
    found = _PLAIN_QUOTE.search(part)
    if found is None:
        return part, ()
    quote = part[found.start() :]
    return part[: found.start()], tuple(int(i) for i in _PLAIN_PERMALINK.findall(quote))


def _plain_quoted_ids(text: str) -> Iterator[int]:
    """The posts the quotes in plain `text` credit: past the budget a quote is plain text,
    still a copy of the post it credits."""
    for part in _paragraphs(text):
        yield from _plain_quote(part)[1]


def _plain_paragraphs(text: str, withheld: Collection[int] = ()) -> str:
    """Text past the Markdown budget, as written: escaped (it never reaches bleach, so no tag
    can come from it), blank lines between paragraphs, line breaks kept so lists and tables
    still read as they were typed. A quote of a withheld post keeps only WITHHELD_QUOTE, as
    in the Markdown part."""
    withheld = set(withheld)
    html: list[str] = []
    for part in _paragraphs(text):
        before, credited = _plain_quote(part) if withheld else (part, ())
        if withheld.isdisjoint(credited):
            html.append(_plain_paragraph(part))
            continue
        if before.strip():
            html.append(_plain_paragraph(before.rstrip("\n")))
        html.append(f"<blockquote>\n<p>{WITHHELD_QUOTE}</p>\n</blockquote>\n")
    return "".join(html)


def _plain_paragraph(text: str) -> str:
    return "<p>" + spoiler_markup.escape_with_spoilers(text).replace("\n", "<br>\n") + "</p>\n"


def as_markup(html: str) -> Markup:
    """Wrap stored post HTML for templates. ``html`` MUST be a value returned by :func:`render`
    (normally read back from the database); anything else bypasses sanitising: an XSS hole."""
    return Markup(html)
