"""search.find never raises, whatever is typed: hypothesis throws arbitrary text at it (NUL
bytes, surrogates aside, every script), engine syntax (FTS5's NEAR( * ^ column: {}, tsquery's
& | ! <-> :*), unbalanced quotes and very long queries, on the database under test (SQLite
FTS5, or PostgreSQL with FORUM_TEST_DATABASE_URL). The page helper fuzzes /search itself."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from forum.access.viewer import VISITOR, Viewer
from forum.discussion.episode_codes import CAUGHT_UP
from forum.search import search
from forum.search.search import SearchFilters
from forum.search.search_query import MAX_TERMS, TOKEN, parse
from tests.conftest import Factory

EXAMPLES = 300
SYNTAX = [
    "NEAR(",
    "NEAR(a b, 2)",
    "*",
    "^",
    "title:",
    "body:",
    "spoilers:",
    "{title body}:",
    "-",
    '"',
    "OR",
    "AND",
    "NOT",
    "(",
    ")",
    "&",
    "|",
    "!",
    "<->",
    "<2>",
    ":*",
    ":AD",
    "'",
    "\\",
    "\x00",
    "%",
    "_",
    ";",
    "--",
    "café",
    "renewed",
    "the",
    "who",
    "s1e8",
]
queries = st.one_of(
    st.text(max_size=300),
    st.lists(st.one_of(st.sampled_from(SYNTAX), st.text(max_size=8)), max_size=40).map(" ".join),
    st.lists(st.sampled_from(SYNTAX), max_size=60).map("".join),
    st.text(alphabet=st.sampled_from('ab "-*():^\x00'), min_size=1000, max_size=10_000),
)
FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
def indexed(db: Session, make: Factory) -> Session:
    board = make.board("fuzzed")
    thread = make.thread(board, title="Fuzzed café renewal", body="The who near title body")
    make.reply(thread, make.user("fuzz_author"), "spoilers >!S1E8: hidden words!< and more")
    return db


@FUZZ_SETTINGS
@given(query=queries, newest=st.booleans(), page=st.integers(min_value=-5, max_value=60))
def test_find_never_raises(indexed: Session, query: str, newest: bool, page: int) -> None:
    for viewer in (VISITOR, Viewer(spoiler_default=CAUGHT_UP)):
        result = search.find(indexed, viewer, query, SearchFilters(newest_first=newest), page)
        assert isinstance(result, search.SearchPage)
        assert len(result.hits) <= search.PER_PAGE


@settings(max_examples=3000, deadline=None)
@given(query=st.one_of(st.text(), queries))
def test_the_parser_hands_the_engines_only_words(query: str) -> None:
    parsed = parse(query)
    terms = [t for group in parsed.groups for t in group] + list(parsed.excluded)
    assert len(terms) <= MAX_TERMS
    for term in terms:
        assert term.words
        assert all(TOKEN.fullmatch(word) for word in term.words)
