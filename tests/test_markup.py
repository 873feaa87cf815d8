"""forum.discussion.markup pinned byte for byte: any change to these outputs needs a RENDER_VERSION
bump."""

from __future__ import annotations

import re
from html import unescape
from html.parser import HTMLParser

import pytest
from bleach.html5lib_shim import getTreeWalker
from bleach.sanitizer import Cleaner
from markupsafe import Markup

from forum.discussion import markup
from forum.discussion.markup import MAX_NESTING, RENDER_VERSION, as_markup


def render(source: str) -> str:
    """The HTML markup.render stores for `source`: what these tests pin."""
    return markup.render(source).html


REL = 'rel="nofollow ugc noopener"'
IMG = 'loading="lazy" referrerpolicy="no-referrer"'


def test_render_version_counts_rule_changes() -> None:
    # 2: table alignment as a class, and posts past MAX_LINK_BRACKETS render without links.
    # 3: Markdown only within the budget (tests/test_markup_bounds.py), the rest plain text.
    # 4: >!spoilers!< (tests/test_spoiler_markup.py). 5: no spoiler in an image's alt text.
    # 6: @mentions of members link to their profiles (tests/test_mentions.py).
    # Bump it with every rule change; `flask posts rerender` brings stored posts up to date.
    assert RENDER_VERSION == 6


def test_render_returns_plain_str_and_as_markup_wraps_it() -> None:
    html = render("*hi* <b>")
    assert type(html) is str
    assert html == "<p><em>hi</em> &lt;b&gt;</p>\n"
    wrapped = as_markup(html)
    assert isinstance(wrapped, Markup)
    assert str(wrapped) == html
    assert Markup("<div>{}</div>").format(wrapped) == f"<div>{html}</div>"


def test_empty_source() -> None:
    assert render("") == ""


FORMATTING = [
    (
        "*em* **strong** _u_ __uu__ `code`",
        "<p><em>em</em> <strong>strong</strong> <em>u</em> <strong>uu</strong>"
        " <code>code</code></p>\n",
    ),
    (  # the language class is not in the allowlist, so it is dropped
        '```python\nif a < b:\n    print("&")\n```',
        "<pre><code>if a &lt; b:\n    print(&quot;&amp;&quot;)\n</code></pre>\n",
    ),
    ("    indented <code>", "<pre><code>indented &lt;code&gt;\n</code></pre>\n"),
    (
        "| Show | Rating | Notes |\n|:-----|------:|:-----:|\n| Lost | 9 | *twist* |",
        "<table>\n<thead>\n<tr>\n"
        '<th class="align-left">Show</th>\n'
        '<th class="align-right">Rating</th>\n'
        '<th class="align-center">Notes</th>\n'
        "</tr>\n</thead>\n<tbody>\n<tr>\n"
        '<td class="align-left">Lost</td>\n'
        '<td class="align-right">9</td>\n'
        '<td class="align-center"><em>twist</em></td>\n'
        "</tr>\n</tbody>\n</table>\n",
    ),
    ("~~spoiler~~", "<p><s>spoiler</s></p>\n"),
    (
        "see https://example.com/ep?id=1&s=2 now",
        f'<p>see <a href="https://example.com/ep?id=1&amp;s=2" {REL}>'
        "https://example.com/ep?id=1&amp;s=2</a> now</p>\n",
    ),
    (
        "see www.example.com",
        f'<p>see <a href="http://www.example.com" {REL}>www.example.com</a></p>\n',
    ),
    ("<http://e.com>", f'<p><a href="http://e.com" {REL}>http://e.com</a></p>\n'),
    ("a@b.co", f'<p><a href="mailto:a@b.co" {REL}>a@b.co</a></p>\n'),
    (
        '[Episode guide](https://example.com/guide "Guide")',
        f'<p><a href="https://example.com/guide" title="Guide" {REL}>Episode guide</a></p>\n',
    ),
    (
        '![Poster](https://img.example.com/p.png "The poster")',
        f'<p><img src="https://img.example.com/p.png" alt="Poster" title="The poster" {IMG}></p>\n',
    ),
    (
        "[![i](http://e.com/i.png)](http://e.com)",
        f'<p><a href="http://e.com" {REL}><img src="http://e.com/i.png" alt="i" {IMG}></a></p>\n',
    ),
    ("# Title\n\n## Sub\n\n###### six", "<h1>Title</h1>\n<h2>Sub</h2>\n<h6>six</h6>\n"),
    (
        "- one\n- two\n  - nested\n\n3. three\n4. four",
        "<ul>\n<li>one</li>\n<li>two\n<ul>\n<li>nested</li>\n</ul>\n</li>\n</ul>\n"
        '<ol start="3">\n<li>three</li>\n<li>four</li>\n</ol>\n',
    ),
    (
        "> quoted\n>\n> > inner",
        "<blockquote>\n<p>quoted</p>\n<blockquote>\n<p>inner</p>\n</blockquote>\n</blockquote>\n",
    ),
    ("line one  \nline two", "<p>line one<br>\nline two</p>\n"),
    ("a\n\n***\n\nb", "<p>a</p>\n<hr>\n<p>b</p>\n"),
]


@pytest.mark.parametrize(("source", "expected"), FORMATTING)
def test_formatting(source: str, expected: str) -> None:
    assert render(source) == expected


HOSTILE = [
    # Raw HTML is never passed through: it is shown as text.
    ("<script>alert(1)</script>", "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>\n"),
    ("<img src=x onerror=alert(1)>", "<p>&lt;img src=x onerror=alert(1)&gt;</p>\n"),
    (
        '<a href="javascript:alert(1)">x</a>',
        "<p>&lt;a href=&quot;javascript:alert(1)&quot;&gt;x&lt;/a&gt;</p>\n",
    ),
    ("<!-- c -->", "<p>&lt;!-- c --&gt;</p>\n"),
    # markdown-it's validateLink refuses these schemes: the link stays literal text.
    ("[click](javascript:alert(1))", "<p>[click](javascript:alert(1))</p>\n"),
    ("[x](JaVaScRiPt:alert(1))", "<p>[x](JaVaScRiPt:alert(1))</p>\n"),
    ("[x](&#106;avascript:alert(1))", "<p>[x](javascript:alert(1))</p>\n"),
    ("[x](javascript&colon;alert(1))", "<p>[x](javascript:alert(1))</p>\n"),
    ("[x]( javascript:alert(1))", "<p>[x]( javascript:alert(1))</p>\n"),
    ("[x](\tjavascript:alert(1))", "<p>[x](\tjavascript:alert(1))</p>\n"),
    ("[x](\njavascript:alert(1))", "<p>[x](\njavascript:alert(1))</p>\n"),
    ("[x](java\tscript:alert(1))", "<p>[x](java\tscript:alert(1))</p>\n"),
    ("[x](java\nscript:alert(1))", "<p>[x](java\nscript:alert(1))</p>\n"),
    ("[x](vbscript:msgbox)", "<p>[x](vbscript:msgbox)</p>\n"),
    (
        "[x](data:text/html;base64,PHNjcmlwdD4=)",
        "<p>[x](data:text/html;base64,PHNjcmlwdD4=)</p>\n",
    ),
    ("[x]: javascript:alert(1)\n\n[x]", "<p>[x]: javascript:alert(1)</p>\n<p>[x]</p>\n"),
    # Whitespace inside <...> is percent-encoded: a harmless relative URL, not a scheme.
    ("[x](<java script:alert(1)>)", f'<p><a href="java%20script:alert(1)" {REL}>x</a></p>\n'),
    # Schemes markdown-it lets through but bleach does not: the link is unwrapped to its text.
    ("[x](data:image/png;base64,AAAA)", "<p>x</p>\n"),
    ("[x](ftp://e.com/f)", "<p>x</p>\n"),
    # Images: only absolute http(s) sources; anything else becomes the alt text.
    ("![x](javascript:alert(1))", "<p>![x](javascript:alert(1))</p>\n"),
    (
        "![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
        "<p>![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)</p>\n",
    ),
    ("![x](data:image/png;base64,iVBORw0KGgo=)", "<p>x</p>\n"),
    ("![x](/relative.png)", "<p>x</p>\n"),
    ("![x](//evil.example/a.png)", "<p>x</p>\n"),
    ("![<script>](/x.png)", "<p>&lt;script&gt;</p>\n"),
    ("[![i](/i.png)](/x)", f'<p><a href="/x" {REL}>i</a></p>\n'),
    (
        '![a" onerror="alert(1)](http://example.com/a.png)',
        f'<p><img src="http://example.com/a.png" alt="a&quot; onerror=&quot;alert(1)" {IMG}></p>\n',
    ),
    (
        '![x](http://e.com/a.png "title\\" onload=\\"x")',
        f'<p><img src="http://e.com/a.png" alt="x" title="title&quot; onload=&quot;x" {IMG}></p>\n',
    ),
    ("![x](HTTPS://E.COM/A.PNG)", f'<p><img src="HTTPS://E.COM/A.PNG" alt="x" {IMG}></p>\n'),
    # Allowed link targets.
    ("[x](mailto:a@b.c)", f'<p><a href="mailto:a@b.c" {REL}>x</a></p>\n'),
    ("[x](/t/5)", f'<p><a href="/t/5" {REL}>x</a></p>\n'),
    # markdown-it-py's own linkify rule raised RuntimeError on this; markup._linkify guards it.
    (
        "e.com[//x.p://",
        f'<p><a href="http://e.com" {REL}>e.com</a>[<a href="//x.p" {REL}>//x.p</a>://</p>\n',
    ),
    # Template syntax is just text; nothing is ever evaluated.
    ("{{7*7}}", "<p>{{7*7}}</p>\n"),
    ("{% if 1 %}x{% endif %}", "<p>{% if 1 %}x{% endif %}</p>\n"),
    ("{% raw %}{{ x }}{% endraw %}", "<p>{% raw %}{{ x }}{% endraw %}</p>\n"),
]


@pytest.mark.parametrize(("source", "expected"), HOSTILE)
def test_hostile_input(source: str, expected: str) -> None:
    assert render(source) == expected


def test_sanitizer_strips_disallowed_tags_and_keeps_their_text() -> None:
    """markdown-it never emits these; pins what the bleach stage does if anything ever does."""
    dirty = (
        '<div onclick="x">a<script>alert(1)</script><b>b</b></div><!-- c -->'
        '<a href="javascript:alert(1)">x</a><img src="/x.png" alt="y">'
        '<img src="http://e.com/i.png" onerror="z">'
        '<table><tr><td style="text-align:right" class="align-left x">1</td>'
        '<td class="align-center">2</td></tr></table>'
        '<p style="text-align:right" class="align-right">p</p>'
    )
    assert markup._sanitize(dirty) == (
        f'aalert(1)bxy<img src="http://e.com/i.png" {IMG}>'
        '<table><tbody><tr><td>1</td><td class="align-center">2</td></tr></tbody></table>'
        "<p>p</p>"
    )


def test_quotes_nested_thousands_deep_are_capped() -> None:
    expected = (
        "<blockquote>\n" * (MAX_NESTING - 1)
        + "<blockquote></blockquote>\n"
        + "</blockquote>\n" * (MAX_NESTING - 1)
    )
    for depth in (500, 1000):  # within the Markdown budget: markdown-it drops the deep part
        assert render(">" * depth + " hi") == expected
    # Past the budget the rest of the line is text, so the quote markers show.
    html = render(">" * 5000 + " hi")
    assert html.startswith(expected)
    assert html.endswith("&gt;&gt;&gt; hi</p>\n")
    assert html.count("<blockquote>") == MAX_NESTING


def test_content_after_a_too_deep_block_survives() -> None:
    html = render("> " * 30 + "deep\n\nafter")
    assert html.count("<blockquote>") == MAX_NESTING
    assert html.endswith("</blockquote>\n<p>after</p>\n")


@pytest.mark.parametrize(
    "source",
    [
        "- " * 10_000 + "x",
        "1. " * 10_000 + "x",
        "> - " * 5000 + "x",
        "".join("  " * i + "- x\n" for i in range(300)),
    ],
)
def test_lists_nested_deep_are_capped(source: str) -> None:
    html = render(source)
    assert html.count("<ul>") + html.count("<ol>") + html.count("<blockquote>") <= MAX_NESTING


def test_emphasis_nested_deep_is_capped() -> None:
    html = render("*" * 1000 + "a" + "*" * 1000)
    assert html.count("<em>") + html.count("<strong>") == MAX_NESTING
    assert html.count("</em>") + html.count("</strong>") == MAX_NESTING
    assert ">a<" in html


@pytest.mark.parametrize("char", ["*", "_", "`", "~"])
def test_fifty_thousand_marker_characters(char: str) -> None:
    # A run this long is a rule or a fence in Markdown up to the budget; the rest is text.
    result = markup.rendering(char * 50_000)
    assert result.markdown_chars <= markup.bounds.MARKDOWN_BUDGET
    assert result.html.endswith("<p>" + char * (50_000 - result.markdown_chars) + "</p>\n")


def test_fifty_thousand_open_brackets() -> None:
    html = render("[" * 50_000)
    assert html.count("[") == 50_000
    assert html.startswith("<p>[[[") and html.endswith("[[[</p>\n")


def test_links_render_up_to_the_bracket_limit() -> None:
    filler = "[x] " * (markup.MAX_LINK_BRACKETS - 1)
    html = render(filler + "[the finale](https://example.com/s1e10)")
    assert '<a href="https://example.com/s1e10"' in html


def test_past_the_bracket_limit_brackets_are_text_and_bare_urls_still_link() -> None:
    filler = "[x] " * markup.MAX_LINK_BRACKETS
    source = filler + "[the finale](https://example.com/s1e10)\n\n```\nxs = [1, [2]]\n```"
    html = render(source)
    assert "[the finale](" in html  # the Markdown link is left as written ...
    assert '<a href="https://example.com/s1e10"' in html  # ... its bare URL still links
    assert "<pre><code>xs = [1, [2]]\n</code></pre>" in html  # code is untouched


@pytest.mark.parametrize("chunk", ["![", "<", "[a](", "*a _b "])
def test_long_runs_of_unclosed_syntax(chunk: str) -> None:
    html = render(chunk * (10_000 // len(chunk)))
    assert html.startswith("<p>")
    assert "<a" not in html and "<img" not in html


def test_a_long_table_renders() -> None:
    """Stock bleach needs quadratic time for many sibling rows; markup._Walker does not."""
    html = render("|a|\n|-|\n" + "|x|\n" * 300)
    assert html.count("<tr>") == 301


def test_walker_matches_the_stock_bleach_walker() -> None:
    document = (
        render(
            "| a | *b* |\n|---|:-:|\n| [l](http://e.com) | **c** |\n\n> - x\n>   - *y* `z`\n\n"
            "1. ![p](https://e.com/p.png)\n2. ~~s~~ www.e.com\n"
        )
        * 3
    )
    stock = getTreeWalker("etree")
    parsed = Cleaner(tags=markup.ALLOWED_TAGS).parser.parseFragment(document)
    assert list(markup._Walker(parsed)) == list(stock(parsed))


# Property-style: no executable HTML survives, however the input is crafted. Escaped text may
# legitimately *show* "<script>", "javascript:" or " onerror=" (in text, and inside quoted
# attribute values such as alt), so tags and attributes are checked as a browser parses them.
ATTACKS = [source for source, _ in HOSTILE] + [
    "<svg onload=alert(1)>",
    "<iframe src=javascript:alert(1)></iframe>",
    "<style>*{x:expression(alert(1))}</style>",
    '"><img src=x onerror=alert(1)>',
    "<math><mi xlink:href=javascript:alert(1)>x</mi></math>",
    "[<img src=x onerror=alert(1)>](http://e.com)",
    '[x](http://e.com" onclick="alert(1))',
    "[x](http://e.com 'a' onclick='alert(1)')",
    "[x](javas&#99;ript:alert(1))",
    "[x](jav&#x09;ascript:alert(1))",
    "[x](\x01javascript:alert(1))",
    "[x](javascript://%0aalert(1))",
    "[x](%6Aavascript:alert(1))",
    "<javascript:alert(1)>",
    "javascript:alert(1) www.javascript:alert(1)",
    "```\n</code><script>alert(1)</script>\n```",
    "![x][i]\n\n[i]: data:image/svg+xml,<svg onload=alert(1)>",
    "| <script> | x |\n|-|-|\n| [a](javascript:b) | ![c](data:image/gif;base64,R0) |",
    "*<script>*alert(1)*</script>*",
    "[a](data:text/html,<script>alert(1)</script>)",
]
SCHEME = re.compile(r"^([a-z][a-z0-9+.-]*):")
SAFE_SCHEMES = {"http", "https", "mailto"}


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))


@pytest.mark.parametrize("source", ATTACKS)
def test_no_executable_html_survives(source: str) -> None:
    html = render(source)
    assert "<script" not in html.lower()
    parser = _Tags()  # attribute values come back entity-decoded, as html.unescape would
    parser.feed(html)
    for name, attrs in parser.tags:
        assert name in markup.ALLOWED_TAGS
        for attr, value in attrs:
            assert not attr.startswith("on"), (name, attr)
            allowed = markup.ALLOWED_ATTRIBUTES.get(name, [])
            assert allowed(name, attr, value) if callable(allowed) else attr in allowed, (
                name,
                attr,
            )
            if attr not in ("href", "src"):  # the only URL attributes; alt/title are text
                continue
            # The URL as a browser sees it: entities decoded, whitespace and controls ignored.
            url = re.sub(r"[\x00-\x20]", "", unescape(value or "")).lower()
            assert not url.startswith(("javascript:", "vbscript:", "data:")), (name, value)
            if scheme := SCHEME.match(url):
                assert scheme[1] in SAFE_SCHEMES, (name, value)
        if name == "a":
            assert ("rel", "nofollow ugc noopener") in attrs
        if name == "img":
            assert dict(attrs)["src"].lower().startswith(("http://", "https://"))
            assert ("loading", "lazy") in attrs and ("referrerpolicy", "no-referrer") in attrs
