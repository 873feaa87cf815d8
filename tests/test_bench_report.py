"""bench/report.py on made-up figures: what spoiler protection costs a page (logged in with
watch progress set vs without) and the 10% target of issue 12, flagged when it is passed."""

from __future__ import annotations

from typing import Any

import pytest

from bench import report

PAGES = [
    {"name": "index", "path": "/", "about": "board index"},
    {"name": "board", "path": "/b/partner-track", "about": "board, page 1"},
    {"name": "thread", "path": "/t/1/x", "about": "thread of 20 posts"},
]


def figures(requests_per_s: float, cpu_ms: float) -> dict[str, Any]:
    return {
        "requests_per_s": requests_per_s,
        "p50_ms": 10.0,
        "p99_ms": 20.0,
        "requests": 1000,
        "errors": 0,
        "socket_errors": 0,
        "cpu_ms_per_request": cpu_ms,
        "load_1m": 1.0,
        "sets_cookie": False,
        "x_cache": "-",
    }


def results(thread_with_progress: dict[str, Any]) -> dict[str, Any]:
    pages = {
        "index/logged_in": figures(400, 4.0),
        "index/logged_in_progress": figures(396, 4.1),
        "board/logged_in": figures(200, 8.0),
        "board/logged_in_progress": figures(190, 8.4),
        "thread/logged_in": figures(300, 6.0),
        "thread/logged_in_progress": thread_with_progress,
    }
    run = {
        "ceiling_requests_per_s": 2000.0,
        "ceiling_cpu_ms_per_request": 0.5,
        "ceiling_runs": [figures(2000, 0.5), figures(2000, 0.5)],
        "pages": pages,
        "workers": [{"rss_kb": 60_000, "peak_kb": 61_000}],
    }
    return {
        "scale": "small",
        "options": {"duration": 5, "warmup": 1},
        "machine": {"cpus": 2, "load_at_start": 1.0, "commit": "abc1234"},
        "dataset": {
            "posts": 50_000,
            "threads": 5_000,
            "seconds": 40,
            "posts_per_s": 1250,
            "bulk_posts_per_s": 6000,
            "cli_posts_per_s": 20_000,
        },
        "pages": PAGES,
        "reads": {"sync": run},
    }


def progress_targets(measured: dict[str, Any]) -> dict[str, report.Cell]:
    return {
        name: cells["sync"]
        for name, cells in report.targets(measured)
        if "progress set" in name and "sync" in cells
    }


def test_the_cost_is_time_per_request_and_cpu_per_request_as_multiples() -> None:
    pages = results(figures(250, 6.9))["reads"]["sync"]["pages"]

    by_rate, by_cpu = report.progress_cost(pages, "thread") or (0.0, 0.0)

    assert by_rate == pytest.approx(1.2)
    assert by_cpu == pytest.approx(1.15)
    assert report.progress_cost(pages, "profile") is None


def test_pages_within_ten_percent_pass_and_one_beyond_fails() -> None:
    cells = progress_targets(results(figures(250, 6.3)))

    assert [ok for _text, ok in cells.values()] == [True, True, False]
    assert cells["thread page, progress set <= 1.10x logged in without"][0] == (
        "1.20x time (CPU: 1.05x)"
    )


def test_more_cpu_alone_fails_the_target() -> None:
    cells = progress_targets(results(figures(300, 6.9)))

    assert cells["thread page, progress set <= 1.10x logged in without"][1] is False


def test_the_markdown_table_flags_the_page_over_the_limit() -> None:
    text = report.markdown(results(figures(250, 6.3)))
    table = text.split("**Spoiler protection")[1].split("\n\n")[1]
    rows = {line.split(" | ")[0].strip("| "): line for line in table.splitlines()[2:]}

    assert rows["thread of 20 posts"].endswith("OVER 1.10x |")
    assert rows["board index"].endswith("ok |")
    assert rows["board, page 1"].endswith("ok |")
    assert "| thread of 20 posts | logged in, progress set | 250 |" in text


def test_without_the_progress_mode_there_is_no_table_and_no_target() -> None:
    measured = results(figures(250, 6.3))
    pages = measured["reads"]["sync"]["pages"]
    for name in [key for key in pages if key.endswith("/logged_in_progress")]:
        del pages[name]

    assert "Spoiler protection" not in report.markdown(measured)
    assert progress_targets(measured) == {}
