"""The search form (forum/search/search_forms.py): what each query-string field means, the
message for what means nothing, and the typed text kept."""

from __future__ import annotations

from datetime import date

import pytest

from forum.search.search_forms import MAX_QUERY, parse


def test_a_blank_form_asks_for_nothing() -> None:
    form = parse({})

    assert (form.q, form.words, form.author_name, form.errors) == ("", "", "", {})
    assert form.sort == "relevance" and form.page == 1 and not form.threads_only
    assert not form.has_filters and form.as_args() == {}


def test_every_field_read() -> None:
    form = parse(
        {
            "q": '  "second season" -jeff ',
            "board": "partner-track",
            "author": "@Ingrid_Stan",
            "thread": "12",
            "since": "2022-08-01",
            "until": "2022-12-31",
            "threads_only": "1",
            "sort": "newest",
            "page": "3",
        }
    )

    assert form.errors == {}
    assert form.words == '"second season" -jeff'
    assert form.author_name == "Ingrid_Stan"
    assert form.thread_id == 12
    assert (form.since, form.until) == (date(2022, 8, 1), date(2022, 12, 31))
    assert form.threads_only and form.newest_first and form.page == 3
    assert form.as_args() == {
        "q": '"second season" -jeff',
        "board": "partner-track",
        "author": "Ingrid_Stan",
        "thread": "12",
        "since": "2022-08-01",
        "until": "2022-12-31",
        "threads_only": "1",
        "sort": "newest",
    }
    assert "thread" not in form.as_args(thread=False)


def test_an_at_name_in_the_query_is_the_author() -> None:
    form = parse({"q": "renewal @lawfirm_lurker"})

    assert form.words == "renewal"
    assert form.author_name == "lawfirm_lurker"
    assert form.q == "renewal @lawfirm_lurker"  # shown as typed


def test_an_email_address_is_not_an_author() -> None:
    form = parse({"q": "write to fan@example.org"})

    assert form.author_name == "" and form.words == "write to fan@example.org"


def test_two_authors_at_once_are_refused() -> None:
    form = parse({"q": "@one @two renewal"})

    assert "author" in form.errors
    assert parse({"q": "@same renewal", "author": "SAME"}).errors == {}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("since", "31/12/2022"),
        ("since", "2022-02-30"),
        ("until", "yesterday"),
        ("until", "99999-01-01"),
        ("thread", "twelve"),
        ("thread", "-3"),
        ("thread", "99999999999999999999"),
        ("thread", "\uff11\uff12"),  # fullwidth digits: str.isdigit says yes, a thread id no
        ("sort", "oldest"),
        ("author", "x" * 31),
    ],
)
def test_values_that_mean_nothing_get_a_message_and_stay_as_typed(field: str, value: str) -> None:
    form = parse({"q": "renewal", field: value})

    assert form.errors.get(field), form.errors
    shown = {
        "since": form.since_text,
        "until": form.until_text,
        "thread": form.thread,
        "author": form.author,
        "sort": value,  # the select falls back to relevance; the message names both choices
    }[field]
    assert shown == value


def test_an_end_before_the_start() -> None:
    form = parse({"q": "x", "since": "2023-01-02", "until": "2023-01-01"})

    assert form.errors == {"until": "The end date is before the start date."}


def test_control_characters_and_nul_bytes_are_dropped() -> None:
    form = parse({"q": "re\x00new\u202eal\x07", "board": "\x00partner-track"})

    assert form.q == "renewal" and form.board == "partner-track"


def test_a_long_query_is_cut_and_said_so() -> None:
    form = parse({"q": "word " * 3000})

    assert len(form.q) <= MAX_QUERY and form.words == form.q
    assert form.cut and form.cut_message
    assert not parse({"q": "short"}).cut_message


def test_garbage_pages_mean_page_one() -> None:
    assert parse({"page": "x"}).page == 1
    assert parse({"page": "-4"}).page == 1
    # A huge page stays a number (the engine answers past its cap with a message).
    assert parse({"page": "9" * 50}).page == 10**9
