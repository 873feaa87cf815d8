"""Search snippets (forum/search/search_snippets.py): exact output for plain, hostile and
long text. The normaliser here is the contract's (casefold, accents dropped), written out so
these tests need no database and no engine."""

from __future__ import annotations

import unicodedata

from markupsafe import Markup

from forum.search.search_snippets import SNIPPET_LENGTH, flatten, mark, snippet, stem


def norm(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def test_a_stem_marks_the_words_it_begins() -> None:
    text = "Realistically? Variety confirmed the cancellation, so a renewal would take time."

    assert snippet(text, ("renewed",), norm) == Markup(
        "Realistically? Variety confirmed the cancellation, so a <mark>renewal</mark> would "
        "take time."
    )


def test_case_and_accents_are_ignored_but_kept_as_written() -> None:
    assert snippet("Le CAFÉ est fermé", ("cafe", "ferme"), norm) == Markup(
        "Le <mark>CAFÉ</mark> est <mark>fermé</mark>"
    )


def test_short_terms_mark_whole_words_only() -> None:
    shown = snippet("Season 2 arrived in 2022, not 2", ("season", "2"), norm)

    assert shown == Markup("<mark>Season</mark> <mark>2</mark> arrived in 2022, not <mark>2</mark>")


def test_everything_is_escaped_and_only_marks_are_added() -> None:
    text = 'I typed <script>alert("x")</script> & <b>bold</b> in my renewal post'

    shown = snippet(text, ("renewal", "script"), norm)

    assert shown == Markup(
        "I typed &lt;<mark>script</mark>&gt;alert(&#34;x&#34;)&lt;/<mark>script</mark>&gt; "
        "&amp; &lt;b&gt;bold&lt;/b&gt; in my <mark>renewal</mark> post"
    )
    assert "<script" not in shown and "<b>" not in shown


def test_a_term_that_is_markup_marks_nothing_and_breaks_nothing() -> None:
    shown = snippet("a < b and c > d", ("<mark>", "</mark>", "<", "&amp;"), norm)

    assert shown == Markup("a &lt; b and c &gt; d")


def test_the_window_is_cut_around_the_first_match_at_word_boundaries() -> None:
    text = " ".join(["before"] * 100) + " The renewal happened " + " ".join(["after"] * 100)

    shown = snippet(text, ("renewal",), norm)

    assert shown.startswith("…before ")
    assert shown.endswith(" after…")
    assert "<mark>renewal</mark>" in shown
    plain = shown.replace("<mark>", "").replace("</mark>", "").strip("…")
    assert len(plain) <= SNIPPET_LENGTH
    assert "befor " not in plain + " " and " afte" not in plain.replace(" after", "")


def test_without_a_match_the_text_starts_the_snippet() -> None:
    text = "The match was in the title. " + "More words. " * 50

    shown = snippet(text, ("nowhere",), norm)

    assert shown.startswith("The match was in the title.")
    assert shown.endswith("…")


def test_a_match_near_the_end_shows_what_comes_before_it() -> None:
    text = "word " * 80 + "the final renewal"

    shown = snippet(text, ("renewal",), norm)

    assert shown.endswith("the final <mark>renewal</mark>")
    assert len(shown.replace("<mark>", "").replace("</mark>", "").strip("…")) >= 200


def test_one_enormous_word_is_cut_rather_than_dropped() -> None:
    shown = snippet("x" * 10_000, ("y",), norm)

    assert shown == Markup("x" * SNIPPET_LENGTH + "…")


def test_paragraphs_run_on() -> None:
    assert flatten("First line\n\n  second\tline  ") == "First line second line"
    assert snippet("One\n\nTwo", ("two",), norm) == Markup("One <mark>Two</mark>")


def test_no_terms_and_no_text() -> None:
    assert snippet("", ("a",), norm) == Markup("")
    assert snippet("Plain text", (), norm) == Markup("Plain text")
    assert snippet("Plain text", ("", "   "), norm) == Markup("Plain text")


def test_mark_marks_a_whole_title() -> None:
    assert mark("Will Partner Track get a season 2?", ("season", "2"), norm) == Markup(
        "Will Partner Track get a <mark>season</mark> <mark>2</mark>?"
    )
    assert mark("<i>Title</i>", ("title",), norm) == Markup("&lt;i&gt;<mark>Title</mark>&lt;/i&gt;")


def test_words_sharing_a_stem_are_marked() -> None:
    text = "Renewed? A renewal, two renewals, renewing: news of the cancellation was cancelled."

    shown = snippet(text, ("renewed", "cancelled"), norm)

    assert shown == Markup(
        "<mark>Renewed</mark>? A <mark>renewal</mark>, two <mark>renewals</mark>, "
        "<mark>renewing</mark>: news of the <mark>cancellation</mark> was "
        "<mark>cancelled</mark>."
    )


def test_a_short_stem_marks_only_itself() -> None:
    shown = snippet("Arden Cho chose Cho's scenes", ("arden", "cho"), norm)

    assert shown == Markup(
        "<mark>Arden</mark> <mark>Cho</mark> chose <mark>Cho</mark>&#39;s scenes"
    )


def test_stems() -> None:
    assert {stem(w) for w in ("renewal", "renewed", "renews", "renewing")} == {"renew"}
    assert stem("cancelled") == stem("cancellation") == "cancel"
    assert stem("story") == stem("stories")
    assert stem("season") == "season" and stem("cho") == "cho"
