"""Finale night: anonymous fans read while members reply.

The read benchmark measures cache hits and cache misses apart; this one measures what decides
between them on a busy night. Members reply to a few hot threads (the write benchmark's
writers) while wrk loads one page as anonymous visitors, and a wrk script counts the app's
X-Cache answer to every request. Two pages: a quiet thread nobody is replying to, which the
page cache should keep serving (forum/platform/pagecache.py keys a thread's pages by that thread's
version, so replies elsewhere leave them valid), and one of the hot threads, which every reply
invalidates.
"""

from __future__ import annotations

import re
import secrets
import threading
from pathlib import Path

from bench.dataset import Dataset, ensure_users
from bench.load import WrkResult, parse_wrk, run_wrk
from bench.servers import SHOWBOARD, app_env, gunicorn
from bench.writes import (
    WRITER_PASSWORD,
    Writer,
    close,
    hot_threads,
    log_in_writers,
    race,
    writer_names,
)

CACHE_STATS_SCRIPT = Path(__file__).with_name("cachestats.lua")
CACHE_STATS = re.compile(r"^x-cache hit=(\d+) miss=(\d+) other=(\d+)$", re.MULTILINE)


def finale_suite(
    dataset: Dataset,
    database_url: str,
    worker_class: str,
    seconds: float,
    clients: int,
    hot: int,
    logs: Path,
) -> list[dict[str, object]]:
    """`database_url` is a throwaway copy of the dataset: the writers change it."""
    threads = hot_threads(database_url, hot)
    quiet = next(page for page in dataset.pages if page.name == "thread")
    if any(quiet.path.startswith(f"/t/{thread.id}/") for thread in threads):
        raise RuntimeError(f"the quiet thread {quiet.path} is one of the hot threads")
    pages = [
        ("quiet thread (no replies)", quiet.path),
        ("hot thread (replied to)", f"/t/{threads[0].id}/{threads[0].slug}"),
    ]
    names = writer_names(clients)
    ensure_users(database_url, names, WRITER_PASSWORD)
    results = []
    log = logs / f"finale-{worker_class}.log"
    with gunicorn(SHOWBOARD, worker_class, app_env(database_url), log) as app:
        for about, path in pages:
            writers = log_in_writers(app.port, names, threads)
            run_id = secrets.token_hex(4)
            elapsed: list[float] = []
            replying = threading.Thread(target=_reply, args=(writers, seconds, run_id, elapsed))
            replying.start()
            try:
                reads, cache = _read_with_cache_stats(app.url(path), seconds)
            finally:
                replying.join()
                close(writers)
            replies = sum(len(writer.acknowledged) for writer in writers)
            served = max(sum(cache.values()), 1)
            results.append(
                {
                    "worker_class": worker_class,
                    "page": about,
                    "path": path,
                    "reads_per_s": reads.requests_per_s,
                    "p50_ms": reads.p50_ms,
                    "p99_ms": reads.p99_ms,
                    "read_errors": reads.errors + reads.socket_errors,
                    "cache": cache,
                    "hit_share": round(cache["hit"] / served, 3),
                    "replies_per_s": round(replies / elapsed[0], 1) if elapsed else 0.0,
                    "writers": clients,
                    "hot_threads": len(threads),
                    "reply_errors": sum(sum(writer.errors.values()) for writer in writers),
                }
            )
    if "Traceback" in log.read_text(errors="replace"):
        raise RuntimeError(f"the app logged an error during the finale run: see {log}")
    return results


def _reply(writers: list[Writer], seconds: float, run_id: str, elapsed: list[float]) -> None:
    elapsed.append(race(writers, seconds, run_id))


def _read_with_cache_stats(url: str, seconds: float) -> tuple[WrkResult, dict[str, int]]:
    output = run_wrk(url, seconds, ["-s", str(CACHE_STATS_SCRIPT)])
    found = CACHE_STATS.search(output)
    if found is None:
        raise ValueError(f"wrk output without the X-Cache counts:\n{output}")
    hit, miss, other = (int(n) for n in found.groups())
    return parse_wrk(output), {"hit": hit, "miss": miss, "other": other}
