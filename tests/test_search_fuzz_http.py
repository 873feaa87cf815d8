"""/search and /search/suggest answer every request with a page (200), never a 5xx: hypothesis
throws arbitrary text at the query and at every other parameter (NUL bytes, 10,000 characters,
unbalanced quotes, FTS5's NEAR( * ^ column:, tsquery's & | ! :*, dates and numbers out of
range), as a visitor and as a member, on the database under test (SQLite FTS5, or PostgreSQL
with FORUM_TEST_DATABASE_URL). tests/test_search_fuzz.py fuzzes the engine's find itself.

Each test counts the examples it ran and prints the count (pytest -s shows it); the examples are
run inside the test, so the app and its rolled-back data are built once per test.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import Browserish, Factory, LoginAs

EXAMPLES = 300
SYNTAX = [
    "NEAR(",
    "NEAR(a b, 2)",
    "*",
    "quokka*",
    "^",
    "title:",
    "body:quokka",
    "{title body}:",
    "-",
    "-quokka",
    '"',
    '"quokka',
    "OR",
    "AND",
    "NOT",
    "(",
    ")",
    "&",
    "|",
    "!",
    "<->",
    ":*",
    "'",
    "\\",
    "\x00",
    "%",
    "_",
    "@",
    "@quokka_fan",
    "@nobody",
    "<script>",
    "&amp;",
    "café",
    "quokka",
    "renewed",
]
queries = st.one_of(
    st.text(max_size=300),
    st.lists(st.one_of(st.sampled_from(SYNTAX), st.text(max_size=8)), max_size=40).map(" ".join),
    st.lists(st.sampled_from(SYNTAX), max_size=60).map("".join),
    st.text(alphabet=st.sampled_from('ab "-*():^@\x00'), min_size=1000, max_size=10_000),
)
# Anything at all, or something close to a valid value.
anything = st.one_of(st.text(max_size=40), st.just(""), st.sampled_from(SYNTAX))
dates = st.one_of(anything, st.dates().map(lambda d: d.isoformat()), st.just("9999-12-31"))
numbers = st.one_of(
    anything,
    st.integers(min_value=-(10**20), max_value=10**20).map(str),
    st.integers(min_value=1, max_value=60).map(str),
)
FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    database=None,
)


def content(make: Factory) -> str:
    """A little to find (the fuzzed filters name it now and then); returns the board's slug."""
    board = make.board("quokka-show", name="Quokka Show")
    fan = make.user("quokka_fan")
    thread = make.thread(board, author=fan, title="Quokka café renewal", body="A quokka smiled")
    for n in range(25):
        make.reply(thread, fan, f"quokka reply {n} with >!S1E8: hidden quokka!< words")
    return board.slug


def check(browser: Browserish, url: str, args: dict[str, str], seen: Counter[str]) -> None:
    response = browser.get(url, query_string=args)
    seen[f"{url} {response.status_code}"] += 1
    assert response.status_code == 200, (url, args)


def test_the_search_page_answers_any_query(client: Browserish, make: Factory) -> None:
    content(make)
    seen: Counter[str] = Counter()

    @FUZZ_SETTINGS
    @given(query=queries)
    def run(query: str) -> None:
        check(client, "/search", {"q": query}, seen)

    run()
    print(f"\n/search?q=: {sum(seen.values())} examples, {dict(seen)}")
    assert sum(seen.values()) >= EXAMPLES


def test_the_search_page_answers_any_parameters(
    make: Factory, login_as: LoginAs, member: Any
) -> None:
    slug = content(make)
    browsers = {"visitor": login_as(None), "member": login_as(member)}
    seen: Counter[str] = Counter()

    @FUZZ_SETTINGS
    @given(
        who=st.sampled_from(sorted(browsers)),
        args=st.fixed_dictionaries(
            {},
            optional={
                "q": queries,
                "board": st.one_of(anything, st.just(slug)),
                "author": st.one_of(anything, st.just("quokka_fan")),
                "thread": numbers,
                "since": dates,
                "until": dates,
                "threads_only": st.one_of(anything, st.just("1")),
                "sort": st.one_of(anything, st.sampled_from(["relevance", "newest"])),
                "page": numbers,
            },
        ),
    )
    def run(who: str, args: dict[str, str]) -> None:
        check(browsers[who], "/search", args, seen)

    run()
    print(f"\n/search with every parameter: {sum(seen.values())} examples, {dict(seen)}")
    assert sum(seen.values()) >= EXAMPLES


def test_suggestions_answer_any_query(client: Browserish, make: Factory) -> None:
    content(make)
    seen: Counter[str] = Counter()

    @FUZZ_SETTINGS
    @given(query=queries)
    def run(query: str) -> None:
        check(client, "/search/suggest", {"q": query}, seen)

    run()
    print(f"\n/search/suggest?q=: {sum(seen.values())} examples, {dict(seen)}")
    assert sum(seen.values()) >= EXAMPLES
