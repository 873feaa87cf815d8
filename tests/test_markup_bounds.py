"""Rendering a post is bounded: only the part within markup_bounds.MARKDOWN_BUDGET gets
Markdown and bleach, tables and links have caps, and nothing past a bound is lost.

Counts, not seconds: each test bounds what the work is made of (markdown-it tokens, the tags and
entities bleach parses, table cells, links, list items). bench/adversarial.py measures the
time these bounds buy."""

from __future__ import annotations

import re
from html import unescape
from html.parser import HTMLParser

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forum.discussion import markup
from forum.discussion.markup import MAX_LINK_BRACKETS, rendering
from forum.discussion.markup_bounds import (
    COSTS,
    MARKDOWN_BUDGET,
    MAX_LINKS,
    MAX_TABLE_CELLS,
    markdown_length,
)


def render(source: str) -> str:
    """The HTML markup.render stores for `source`: what these tests pin."""
    return markup.render(source).html


LENGTH = 50_000
# What the budget can buy at most, from the dearest patterns below: a token or a tag per unit
# (a code span's two backticks make four tags with their paragraph), a start and an end tag
# for every cell markdown-it pads a short row with, and a few wrappers.
MAX_TOKENS = 2 * MARKDOWN_BUDGET
MAX_TAGS = MARKDOWN_BUDGET + 2 * MAX_TABLE_CELLS + 50
MAX_ENTITIES = MARKDOWN_BUDGET // 2  # & < > " each cost 2
CELL = re.compile(r"<t[hd][ >]")


def fill(unit: str, length: int = LENGTH) -> str:
    return (unit * (length // len(unit) + 1))[:length]


def cost(text: str) -> int:
    return sum(COSTS.get(char, 0) for char in text)


# The patterns that took 0.5-1.2 s before the budget, and their relatives.
PATTERNS = {
    "table rows": "|a|b|\n|-|-|\n" + fill("|x|y|\n", LENGTH - 12),
    "wide table, short rows": fill("|" + "a|" * 100 + "\n|" + "-|" * 100 + "\n" + "a\n" * 400),
    "many small tables": fill("|a|b|c|\n|-|-|-|\n|1|2|3|\n\n"),
    "setext headings": fill("a\n-\n"),
    "list items": fill("- a\n"),
    "nested quotes and lists": fill("> - > - a\n"),
    "paragraphs": fill("a\n\n"),
    "emphasis *_": fill("*_"),
    "strong pairs": fill("**a** "),
    "bare domains": fill("a.co "),
    "emails": fill("a@b.co "),
    "bare URLs": fill("http://a.b "),
    "autolinks": fill("<http://a.b> "),
    "ampersands": "&" * LENGTH,
    "named entities": fill("&amp;"),
    "angle brackets": fill("<a "),
    "quotes": '"' * LENGTH,
    "open brackets": fill("!["),
    "code spans": fill("`a` "),
    "headings": fill("# a\n"),
    "one long line of markers": fill("*a_b~c`d "),
}


def visible_text(html: str) -> str:
    """What a reader sees, whitespace removed (line breaks and paragraphs are layout)."""
    return re.sub(r"\s+", "", unescape(re.sub(r"<[^>]*>", "", html)))


@pytest.mark.parametrize("source", PATTERNS.values(), ids=PATTERNS.keys())
def test_markdown_work_is_bounded_whatever_the_pattern(source: str) -> None:
    result = rendering(source)

    assert cost(source[: result.markdown_chars]) <= MARKDOWN_BUDGET
    assert result.tokens <= MAX_TOKENS
    assert result.sanitized_tags <= MAX_TAGS
    assert result.sanitized_entities <= MAX_ENTITIES


@pytest.mark.parametrize("source", PATTERNS.values(), ids=PATTERNS.keys())
def test_past_the_budget_the_text_is_kept_as_written(source: str) -> None:
    result = rendering(source)
    tail = source[result.markdown_chars :]

    assert result.markdown_chars < len(source), "every pattern here runs past the budget"
    tail_html = markup._plain_paragraphs(tail)
    assert result.html.endswith(tail_html)
    assert visible_text(tail_html) == re.sub(r"\s+", "", tail)


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)


def test_the_plain_part_is_escaped_paragraphs_and_line_breaks_only() -> None:
    hostile = "<script>alert(1)</script> <img src=x onerror=alert(1)> &amp; [x](javascript:y)"
    source = fill("- a\n", 20_000) + hostile + "\n\nnext\r\nline\0"

    html = render(source)

    tail = html[html.rindex("</ul>") + len("</ul>") :]
    parser = _Tags()
    parser.feed(tail)
    assert parser.tags <= {"p", "br"}
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in tail
    assert "&amp;amp;" in tail  # shown as typed, not decoded
    assert tail.endswith("<p>next<br>\nline\ufffd</p>\n")


def test_a_post_within_the_budget_is_all_markdown() -> None:
    source = (
        "An *ordinary* post about the finale, with a [link](https://example.com/s1)"
        " and a list:\n\n- one\n- two\n\n"
    ) * 40
    result = rendering(source)

    assert result.markdown_chars == len(source)
    assert result.html.count("<em>") == 40 and result.html.count("<li>") == 80


def test_the_cut_falls_at_the_start_of_a_line() -> None:
    source = "intro\n" + "- a\n" * 5000
    cut = markdown_length(source)

    assert 0 < cut < len(source)
    assert source[cut - 1] == "\n"
    assert cost(source[:cut]) <= MARKDOWN_BUDGET < cost(source[: cut + 4])


def test_on_one_long_line_the_cut_falls_after_a_space() -> None:
    source = fill("**a** ")
    cut = markdown_length(source)

    assert source[cut - 1] == " " and source[cut : cut + 2] == "**"


def test_a_single_word_past_the_budget_is_cut_where_the_budget_ends() -> None:
    cut = markdown_length("&" * LENGTH)

    assert cut == MARKDOWN_BUDGET // COSTS["&"]


def test_table_rows_stop_at_the_cell_allowance_and_the_rest_reads_as_typed() -> None:
    source = "|a|b|\n|-|-|\n" + "".join(f"|x{n}|y{n}|\n" for n in range(1000))

    html = render(source)

    assert len(CELL.findall(html)) <= MAX_TABLE_CELLS
    assert html.count("<tr>") == MAX_TABLE_CELLS // 2
    assert "x999" in html and "y999" in html  # later rows are text, not lost


def test_padded_cells_of_a_wide_table_count_too() -> None:
    # markdown-it pads each one-character row to the header's 300 cells.
    source = "|" + "h|" * 300 + "\n|" + "-|" * 300 + "\n" + "r\n" * 50

    html = render(source)

    assert len(CELL.findall(html)) <= MAX_TABLE_CELLS
    assert html.count("r") >= 50


def test_tables_share_one_allowance() -> None:
    # Ten tables of 10 columns and 20 one-character rows (padded to 10 cells each): 210 cells
    # a table, well within the budget.
    table = "|" + "h|" * 10 + "\n|" + "-|" * 10 + "\n" + "r\n" * 20 + "\n"

    html = render(table * 10)

    assert len(CELL.findall(html)) == MAX_TABLE_CELLS
    assert html.count("<table>") == 3  # the third ends early, the rest are paragraphs
    assert visible_text(html).count("r") == 200


@pytest.mark.parametrize("unit", ["a.co ", "a@b.co ", "http://a.b ", "<http://a.b> "])
def test_links_stop_at_the_allowance(unit: str) -> None:
    html = render(fill(unit, 20_000))

    assert html.count("<a ") == MAX_LINKS


def test_markdown_links_stop_at_the_bracket_limit() -> None:
    html = render(fill("[a](http://a.b) ", 6_000))

    assert html.count("<a ") <= MAX_LINKS + MAX_LINK_BRACKETS


@pytest.mark.parametrize(
    ("unit", "tag"), [("- a\n", "<li>"), ("a\n-\n", "<h2>"), ("# a\n", "<h1>"), ("a\n\n", "<p>")]
)
def test_line_structures_stop_at_the_budget(unit: str, tag: str) -> None:
    html = rendering(fill(unit))

    # Each of these structures needs a line, which costs COSTS["\n"]; the plain part adds
    # paragraphs of text only.
    markdown_html = html.html[
        : len(html.html) - len(markup._plain_paragraphs(fill(unit)[html.markdown_chars :]))
    ]
    assert markdown_html.count(tag) <= MARKDOWN_BUDGET // COSTS["\n"]


FRAGMENTS = [
    "\n",
    "\n\n",
    " ",
    "a",
    "|",
    "|-",
    "- ",
    "1. ",
    "> ",
    "# ",
    "=",
    "-",
    "*",
    "_",
    "**",
    "~~",
    "`",
    "```\n",
    "    ",
    "&",
    "&amp;",
    "<",
    ">",
    '"',
    "[",
    "]",
    "(",
    ")",
    "![",
    "](",
    "http://",
    "https://a.b/c",
    "www.",
    "a.co",
    ".",
    ":",
    "@",
    "a@b.co",
    "\\",
    "<http://a.b>",
    "[a]: b\n",
]
UNITS = st.lists(st.sampled_from(FRAGMENTS), min_size=1, max_size=16).map("".join)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(units=st.lists(UNITS, min_size=1, max_size=3), length=st.integers(1, LENGTH))
def test_any_mix_of_syntax_stays_within_the_bounds(units: list[str], length: int) -> None:
    source = "".join(fill(unit, length // len(units)) for unit in units)
    result = rendering(source)

    assert cost(source[: result.markdown_chars]) <= MARKDOWN_BUDGET
    assert result.tokens <= MAX_TOKENS
    assert result.sanitized_tags <= MAX_TAGS
    assert result.sanitized_entities <= MAX_ENTITIES
    html = result.html
    assert len(CELL.findall(html)) <= MAX_TABLE_CELLS
    assert html.count("<a ") <= MAX_LINKS + MAX_LINK_BRACKETS
    tail = source[result.markdown_chars :]
    assert visible_text(markup._plain_paragraphs(tail)) == re.sub(r"\s+", "", tail)
