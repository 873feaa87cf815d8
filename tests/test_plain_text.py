"""Stored post HTML as plain text (forum/discussion/plain_text.py) and spoilers cut for places
that can't hide them (spoiler_html.withhold_every): what search, previews and feeds rely on."""

from __future__ import annotations

from forum.discussion import plain_text, spoiler_html
from forum.discussion.episode_codes import key_of
from forum.discussion.markup import render

HTML = render(
    "Before **bold** &amp; after.\n\n>!GENERIC-WORDS!< then >!S1E8: EPISODE-WORDS!< end.\n\n"
    "- one\n- two"
).html


def test_open_text_keeps_every_word_outside_spoilers_and_none_inside() -> None:
    text = plain_text.open_text(HTML)

    assert text.startswith("Before bold & after. then end.")
    assert "then" in text and "end." in text and "one two" in text
    assert "GENERIC" not in text and "EPISODE" not in text
    assert "<" not in text


def test_spoiler_text_is_every_spoiler_and_nothing_else() -> None:
    assert plain_text.spoiler_text(HTML) == "GENERIC-WORDS EPISODE-WORDS"


def test_withhold_every_leaves_no_spoiler_text_but_a_reveal_link() -> None:
    for limit in (0, key_of(1, 9)):
        cut = spoiler_html.withhold_every(HTML, limit, "/p/7/reveal")

        assert "GENERIC-WORDS" not in cut and "EPISODE-WORDS" not in cut
        assert cut.count('href="/p/7/reveal"') == 2
        assert "Spoiler for S1E8 · reveal" in cut and "Spoiler · reveal" in cut


def test_html_without_spoilers_is_untouched() -> None:
    html = render("Nothing to hide here.").html

    assert spoiler_html.withhold_every(html, 0, "/p/1/reveal") == html
    assert spoiler_html.without_spoilers(html) == html
