"""Spoilers: `>!text!<` and `>!S1E8: text!<` as markup.render stores them (pinned byte for byte,
like tests/test_markup.py), and spoiler_html.withhold taking episode spoilers out of a page."""

from __future__ import annotations

from html import escape
from html.parser import HTMLParser

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forum.discussion import episode_codes, markup, markup_bounds, spoiler_html
from forum.discussion.spoiler_html import has_withheld, spoiler_keys, withhold


def render(source: str) -> str:
    return markup.render(source).html


def generic(text: str) -> str:
    return (
        '<label class="spoiler"><input class="spoiler-toggle" type="checkbox"'
        f' aria-label="Show spoiler"><span class="spoiler-text">{text}</span></label>'
    )


def episode(code: str, text: str) -> str:
    return (
        f'<label class="spoiler" data-episode="{code}"><input class="spoiler-toggle"'
        f' type="checkbox" aria-label="Show spoiler for {code}"><span class="spoiler-text">'
        f"{text}</span></label>"
    )


REL = 'rel="nofollow ugc noopener"'

SPOILERS = [
    ("a >!secret!< b", f"<p>a {generic('secret')} b</p>\n"),
    (">!S1E8: Bob dies!<", f"<p>{episode('S1E8', 'Bob dies')}</p>\n"),
    # the code is normalised; the prefix and the blanks after its colon are not hidden text
    ("x >!s01e08:  \tBob dies!<", f"<p>x {episode('S1E8', 'Bob dies')}</p>\n"),
    (">!S12E345:x!<", f"<p>{episode('S12E345', 'x')}</p>\n"),
    # not a code at the very start, followed by a colon: a generic spoiler
    (">! S1E8: x!<", f"<p>{generic(' S1E8: x')}</p>\n"),
    (">!S1E8 x!<", f"<p>{generic('S1E8 x')}</p>\n"),
    (">!S0E1: x!<", f"<p>{generic('S0E1: x')}</p>\n"),
    (">!S1E8000: x!<", f"<p>{generic('S1E8000: x')}</p>\n"),
    (">!about S1E8: x!<", f"<p>{generic('about S1E8: x')}</p>\n"),
    (  # inline Markdown inside
        ">!S2E1: *she* **lives** `in code` [here](https://e.com/x)!<",
        "<p>"
        + episode(
            "S2E1",
            "<em>she</em> <strong>lives</strong> <code>in code</code>"
            f' <a href="https://e.com/x" {REL}>here</a>',
        )
        + "</p>\n",
    ),
    ("**>!bold around!<**", f"<p><strong>{generic('bold around')}</strong></p>\n"),
    # emphasis does not pair across a spoiler's edge
    ("*a >!b* c!<", f"<p>*a {generic('b* c')}</p>\n"),
    # the first !< closes; no nesting; a stray !< after it is text
    (">!a >!b!< c!<", f"<p>{generic('a &gt;!b')} c!&lt;</p>\n"),
    (">!one!< and >!two!<", f"<p>{generic('one')} and {generic('two')}</p>\n"),
    # a code span inside that the first !< cuts short stays literal backticks
    (">!a `b!<` c", f"<p>{generic('a `b')}` c</p>\n"),
    # unclosed, empty or blank: text as typed
    ("a >!b", "<p>a &gt;!b</p>\n"),
    ("a >!!< b", "<p>a &gt;!!&lt; b</p>\n"),
    ("a >! !< b", "<p>a &gt;! !&lt; b</p>\n"),
    ("a >!S1E8: !< b", "<p>a &gt;!S1E8: !&lt; b</p>\n"),
    ("a !<b>!", "<p>a !&lt;b&gt;!</p>\n"),
    # inside code spans and blocks: literal
    ("`>!a!<`", "<p><code>&gt;!a!&lt;</code></p>\n"),
    ("```\n>!S1E8: a!<\n```", "<pre><code>&gt;!S1E8: a!&lt;\n</code></pre>\n"),
    (r"\>!a!<", "<p>&gt;!a!&lt;</p>\n"),
    # not inside a link's text (a checkbox there would follow the link)
    ("[>!a!<](https://e.com)", f'<p><a href="https://e.com" {REL}>&gt;!a!&lt;</a></p>\n'),
    # inside an image's description: dropped with its text (alt is plain text nothing hides)
    (
        "![a >!S1E8: secret!< b](https://e.com/i.png)",
        '<p><img src="https://e.com/i.png" alt="a  b" loading="lazy" '
        'referrerpolicy="no-referrer"></p>\n',
    ),
    # across a soft line break, in a table cell
    ("a >!b\nc!<", "<p>a " + generic("b\nc") + "</p>\n"),
    (
        "|h|\n|-|\n|>!S3E1: x!<|",
        "<table>\n<thead>\n<tr>\n<th>h</th>\n</tr>\n</thead>\n<tbody>\n<tr>\n"
        f"<td>{episode('S3E1', 'x')}</td>\n</tr>\n</tbody>\n</table>\n",
    ),
]


@pytest.mark.parametrize(("source", "expected"), SPOILERS)
def test_spoiler_markup(source: str, expected: str) -> None:
    assert render(source) == expected


LINE_START = [
    # At the start of a line, as on Reddit: a spoiler, not a quote of "!x!<".
    (">!spoiler!<", f"<p>{generic('spoiler')}</p>\n"),
    ("  >!S1E8: x!< after", f"<p>{episode('S1E8', 'x')} after</p>\n"),
    ("- >!x!<", f"<ul>\n<li>{generic('x')}</li>\n</ul>\n"),
    ("> >!x!<", f"<blockquote>\n<p>{generic('x')}</p>\n</blockquote>\n"),
    ("text\n>!x!<", f"<p>text\n{generic('x')}</p>\n"),
    # A quote still: a space after >, or no !< on the same line.
    ("> !x!<", "<blockquote>\n<p>!x!&lt;</p>\n</blockquote>\n"),
    (">!x", "<blockquote>\n<p>!x</p>\n</blockquote>\n"),
    (">!x\ny!<", "<blockquote>\n<p>!x\ny!&lt;</p>\n</blockquote>\n"),
    (">>!x!<", f"<blockquote>\n<p>{generic('x')}</p>\n</blockquote>\n"),
    # A spoiler line ends the quote above it rather than joining it (which showed its text).
    (
        "> quote\n>!S1E8: x!<\n> more",
        f"<blockquote>\n<p>quote</p>\n</blockquote>\n<p>{episode('S1E8', 'x')}</p>\n"
        "<blockquote>\n<p>more</p>\n</blockquote>\n",
    ),
    ("> quote\nlazy", "<blockquote>\n<p>quote\nlazy</p>\n</blockquote>\n"),
]


@pytest.mark.parametrize(("source", "expected"), LINE_START)
def test_spoiler_at_the_start_of_a_line(source: str, expected: str) -> None:
    assert render(source) == expected


@pytest.mark.parametrize(
    "source",
    [
        '<label class="spoiler"><input class="spoiler-toggle" type="checkbox">'
        '<span class="spoiler-text">x</span></label>',
        "<input type=checkbox checked> <span>x</span> <label>y</label>",
    ],
)
def test_spoiler_tags_typed_by_a_member_are_escaped(source: str) -> None:
    html = render(source)
    assert "<label" not in html and "<input" not in html and "<span" not in html
    assert "&lt;label" in html and "&lt;input" in html and "&lt;span" in html


def test_typed_tags_inside_a_spoiler_are_its_text() -> None:
    assert render('>!<label class="spoiler"><input>!<') == (
        "<p>" + generic("&lt;label class=&quot;spoiler&quot;&gt;&lt;input&gt;") + "</p>\n"
    )


@pytest.mark.parametrize(
    ("tag", "name", "value", "allowed"),
    [
        ("label", "class", "spoiler", True),
        ("label", "class", "spoiler x", False),
        ("label", "data-episode", "S1E8", True),
        ("label", "data-episode", "S999E999", True),
        ("label", "data-episode", "S1E8 ", False),
        ("label", "data-episode", "s1e8", False),
        ("label", "for", "x", False),
        ("input", "class", "spoiler-toggle", True),
        ("input", "type", "checkbox", True),
        ("input", "type", "text", False),
        ("input", "aria-label", "Show spoiler", True),
        ("input", "aria-label", "Show spoiler for S1E8", True),
        ("input", "aria-label", "Show spoiler for everyone", False),
        ("input", "checked", "", False),
        ("input", "autofocus", "", False),
        ("input", "onfocus", "alert(1)", False),
        ("span", "class", "spoiler-text", True),
        ("span", "class", "other", False),
        ("span", "style", "color:red", False),
    ],
)
def test_allowlist_admits_only_the_spoiler_attributes(
    tag: str, name: str, value: str, allowed: bool
) -> None:
    check = markup.ALLOWED_ATTRIBUTES[tag]
    assert callable(check)
    assert check(tag, name, value) is allowed


def test_bleach_keeps_the_format_byte_for_byte_and_strips_anything_else() -> None:
    stored = generic("a") + episode("S1E8", "<em>b</em>")
    assert markup._sanitize(stored) == stored
    hostile = (
        '<label class="spoiler" data-episode="x" for="i" onclick="alert(1)">'
        '<input class="spoiler-toggle" type="text" autofocus aria-label="Show">'
        '<span class="spoiler-text" style="color:red">c</span></label>'
    )
    assert markup._sanitize(hostile) == (
        '<label class="spoiler"><input class="spoiler-toggle"><span class="spoiler-text">'
        "c</span></label>"
    )


def test_spoiler_codes_are_the_episode_keys() -> None:
    rendered = markup.render(">!S1E8: a!< >!s2e1: b!< >!S1E8: c!< >!plain!< `>!S3E3: d!<`")
    assert rendered.spoiler_codes == frozenset({1008, 2001})
    assert markup.render("no spoilers").spoiler_codes == frozenset()


def test_mentions_inside_spoilers_are_not_mentions() -> None:
    rendered = markup.render("@maria >!S1E8: @bo killed @cy!< and @dee")
    assert rendered.mentions == ("maria", "dee")
    assert "@bo killed @cy" in rendered.html


def test_a_spoiler_keeps_its_tags_under_deep_emphasis() -> None:
    depth = 2 * markup.MAX_NESTING + 5  # "**" is one level
    html = render("*" * depth + ">!S1E8: deep!<" + "*" * depth)
    assert episode("S1E8", "deep") in html
    assert "deep" not in withhold(html, 0, "/r")


def padding() -> str:
    """Lines that spend the whole Markdown budget, so what follows is past it."""
    line = "*a* " * 10 + "\n"
    return line * (markup_bounds.MARKDOWN_BUDGET // line.count("*") + 1)


def test_spoilers_past_the_markdown_budget_stay_spoilers() -> None:
    source = padding() + "\nx >!S1E8: *past* the <budget>!< and >!plain!<\n"
    rendering = markup.rendering(source)
    assert rendering.markdown_chars < source.index(">!S1E8")
    assert (
        f"<p>x {episode('S1E8', '*past* the &lt;budget&gt;')} and {generic('plain')}</p>\n"
        in rendering.html
    )
    assert markup.render(source).spoiler_codes == frozenset({1008})


def test_the_budget_never_cuts_a_spoiler_in_two() -> None:
    budget_end = markup.rendering(padding() + "tail").markdown_chars
    # A spoiler over several lines that the budget would end in the middle of.
    head, rest = padding()[:budget_end], padding()[budget_end:]
    source = head[: head.rindex("\n", 0, len(head) - 1) + 1] + ">!S1E8: hidden\n" + rest + "x!<"
    assert markup.rendering(source).markdown_chars <= source.index(">!S1E8")
    withheld = withhold(render(source), 0, "/r")
    assert "hidden" not in withheld
    assert has_withheld(withheld)


def test_many_unclosed_openers_render_quickly() -> None:
    rendering = markup.rendering(("x" * 60 + " >!") * 800)
    assert "&gt;!" in rendering.html and "<label" not in rendering.html


# --- spoiler_html ----------------------------------------------------------------------------

POST = render("Before >!S1E8: Bob *dies*!< then >!S2E1: Ann [wins](https://e.com)!< and >!a joke!<")


def test_withhold_takes_out_spoilers_past_the_limit() -> None:
    assert "Bob" in POST and "Ann" in POST
    watched_s1e7 = withhold(POST, episode_codes.key_of(1, 7), "/t/1/reveal?x=1&y=2")
    assert watched_s1e7 == (
        "<p>Before "
        '<span class="spoiler spoiler-withheld" data-episode="S1E8">'
        '<a href="/t/1/reveal?x=1&amp;y=2" rel="nofollow">Spoiler for S1E8 · reveal</a></span>'
        " then "
        '<span class="spoiler spoiler-withheld" data-episode="S2E1">'
        '<a href="/t/1/reveal?x=1&amp;y=2" rel="nofollow">Spoiler for S2E1 · reveal</a></span>'
        f" and {generic('a joke')}</p>\n"
    )
    assert "Bob" not in watched_s1e7 and "dies" not in watched_s1e7 and "Ann" not in watched_s1e7
    assert has_withheld(watched_s1e7)


def test_withhold_leaves_spoilers_up_to_the_limit() -> None:
    at_s1e8 = withhold(POST, 1008, "/r")
    assert episode("S1E8", "Bob <em>dies</em>") in at_s1e8
    assert "Ann" not in at_s1e8 and 'data-episode="S2E1"><a href="/r"' in at_s1e8
    assert withhold(POST, 2001, "/r") == POST
    assert withhold(POST, episode_codes.CAUGHT_UP, "/r") == POST
    assert not has_withheld(POST)


def test_withhold_without_episode_spoilers_returns_the_same_object() -> None:
    html = render("just >!a joke!< here")
    assert withhold(html, 0, "/r") is html


def test_reveal_url_is_escaped() -> None:
    withheld = withhold(POST, 0, '/r?a=1&b="><script>alert(1)</script>')
    assert "<script>" not in withheld
    assert 'href="/r?a=1&amp;b=&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"' in withheld


def test_spoiler_keys_reads_stored_html() -> None:
    assert spoiler_keys(POST) == frozenset({1008, 2001})
    assert spoiler_keys(render('data-episode="S1E8" in text')) == frozenset()
    assert spoiler_keys(withhold(POST, 0, "/r")) == frozenset()


@pytest.mark.parametrize(
    "source",
    [
        ">!S1E8: </label> SECRET!<",
        ">!S1E8: SECRET `!<` more!<",
        ">!S1E8: `x` SECRET </span></label><label>!<",
        ">!S1E8: SECRET [x](https://e.com/</label>)!<",
        ">!S1E8: ![SECRET](https://e.com/</label>.png)!<",
        ">!S1E8: SECRET <https://e.com/a</label>>!<",
        ">!S1E8: SECRET &lt;/label&gt; &#60;/label&#62;!<",
        '>!S1E8: SECRET data-episode="S0E0">!<',
    ],
)
def test_hostile_spoiler_text_cannot_leave_text_behind(source: str) -> None:
    html = render(source)
    assert spoiler_keys(html) == frozenset({1008})
    assert "SECRET" in html
    withheld = withhold(html, 0, "/r")
    assert "SECRET" not in withheld
    assert "<label" not in withheld and "spoiler-text" not in withheld


class _Texts(HTMLParser):
    """The text a reader sees, without the text of episode spoilers (`removed` counts them)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.kept: list[str] = []
        self.hidden: list[str] = []
        self.skipping = 0  # inside an episode label, or a withheld span

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.skipping:
            self.skipping += tag not in ("input", "br", "img", "hr")
        elif (tag == "label" and dict(attrs).get("data-episode")) or (
            tag == "span" and dict(attrs).get("class") == spoiler_html.WITHHELD_CLASS
        ):
            self.skipping = 1

    def handle_endtag(self, tag: str) -> None:
        if self.skipping:
            self.skipping -= 1

    def handle_data(self, data: str) -> None:
        (self.hidden if self.skipping else self.kept).append(data)


def texts(html: str) -> _Texts:
    parser = _Texts()
    parser.feed(html)
    parser.close()
    return parser


FRAGMENTS = [">!", "!<", "S1E8:", "s2e3: ", "S0E1:", " ", "\n", "\n\n", "`", "*", "_", "[x](",
             "https://e.com/", ")", "</label>", "<span>", "&lt;", "> ", "@bo", "SECRET", "|",
             "\\", "<", "!", "#", "- "]  # fmt: skip


EPISODE_SPOILERS = st.builds(
    lambda code, inner: f">!{code}: {''.join(inner)}!<",
    st.sampled_from(["S1E8", "s2e3", "S10E1", "S0E1"]),
    st.lists(st.sampled_from(FRAGMENTS), max_size=8),
)
LIMITS = st.sampled_from([0, 1007, 1008, 2002, 2003, 10001, episode_codes.CAUGHT_UP])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(FRAGMENTS) | EPISODE_SPOILERS, max_size=16), LIMITS)
def test_withhold_removes_exactly_the_episode_spoilers(pieces: list[str], limit: int) -> None:
    html = render("".join(pieces))
    withheld = withhold(html, limit, "/r")
    before, after = texts(html), texts(withheld)
    keys = spoiler_keys(html)
    if all(key <= limit for key in keys):
        assert withheld == html
    # Only the text of the withheld spoilers goes, all of it: what stays reads the same.
    assert after.kept == before.kept
    assert spoiler_keys(withheld) == frozenset(key for key in keys if key <= limit)
    for key in keys - spoiler_keys(withheld):
        assert f"Spoiler for {episode_codes.code_of(key)} · reveal" in withheld
    assert has_withheld(withheld) == any(key > limit for key in keys)


def test_every_stored_spoiler_matches_the_format_withhold_reads() -> None:
    source = " ".join(f">!S{s}E{n}: t{s}{n}!<" for s in (1, 9, 10, 999) for n in (1, 99, 999))
    html = render(source)
    assert len(spoiler_keys(html)) == 12
    withheld = withhold(html, 0, "/r")
    assert "<label" not in withheld and "spoiler-text" not in withheld
    assert withheld.count("· reveal</a></span>") == 12
    assert escape("t1") not in withheld
