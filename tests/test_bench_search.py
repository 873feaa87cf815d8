"""The search benchmark's parts that need no wrk: the words it searches for (chosen from the demo's
own text so their hit counts are known), the index size it reports, the engine timed in process,
and the 1M/50k table with its 3x target, on made-up figures. Databases are built through the CLI
as bench/dataset.py builds them, at a test-sized scale, on SQLite or PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from bench import report, search_report
from bench.__main__ import _arguments
from bench.dataset import episodes_show_file
from bench.search_data import QUERIES, bulk_share, match_counts
from bench.search_index import index_size
from forum.platform.demo_content import BULK_BODIES
from tests.conftest import EXAMPLE_FILE, flask_command, migrated_database_url

BY_NAME = {query.name: query for query in QUERIES}
BULK_POSTS = 1_500


def flask(url: str, *args: str) -> Result:
    result = flask_command(url, *args)
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture(scope="module")
def search_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    tmp = tmp_path_factory.mktemp("bench_search")
    url = migrated_database_url(tmp, "bench_search")
    flask(url, "boards", "import", str(EXAMPLE_FILE))
    flask(url, "boards", "import", str(episodes_show_file(tmp / "episodes.toml")))
    flask(url, "demo")
    flask(url, "users", "create", "bench", "--email", "b@example.org", "--password", "x" * 12)
    flask(url, "demo", "--threads", "60", "--posts", str(BULK_POSTS))
    return url


# --------------------------------------------------------------------------------- the words


def test_the_rare_word_is_in_no_bulk_body_so_its_hits_do_not_grow_with_the_dataset() -> None:
    assert bulk_share(BY_NAME["rare"].words, BULK_BODIES) == 0


def test_the_common_word_is_in_a_large_share_of_the_bulk_bodies() -> None:
    share = bulk_share(BY_NAME["common"].words, BULK_BODIES)
    assert share >= 0.15
    assert share == max(bulk_share(q.words.strip('"'), BULK_BODIES) for q in QUERIES)


def test_the_phrase_is_adjacent_words_of_a_bulk_body() -> None:
    phrase = BY_NAME["phrase"].words
    assert phrase.startswith('"') and phrase.endswith('"')
    assert bulk_share(phrase.strip('"'), BULK_BODIES) > 0
    # Adjacency counts: the same words apart, or in the other order, are not the phrase.
    assert bulk_share("rewatch list", ["my rewatch and a list"]) == 0
    assert bulk_share("rewatch list", ["List, rewatch!"]) == 0
    assert bulk_share("rewatch list", ["My REWATCH list."]) == 1


def test_no_query_is_in_a_body_with_a_spoiler_so_every_viewer_finds_the_same() -> None:
    spoiling = [body for body in BULK_BODIES if ">!" in body]
    assert spoiling
    for query in QUERIES:
        assert bulk_share(query.words.strip('"'), spoiling) == 0, query.name


def test_the_pages_are_search_urls_with_the_query_and_the_sort() -> None:
    pages = {query.name: query.page() for query in QUERIES}
    assert pages["common"].path == "/search?q=writing"
    assert pages["phrase"].path == "/search?q=%22rewatch+list%22"
    assert pages["common_newest"].path == "/search?q=writing&sort=newest"
    assert {page.name for page in pages.values()} == {
        "search_rare",
        "search_common",
        "search_phrase",
        "search_common_newest",
    }


def test_in_a_built_dataset_the_rare_word_hits_a_handful_and_the_common_word_many(
    search_url: str,
) -> None:
    counts = match_counts(search_url)
    assert 1 <= counts["search_rare"] <= 20
    assert counts["search_common"] >= 0.15 * BULK_POSTS
    assert 0.05 * BULK_POSTS <= counts["search_phrase"] < counts["search_common"]


# ------------------------------------------------------------------------- the size and engine


def test_the_index_size_counts_only_search_objects_and_grows_with_the_posts(
    search_url: str, tmp_path: Path
) -> None:
    pytest.importorskip("forum.search.search")
    before = index_size(search_url)
    assert before["total_bytes"] > 0
    assert before["objects"], "no search object found"
    assert not {"posts", "threads", "users", "boards"} & set(before["objects"])
    assert before["total_bytes"] < before["database_bytes"]
    assert before["per_million_posts_bytes"] == round(
        before["total_bytes"] * 1_000_000 / before["posts"]
    )

    flask(search_url, "demo", "--threads", "20", "--posts", "1000")
    after = index_size(search_url)
    assert after["posts"] == before["posts"] + 1000
    assert after["total_bytes"] > before["total_bytes"]


def test_the_engine_in_process_finds_every_query_for_both_viewers(search_url: str) -> None:
    pytest.importorskip("forum.search.search")
    from bench import search

    timed = search.engine_times(search_url)

    assert set(timed) == {f"{q.page().name}/{who}" for q in QUERIES for who in search.SEARCH_MODES}
    for key, figures in timed.items():
        assert figures["total"] > 0, key
        assert figures["calls"] >= 1
        assert 0 < figures["median_ms"] <= figures["p99_ms"]
        assert figures["statements"] >= 1
        assert figures["plan"] and not figures["plan"].startswith("(no plan"), figures["plan"]


# ---------------------------------------------------------------------------------- the report


def figures(requests_per_s: float, p50: float, cpu: float) -> dict[str, Any]:
    return {
        "requests_per_s": requests_per_s,
        "p50_ms": p50,
        "p99_ms": 2 * p50,
        "requests": 1000,
        "errors": 0,
        "socket_errors": 0,
        "cpu_ms_per_request": cpu,
        "load_1m": 1.0,
        "sets_cookie": False,
        "x_cache": "miss",
        "results": 1000,
    }


def run(database: str, scale: str, ceiling: float, common: float) -> dict[str, Any]:
    pages = {
        f"{query.page().name}/{who}": figures(common if query.name == "common" else 300, 5, 4)
        for query in QUERIES
        for who in ("anonymous", "logged_in")
    }
    posts = 50_000 if scale == "small" else 1_000_000
    engine = {
        key: {
            "median_ms": 2.0 if scale == "small" else 5.0,
            "p99_ms": 9.0,
            "statements": 2,
            "slowest_step_ms": 1.5,
            "plan": "SCAN search_posts VIRTUAL TABLE INDEX 0:M1",
        }
        for key in pages
    }
    return {
        "database": database,
        "scale": scale,
        "build": {"seconds": 30, "bulk_seconds": 20, "bulk_posts_per_s": 50_000},
        "index": {
            "objects": {"search_posts_data": 40_000_000},
            "total_bytes": 40_000_000 * posts // 1_000_000,
            "database_bytes": 10 * 40_000_000 * posts // 1_000_000,
            "posts": posts,
            "per_million_posts_bytes": 40_000_000,
        },
        "matches": {page: 10 for page in {key.split("/")[0] for key in pages}},
        "engine": engine,
        "reads": {
            "sync": {
                "ceiling_requests_per_s": ceiling,
                "ceiling_cpu_ms_per_request": 0.4,
                "ceiling_runs": [figures(ceiling, 1, 0.4), figures(ceiling, 1, 0.4)],
                "pages": pages,
                "workers": [],
            }
        },
    }


def search_results(common_small: float, common_large: float) -> dict[str, Any]:
    return {
        "queries": [{"name": q.page().name, "words": q.words, **vars(q.page())} for q in QUERIES],
        "runs": [
            run("sqlite", "small", 4000, common_small),
            # A busier machine in the second run: half the ceiling. The ratio is taken of the
            # shares of each run's own ceiling, so this alone does not count against search.
            run("sqlite", "large", 2000, common_large),
        ],
    }


def test_the_scaling_is_the_share_of_each_runs_own_ceiling() -> None:
    found = search_report.scaling(search_results(400, 100), "sqlite", "search_common", "anonymous")
    assert found is not None
    # 400/4000 = 0.10 of the ceiling at 50k, 100/2000 = 0.05 at 1M: twice the time.
    assert found["time"] == pytest.approx(2.0)
    assert found["engine"] == pytest.approx(2.5)


def test_within_three_times_passes_and_beyond_fails() -> None:
    passing = search_report.targets(search_results(400, 100))
    failing = search_report.targets(search_results(400, 60))  # 0.10 vs 0.03: 3.33x

    assert passing[0][1]["sqlite"][1] is True
    assert failing[0][1]["sqlite"] == ("anonymous 3.33x, logged in 3.33x", False)


def test_the_target_needs_both_scales() -> None:
    one_scale = search_results(400, 100)
    one_scale["runs"] = one_scale["runs"][:1]
    assert search_report.targets(one_scale) == []
    assert "1M posts as a multiple" not in search_report.markdown(one_scale)


def test_the_markdown_has_every_query_both_viewers_the_index_size_and_the_verdict() -> None:
    text = search_report.markdown(search_results(400, 60))

    assert "40.0 MB" in text  # per 1M posts
    for query in QUERIES:
        assert f"`{query.page().path}`" in text
    assert text.count("| sqlite, 1,000,000 posts | common word (~18% of posts) | logged in |") == 1
    assert "| sqlite | common word (~18% of posts) | anonymous | 3.33x |" in text
    assert "FAIL" in text
    assert "SCAN search_posts" in text


def test_the_search_target_is_saved_with_the_others(tmp_path: Path) -> None:
    results = {"search": search_results(400, 100)}
    report.save(results, tmp_path / "r.json")
    saved = (tmp_path / "r.json").read_text()
    assert "common-word search at 1M posts" in saved
    assert '"pass": true' in saved


def test_search_is_a_part_with_both_scales_and_engines_by_default() -> None:
    args = _arguments(["--parts", "search"])
    assert args.parts == ["search"]
    assert args.search_scales == ["small", "large"]
    assert args.search_databases == ["sqlite", "postgresql"]
    assert args.search_worker_classes == ["sync"]
    assert _arguments(["--search-scales", "small"]).search_scales == ["small"]
    with pytest.raises(SystemExit):
        _arguments(["--search-scales", "huge"])


def test_a_dataset_built_with_other_search_files_counts_as_stale(tmp_path: Path) -> None:
    from bench.dataset import search_fingerprint, search_stale
    from bench.search_data import _fingerprint_of

    now = search_fingerprint()
    assert "migrations/versions/0011_full_text_search.py" in now
    assert "forum/platform/demo.py" in now
    assert not search_stale(now)
    # A migration added since the build is applied by init-db: not stale.
    assert not search_stale({k: v for k, v in now.items() if "0011" not in k})
    # One edited or gone since is not applied again: stale.
    assert search_stale({**now, "migrations/versions/0011_full_text_search.py": "0" * 16})
    assert search_stale({**now, "migrations/versions/0099_gone.py": "0" * 16})
    assert search_stale(None)

    facts = tmp_path / "dataset.json"
    assert _fingerprint_of(facts) is None
    facts.write_text('{"version": 3, "search_fingerprint": "ee61209743b3c015"}')
    assert _fingerprint_of(facts) is None  # the first format: unknown, so stale
    facts.write_text(json.dumps({"version": 3, "search_fingerprint": now}))
    assert _fingerprint_of(facts) == now
