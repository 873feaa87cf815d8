"""What each optimisation already in place buys: the query (or work) a page does now, timed
against what it would do without the optimisation, on the SQLite dataset (read-only)."""

from __future__ import annotations

import sqlite3
import statistics
import time
from collections.abc import Callable
from contextlib import closing
from typing import Any

from sqlalchemy.engine import make_url

from bench.dataset import POSTS_PER_PAGE, THREADS_PER_PAGE, Dataset
from forum.discussion import markup

LISTING_ORDER = "ORDER BY is_pinned DESC, last_post_at DESC, id DESC"
# forum/discussion/reading.py board_listing: the page's ids from the covering index, then those
# rows.
BOARD_LISTING = (
    "SELECT * FROM threads WHERE id IN (SELECT id FROM threads {hint} "
    f"WHERE board_id = ? AND is_hidden = 0 {LISTING_ORDER} LIMIT ? OFFSET ?) "
    f"{LISTING_ORDER}"
)
# What it did before the index covered is_hidden: whole rows, skipped by OFFSET.
WHOLE_ROWS_LISTING = (
    f"SELECT * FROM threads WHERE board_id = ? AND is_hidden = 0 {LISTING_ORDER} LIMIT ? OFFSET ?"
)


def ablations(dataset: Dataset) -> list[dict[str, Any]]:
    path = make_url(dataset.url).database
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        long_id, long_posts = db.execute(
            "SELECT id, post_count FROM threads ORDER BY post_count DESC LIMIT 1"
        ).fetchone()
        short_id = db.execute(
            "SELECT id FROM threads ORDER BY abs(post_count - ?), id LIMIT 1", (POSTS_PER_PAGE,)
        ).fetchone()[0]
        board_id, board_threads = db.execute(
            "SELECT id, thread_count FROM boards ORDER BY thread_count DESC LIMIT 1"
        ).fetchone()
        last = (long_posts - 1) // POSTS_PER_PAGE * POSTS_PER_PAGE
        deep = min(199, (board_threads - 1) // THREADS_PER_PAGE) * THREADS_PER_PAGE
        sources = [
            row[0]
            for row in db.execute(
                "SELECT source FROM posts WHERE thread_id = ? ORDER BY number LIMIT ?",
                (short_id, POSTS_PER_PAGE),
            )
        ]

        def query(sql: str, *args: object) -> Callable[[], object]:
            return lambda: db.execute(sql, args).fetchall()

        return [
            _compare(
                "stored cooked HTML",
                "a thread page's 20 posts: read stored HTML",
                query(
                    "SELECT html FROM posts WHERE thread_id = ? AND number BETWEEN 1 AND ?",
                    short_id,
                    POSTS_PER_PAGE,
                ),
                "render their Markdown and sanitise on every view",
                lambda: [markup.render(source) for source in sources],
            ),
            _compare(
                "denormalised counters",
                f"pages of a {long_posts:,}-post thread: threads.post_count",
                query("SELECT post_count FROM threads WHERE id = ?", long_id),
                "COUNT(*) of its posts",
                query("SELECT COUNT(*) FROM posts WHERE thread_id = ?", long_id),
            ),
            _compare(
                "denormalised counters",
                "board index totals: boards.thread_count, post_count",
                query("SELECT thread_count, post_count FROM boards"),
                "COUNT(*) over threads and posts per board",
                query(
                    "SELECT t.board_id, COUNT(DISTINCT t.id), COUNT(p.id) FROM threads t "
                    "JOIN posts p ON p.thread_id = t.id GROUP BY t.board_id"
                ),
            ),
            _compare(
                "numbered posts",
                f"last page of the {long_posts:,}-post thread: number range",
                query(
                    "SELECT * FROM posts WHERE thread_id = ? AND number BETWEEN ? AND ? "
                    "ORDER BY number",
                    long_id,
                    last + 1,
                    last + POSTS_PER_PAGE,
                ),
                f"LIMIT {POSTS_PER_PAGE} OFFSET {last:,} on the same index",
                query(
                    "SELECT * FROM posts WHERE thread_id = ? ORDER BY number LIMIT ? OFFSET ?",
                    long_id,
                    POSTS_PER_PAGE,
                    last,
                ),
            ),
            _compare(
                "board-listing index",
                f"board page {deep // THREADS_PER_PAGE + 1} (offset {deep:,}) with the index",
                query(BOARD_LISTING.format(hint=""), board_id, THREADS_PER_PAGE, deep),
                "without it (NOT INDEXED: scan and sort)",
                query(BOARD_LISTING.format(hint="NOT INDEXED"), board_id, THREADS_PER_PAGE, deep),
            ),
            _compare(
                "ids from the covering index",
                f"board page {deep // THREADS_PER_PAGE + 1}: ids from the index, then 30 rows",
                query(BOARD_LISTING.format(hint=""), board_id, THREADS_PER_PAGE, deep),
                f"whole rows, the first {deep:,} skipped by OFFSET",
                query(WHOLE_ROWS_LISTING, board_id, THREADS_PER_PAGE, deep),
            ),
            _compare(
                "board-listing index",
                "board page 1 with the index",
                query(BOARD_LISTING.format(hint=""), board_id, THREADS_PER_PAGE, 0),
                "without it (NOT INDEXED: scan and sort)",
                query(BOARD_LISTING.format(hint="NOT INDEXED"), board_id, THREADS_PER_PAGE, 0),
            ),
        ]


def _compare(
    optimisation: str,
    now: str,
    fast: Callable[[], object],
    instead: str,
    slow: Callable[[], object],
) -> dict[str, Any]:
    with_ms, without_ms = _median_ms(fast), _median_ms(slow)
    return {
        "optimisation": optimisation,
        "now": now,
        "now_ms": with_ms,
        "instead": instead,
        "instead_ms": without_ms,
        "factor": round(without_ms / max(with_ms, 0.001), 1),
    }


def _median_ms(work: Callable[[], object], budget_s: float = 0.5) -> float:
    """Median of repeated runs (at least 5, or as many as fit in the budget)."""
    times: list[float] = []
    deadline = time.perf_counter() + budget_s
    while len(times) < 5 or (time.perf_counter() < deadline and len(times) < 200):
        started = time.perf_counter()
        work()
        times.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(times), 3)
