"""The issue 13 benchmarks at test size: the "no news" poll the live part loads
(bench/live.py), the reply-cost part (bench/reply_cost.py: two threads, one with watchers,
replies in turns, jobs queued and not run), and how the report judges them (bench/report.py)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from bench.dataset import BENCH_LOGIN
from bench.live import ceiling_share, poll_path
from bench.reply_cost import arrange, measure
from bench.report import REPLY_COST_LIMIT, markdown, targets
from forum.db import make_engine
from forum.models import Thread, ThreadState
from tests.conftest import EXAMPLE_FILE, flask_command, migrated_database_url


@pytest.fixture(scope="module")
def bench_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A small database with the demo community and the benchmark's member."""
    url = migrated_database_url(tmp_path_factory.mktemp("bench_live"), "bench_live")
    username, password = BENCH_LOGIN
    for args in (
        ("boards", "import", str(EXAMPLE_FILE)),
        ("demo",),
        ("users", "create", username, "--email", "bench@example.org", "--password", password),
    ):
        result = flask_command(url, *args)
        assert result.exit_code == 0, result.output
    return url


def test_the_poll_asks_after_the_threads_current_count(bench_url: str) -> None:
    engine = make_engine(bench_url)
    try:
        with engine.connect() as db:
            thread_id, count = db.execute(
                select(Thread.id, Thread.post_count).order_by(Thread.id).limit(1)
            ).one()
    finally:
        engine.dispose()
    assert poll_path(bench_url, f"/t/{thread_id}/some-slug") == (
        f"/t/{thread_id}/live?after={count}"
    )
    with pytest.raises(ValueError):
        poll_path(bench_url, "/b/partner-track")


def test_replies_cost_the_same_with_watchers_and_queue_their_fan_out(bench_url: str) -> None:
    arranged = arrange(bench_url, watchers=40, prefix="few_watchers")
    engine = make_engine(bench_url)
    try:
        with engine.connect() as db:
            watching = db.scalar(
                select(func.count())
                .select_from(ThreadState)
                .where(ThreadState.thread_id == arranged.watched, ThreadState.level == "watching")
            )
            quiet = db.scalar(
                select(func.count())
                .select_from(ThreadState)
                .where(ThreadState.thread_id == arranged.quiet)
            )
    finally:
        engine.dispose()
    assert (arranged.watchers, watching, quiet) == (40, 40, 0)

    result = measure(bench_url, arranged, replies=4, warmup=1)
    assert result["replies_per_thread"] == 4
    assert result["quiet"]["watchers"] == 0 and result["watched"]["watchers"] == 40
    # The job queue is a file nobody consumes: nothing was notified in the requests.
    assert result["notifications_written_in_requests"] == 0
    assert result["quiet"]["statements_per_reply"] == result["watched"]["statements_per_reply"]
    assert result["quiet"]["wall_ms_median"] > 0


def _live_run(visitor: float, member: float, ceiling: float = 1000.0) -> dict[str, Any]:
    def poll(rate: float) -> dict[str, Any]:
        return {
            "requests_per_s": rate,
            "cpu_ms_per_request": 1.0,
            "p50_ms": 1.0,
            "p99_ms": 2.0,
            "errors": 0,
            "socket_errors": 0,
            "path": "/t/1/live?after=3",
        }

    return {
        "ceiling_requests_per_s": ceiling,
        "ceiling_cpu_ms_per_request": 0.5,
        "ceiling_runs": [],
        "pages": {"live/visitor": poll(visitor), "live/member": poll(member)},
        "workers": [],
    }


def test_a_poll_at_eight_tenths_of_the_ceiling_passes_and_below_fails() -> None:
    run = _live_run(visitor=800.0, member=790.0)
    assert ceiling_share(run, "visitor") == (0.8, 0.5)
    checks = dict(targets({"live": {"sync": run}}))
    assert checks["live poll, no news, visitor >= 0.8x ceiling"]["sync"][1] is True
    assert checks["live poll, no news, member >= 0.8x ceiling"]["sync"][1] is False


def _reply_cost(quiet_ms: float, watched_ms: float, statements: tuple[float, float]) -> dict:
    def thread(watchers: int, ms: float, count: float) -> dict[str, Any]:
        return {
            "watchers": watchers,
            "wall_ms_median": ms,
            "wall_ms_mean": ms,
            "cpu_ms_mean": ms / 2,
            "statements_per_reply": count,
        }

    return {
        "database": "sqlite",
        "quiet": thread(0, quiet_ms, statements[0]),
        "watched": thread(5000, watched_ms, statements[1]),
        "jobs_queued": 8,
        "notifications_written_in_requests": 0,
        "replies_per_thread": 4,
        "watched_over_quiet": round(watched_ms / quiet_ms, 2),
    }


@pytest.mark.parametrize(
    ("watched_ms", "statements", "passes"),
    [
        (10.0 * REPLY_COST_LIMIT, (11, 11), True),
        (10.0 * REPLY_COST_LIMIT + 0.5, (11, 11), False),
        (10.0, (11, 12), False),  # a statement more: fan-out crept into the request
    ],
)
def test_a_reply_with_watchers_must_cost_what_one_without_costs(
    watched_ms: float, statements: tuple[float, float], passes: bool
) -> None:
    run = _reply_cost(10.0, watched_ms, statements)
    (cell,) = [cells for name, cells in targets({"reply_cost": [run]}) if "watchers" in name]
    assert cell["sqlite"][1] is passes


def test_the_markdown_has_the_live_and_reply_cost_tables() -> None:
    results = {
        "scale": "small",
        "options": {"duration": 10, "warmup": 2},
        "machine": {"cpus": 2, "load_at_start": 0.1, "commit": "abc"},
        "dataset": {
            "posts": 1,
            "threads": 1,
            "seconds": 1,
            "posts_per_s": 1,
            "bulk_posts_per_s": 1,
            "cli_posts_per_s": 1,
        },
        "pages": [],
        "live": {"sync": _live_run(900.0, 500.0)},
        "reply_cost": [_reply_cost(10.0, 10.5, (11, 11))],
    }
    text = markdown(results)
    assert "| poll, no news, visitor | 900 |" in text
    assert "| sqlite | 5,000 | 10.5 |" in text
