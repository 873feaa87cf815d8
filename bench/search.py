"""Search under load (issue 14): GET /search for a rare word, a common word and a phrase (and
the common word newest first), anonymous and logged in, at 50,000 and 1,000,000 posts, on
SQLite and PostgreSQL. The words and datasets are in bench/search_data.py.

Per database and scale: the dataset (built once and cached), the search index's size on disk,
the posts holding each query's text, the engine alone in process (`search.find` timed without
HTTP or templates, and the plan of its longest step), then wrk on each page next to the
hello-world ceiling, as the read benchmark does. Search pages are never in the page cache (only
the thread, board, profile and index pages are), so every anonymous request is a search.
"""

from __future__ import annotations

import html
import re
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from bench.client import Client
from bench.dataset import BENCH_LOGIN
from bench.load import measure, measure_pages, suite_result, wrk
from bench.search_data import QUERIES, match_counts, search_dataset
from bench.search_index import index_size
from bench.servers import HELLO, SHOWBOARD, app_env, gunicorn, worker_memory

SEARCH_MODES = ("anonymous", "logged_in")
# "about 1,000 results": the page's count of what it found (capped by the engine).
ABOUT = re.compile(r"\babout\s+([\d,]+)", re.IGNORECASE)
ENGINE_SECONDS = 3.0  # in-process timing per query and viewer: at most this long...
ENGINE_CALLS = 200  # ...or this many calls


def search_suite(
    databases: list[str],
    scales: list[str],
    worker_classes: list[str],
    postgres_url: str,
    seconds: float,
    warmup: float,
    rebuild: bool,
    logs: Path,
    say: Callable[[str], None],
) -> dict[str, Any]:
    runs = []
    for database in databases:
        for scale in scales:
            say(f"search: {database}, {scale} dataset (cached if built)")
            dataset = search_dataset(database, scale, rebuild, postgres_url)
            say(f"search: {database}, {scale}: index size, matches, the engine in process")
            run: dict[str, Any] = {
                "database": database,
                "scale": scale,
                "build": dataset.build,
                "index": index_size(dataset.url),
                "matches": match_counts(dataset.url),
                "engine": engine_times(dataset.url),
                "reads": {},
            }
            for worker_class in worker_classes:
                say(f"search: {database}, {scale}, wrk, {worker_class}")
                run["reads"][worker_class] = search_reads(
                    dataset.url, worker_class, seconds, warmup, logs / f"search-{database}-{scale}"
                )
            runs.append(run)
    return {
        "queries": [
            {"name": query.name, "words": query.words, **vars(query.page())} for query in QUERIES
        ],
        "runs": runs,
    }


def search_reads(
    database_url: str, worker_class: str, seconds: float, warmup: float, logs: Path
) -> dict[str, Any]:
    """Every query anonymous and logged in (turns A B B A on each page, as the read benchmark's
    logged-in modes), between two measurements of the ceiling."""
    env = app_env(database_url)
    pages = [query.page() for query in QUERIES]
    with (
        gunicorn(HELLO, worker_class, env, logs / f"hello-{worker_class}.log") as hello,
        gunicorn(SHOWBOARD, worker_class, env, logs / f"app-{worker_class}.log") as app,
    ):
        wrk(hello.url(), warmup)
        ceiling = [measure(hello, "/", seconds)]
        clients = {mode: Client(app.port) for mode in SEARCH_MODES}
        try:
            clients["logged_in"].log_in(*BENCH_LOGIN)
            found = {
                f"{page.name}/{mode}": check_results(client, page.path)
                for page in pages
                for mode, client in clients.items()
            }
            results = measure_pages(app, clients, pages, seconds, warmup)
        finally:
            for client in clients.values():
                client.close()
        ceiling.append(measure(hello, "/", seconds))
        memory = worker_memory(app)
    for key, about in found.items():
        results[key]["results"] = about
    return suite_result(ceiling, results, memory)


def check_results(client: Client, path: str) -> int | None:
    """The page must be a search that found something (a highlighted match), or its figures
    would be those of an empty result page; the count it says it found, if it says one."""
    reply = client.get(path)
    if reply.status != 200:
        raise RuntimeError(f"GET {path} answered {reply.status}; not benchmarking it")
    if "<mark>" not in reply.body:
        raise RuntimeError(
            f"GET {path} highlighted no match: the search found nothing (is the index built? "
            "`flask search reindex`)"
        )
    about = ABOUT.search(html.unescape(reply.body))
    return int(about.group(1).replace(",", "")) if about else None


# ---------------------------------------------------------------------------- the engine alone


def engine_times(database_url: str) -> dict[str, Any]:
    """`search.find` for each query and viewer, in this process (no HTTP, no template): the
    median and slowest call in ms, the statements one call runs, and the plan of the longest
    step."""
    from forum import create_app
    from forum.access.viewer import viewer_for
    from forum.models import User
    from forum.search import search

    app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": "bench", "RATE_LIMITS": "off"})
    engine: Engine = app.extensions["forum.engine"]
    timings: dict[str, Any] = {}
    try:
        # A GET's request context: on SQLite its transactions are plain (deferred) reads.
        with app.test_request_context("/search"), Session(engine) as session:
            member = session.scalar(select(User).where(User.username_key == BENCH_LOGIN[0]))
            viewers = {
                "anonymous": viewer_for(session, None),
                "logged_in": viewer_for(session, member),
            }
            for query in QUERIES:
                filters = search.SearchFilters(newest_first=query.newest_first)
                for who, viewer in viewers.items():

                    def call(
                        words: str = query.words, seen: Any = viewer, by: Any = filters
                    ) -> Any:
                        found = search.find(session, seen, words, by)
                        session.rollback()  # end the read transaction, as a request does
                        return found

                    timings[f"{query.page().name}/{who}"] = _time_calls(call, engine)
    finally:
        engine.dispose()
    return timings


def _time_calls(call: Callable[[], Any], engine: Engine) -> dict[str, Any]:
    for _ in range(3):  # warm: statement caches, the OS's file cache
        call()
    with _statements(engine) as statements:
        page = call()
    # The slowest query: a BEGIN (SQLite's, sent as a statement) has no plan to show.
    queries = [s for s in statements if s[0].lstrip().upper().startswith(("SELECT", "WITH"))]
    slowest = max(queries, key=lambda s: s[2], default=None)
    times: list[float] = []
    started = time.perf_counter()
    while len(times) < ENGINE_CALLS and time.perf_counter() - started < ENGINE_SECONDS:
        began = time.perf_counter()
        call()
        times.append(1000 * (time.perf_counter() - began))
    times.sort()
    return {
        "calls": len(times),
        "median_ms": round(statistics.median(times), 2),
        "p99_ms": round(times[min(len(times) - 1, int(len(times) * 0.99))], 2),
        "total": page.total,
        "more_than_total": page.more_than_total,
        "hits": len(page.hits),
        "statements": len(statements),
        "slowest_step_ms": round(slowest[2], 2) if slowest else None,
        "plan": _plan(engine, slowest[0], slowest[1]) if slowest else "",
    }


@contextmanager
def _statements(engine: Engine) -> Iterator[list[tuple[str, Any, float]]]:
    """The statements run inside the block, each as (SQL, parameters, ms from its start to the
    next statement's or the block's end). A statement's own execute call says little: SQLite
    finds rows as they are fetched, after it returns; so each step is a statement, fetching its
    rows and the Python that uses them."""
    steps: list[tuple[str, Any, float]] = []
    started: list[tuple[str, Any, float]] = []

    def before(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_rest: Any) -> None:
        started.append((statement, parameters, time.perf_counter()))

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield steps
    finally:
        ended = time.perf_counter()
        event.remove(engine, "before_cursor_execute", before)
        ends = [at for _, _, at in started[1:]] + [ended]
        steps += [
            (sql, bound, 1000 * (end - at))
            for (sql, bound, at), end in zip(started, ends, strict=True)
        ]


def _plan(engine: Engine, statement: str, parameters: Any) -> str:
    """The statement's plan: EXPLAIN QUERY PLAN on SQLite, EXPLAIN (ANALYZE, BUFFERS) on
    PostgreSQL (it runs the statement once more)."""
    sqlite = engine.dialect.name == "sqlite"
    prefix = "EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN (ANALYZE, BUFFERS) "
    try:
        with engine.connect() as connection:
            rows = connection.exec_driver_sql(prefix + statement, parameters).all()
    except Exception as error:  # a plan is a diagnostic: never fail the benchmark for it
        return f"(no plan: {error.__class__.__name__}: {error})"
    if sqlite:
        return "\n".join(f"{row[0]}<-{row[1]} {row[3]}" for row in rows)
    return "\n".join(str(row[0]) for row in rows)
