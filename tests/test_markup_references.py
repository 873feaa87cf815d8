"""What markup.render finds besides the HTML: mentions and quoted posts, from the parsed
Markdown, so code and link addresses never count."""

from __future__ import annotations

import pytest

from forum.discussion import markup


@pytest.mark.parametrize(
    ("source", "mentions"),
    [
        ("Thanks @maria and @bo-jack!", ("maria", "bo-jack")),
        ("@maria again, @maria", ("maria",)),
        ("mail me at fan@example.org", ()),
        ("`@in_code` and\n\n    @indented_code", ()),
        ("```\n@fenced\n```", ()),
        ("[a link](https://example.org/@not_a_mention)", ()),
        ("@" + "x" * 31, ()),
        ("**@bold_name**", ("bold_name",)),
    ],
)
def test_mentions_are_names_in_the_text(source: str, mentions: tuple[str, ...]) -> None:
    assert markup.render(source).mentions == mentions


def test_a_permalink_inside_a_quote_is_a_quoted_post() -> None:
    source = "> [maria wrote](/p/42):\n> It was the goats.\n\n[see also](/p/7)\n\n> [again](/p/42)"

    assert markup.render(source).quoted_post_ids == (42,)


def test_what_it_finds_leaves_the_html_as_it_was() -> None:
    rendered = markup.render("Hi @maria\n\n> [quote](/p/3)")

    assert rendered.html == markup.rendering("Hi @maria\n\n> [quote](/p/3)").html
    assert rendered.html == markup.preview("Hi @maria\n\n> [quote](/p/3)")
    with pytest.raises(AttributeError):
        rendered.html = "<script>"  # type: ignore[misc]
