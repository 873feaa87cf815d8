"""Read load: wrk against each page, next to the hello-world ceiling served by the same gunicorn
settings in the same run.

Each page is measured four ways: anonymous as served (the anonymous page cache answers after
the first request), anonymous with every request rendered (a cache miss every time: what a
visitor gets right after a write that shows on the page), logged in, and logged in as a member
who has set their watch progress (S1E6 on every board), so the page masks thread titles,
collapses posts and withholds spoilers for a later episode. The two logged-in modes are measured
back to back, page by page, on the same server: their ratio is what spoiler protection costs.

The cache keys on the path and the page number only, so a made-up query string is a hit, not a
miss. Misses are therefore measured on a second gunicorn, started for that mode only with the
page cache off (FORUM_PAGE_CACHE=off), same workers and dataset; the page must say
`X-Cache: miss` twice in a row before it is measured.
"""

from __future__ import annotations

import html
import math
import os
import re
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, cast

from bench.client import USER_AGENT, Client, ClientError
from bench.dataset import BENCH_LOGIN, BENCH_WATCHER, WATCHED, Dataset, Page
from bench.servers import (
    HELLO,
    SHOWBOARD,
    Server,
    app_env,
    cpu_seconds,
    gunicorn,
    worker_memory,
)

CONNECTIONS = 8
MODES = ("anonymous", "uncached", "logged_in", "logged_in_progress")
LOGGED_IN = ("logged_in", "logged_in_progress")
# What a page must (and must not) say in a mode, so the figures are of the pages meant: the
# watcher's pages do mask, collapse and withhold, the plain member's don't.
_WITHHOLDS = ("post-withheld", "spoiler-withheld")
EXPECTED: dict[tuple[str, str], tuple[tuple[str, ...], tuple[str, ...]]] = {
    ("board", "logged_in_progress"): ((f"You're at {WATCHED}", "is-masked"), ()),
    ("board", "logged_in"): (("You haven't set your progress",), ("is-masked",)),
    ("thread", "logged_in_progress"): (_WITHHOLDS, ()),
    ("thread", "logged_in"): ((), _WITHHOLDS),
}
UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


@dataclass(frozen=True)
class WrkResult:
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int  # responses outside 2xx/3xx
    socket_errors: int


def wrk(url: str, seconds: float, cookie: str = "") -> WrkResult:
    return parse_wrk(run_wrk(url, seconds, ["-H", f"Cookie: {cookie}"] if cookie else []))


def run_wrk(url: str, seconds: float, options: list[str]) -> str:
    """wrk's output for `seconds` of load on `url` (one thread, CONNECTIONS connections,
    latency percentiles), with extra `options` (headers, a Lua script)."""
    command = [
        "wrk",
        "-t1",
        f"-c{CONNECTIONS}",
        f"-d{seconds:g}s",
        "--latency",
        "-H",
        f"User-Agent: {USER_AGENT}",
        *options,
        url,
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=True, timeout=seconds + 60)
    return done.stdout


def parse_wrk(output: str) -> WrkResult:
    def number(pattern: str) -> str:
        found = re.search(pattern, output, re.MULTILINE)
        if found is None:
            raise ValueError(f"wrk output without {pattern!r}:\n{output}")
        return found.group(1)

    def percentile(label: str) -> float:
        found = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s|m)\s*$", output, re.MULTILINE)
        if found is None:
            raise ValueError(f"wrk output without the {label}th percentile:\n{output}")
        return round(float(found.group(1)) * UNITS_MS[found.group(2)], 2)

    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return WrkResult(
        requests_per_s=float(number(r"^Requests/sec:\s+([\d.]+)")),
        p50_ms=percentile("50"),
        p99_ms=percentile("99"),
        requests=int(number(r"^\s+(\d+) requests in")),
        errors=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=sum(int(n) for n in sockets.groups()) if sockets else 0,
    )


def read_suite(
    dataset: Dataset,
    worker_class: str,
    seconds: float,
    warmup: float,
    pages: list[str] | None,
    modes: list[str],
    logs: Path,
) -> dict[str, object]:
    """Every page in every mode, between two measurements of the ceiling (their difference
    shows how much the machine's other load moved during the run)."""
    chosen = [page for page in dataset.pages if pages is None or page.name in pages]
    env = app_env(dataset.url)
    results: dict[str, dict[str, object]] = {}
    with (
        gunicorn(HELLO, worker_class, env, logs / f"hello-{worker_class}.log") as hello,
        gunicorn(SHOWBOARD, worker_class, env, logs / f"app-{worker_class}.log") as app,
    ):
        wrk(hello.url(), warmup)
        ceiling = [measure(hello, "/", seconds)]
        clients = {
            "anonymous": Client(app.port),
            "logged_in": Client(app.port),
            "logged_in_progress": Client(app.port),
        }
        try:
            clients["logged_in"].log_in(*BENCH_LOGIN)
            if "logged_in_progress" in modes:
                clients["logged_in_progress"].log_in(*BENCH_WATCHER)
                set_progress(clients["logged_in_progress"], dataset.episode_boards, WATCHED)
            for mode in modes:
                if mode == "uncached":
                    results.update(
                        _uncached_pages(dataset.url, worker_class, chosen, seconds, warmup, logs)
                    )
                elif mode in LOGGED_IN and all(m in modes for m in LOGGED_IN):
                    # Both logged-in modes page by page, back to back: the machine's other
                    # load moves less between the two figures their ratio is made of.
                    if mode == LOGGED_IN[0]:
                        both = {m: clients[m] for m in LOGGED_IN}
                        results.update(measure_pages(app, both, chosen, seconds, warmup))
                else:
                    results.update(
                        measure_pages(app, {mode: clients[mode]}, chosen, seconds, warmup)
                    )
        finally:
            for client in clients.values():
                client.close()
        ceiling.append(measure(hello, "/", seconds))
        memory = worker_memory(app)
    return suite_result(ceiling, results, memory)


def suite_result(
    ceiling: list[dict[str, Any]], pages: dict[str, Any], workers: Any
) -> dict[str, Any]:
    """What a suite of pages measured between two ceiling runs records: the ceiling's mean."""

    def mean(key: str) -> float:
        return round(sum(cast(float, run[key]) for run in ceiling) / len(ceiling), 2)

    return {
        "ceiling_requests_per_s": mean("requests_per_s"),
        "ceiling_cpu_ms_per_request": mean("cpu_ms_per_request"),
        "ceiling_runs": ceiling,
        "pages": pages,
        "workers": workers,
    }


def _uncached_pages(
    database_url: str,
    worker_class: str,
    pages: list[Page],
    seconds: float,
    warmup: float,
    logs: Path,
) -> dict[str, dict[str, object]]:
    """Every page rendered on every request, by a server with the page cache off (started only
    while this mode runs, so the other modes' server and its memory figures are unchanged)."""
    env = {**app_env(database_url), "FORUM_PAGE_CACHE": "off"}
    with gunicorn(SHOWBOARD, worker_class, env, logs / f"app-uncached-{worker_class}.log") as app:
        visitor = Client(app.port)
        try:
            return measure_pages(app, {"uncached": visitor}, pages, seconds, warmup)
        finally:
            visitor.close()


def set_progress(client: Client, board_slugs: list[str], watched: str) -> None:
    """Set the client's watch progress on each board as a fan does: the board page's form
    (its CSRF token), POSTed to /b/<slug>/progress; the app redirects back on success."""
    if not board_slugs:
        raise ClientError("no board has episodes: nothing to set progress on (--rebuild)")
    for slug in board_slugs:
        board = f"/b/{slug}"
        token = client.csrf_token(board)
        answer = client.post(
            f"{board}/progress", {"csrf_token": token, "watched": watched, "next": board}
        )
        if answer.status != 302:
            raise ClientError(f"POST {board}/progress watched={watched}: {answer.status}")
        # Follow the redirect as a browser does: the page shows (and takes out of the session)
        # the "Saved" message; left in, it would be drawn and the cookie rewritten on every
        # measured request.
        client.get(board)


def measure_pages(
    server: Server, clients: dict[str, Client], pages: list[Page], seconds: float, warmup: float
) -> dict[str, dict[str, object]]:
    """Each page in each mode of `clients`. With more than one mode, the modes take turns on
    each page in halves, there and back (A B B A): a drift in the machine's other load then
    weighs on every mode alike instead of on whichever ran last."""
    results: dict[str, dict[str, object]] = {}
    for page in pages:
        cookies = {
            mode: client.cookie_header() if mode in LOGGED_IN else ""
            for mode, client in clients.items()
        }
        seen = {}
        for mode, client in clients.items():
            wrk(server.url(page.path), warmup, cookies[mode])
            # After the warm-up, so every worker had its chance to cache the page.
            seen[mode] = _check(server, page, client, mode)
        if len(clients) == 1:
            turns = [(mode, seconds) for mode in clients]
        else:
            # wrk takes whole seconds.
            half = float(math.ceil(seconds / 2))
            turns = [(mode, half) for mode in [*clients, *reversed(clients)]]
        measured: dict[str, list[dict[str, object]]] = {mode: [] for mode in clients}
        for mode, length in turns:
            measured[mode].append(measure(server, page.path, length, cookies[mode]))
        for mode, runs in measured.items():
            results[f"{page.name}/{mode}"] = {**_combined(runs), **seen[mode]}
    return results


def _combined(runs: list[dict[str, object]]) -> dict[str, object]:
    """One mode's turns as one measurement: totals over all of them; the percentiles, which
    don't add up, as the mean of the turns'."""
    if len(runs) == 1:
        return runs[0]

    def total(key: str) -> float:
        return sum(cast(float, run[key]) for run in runs)

    def mean(key: str) -> float:
        return round(total(key) / len(runs), 2)

    requests = int(total("requests"))
    seconds = sum(cast(int, run["requests"]) / cast(float, run["requests_per_s"]) for run in runs)
    return {
        "requests_per_s": round(requests / seconds, 2),
        "p50_ms": mean("p50_ms"),
        "p99_ms": mean("p99_ms"),
        "requests": requests,
        "errors": int(total("errors")),
        "socket_errors": int(total("socket_errors")),
        "cpu_ms_per_request": round(total("cpu_ms") / max(requests, 1), 2),
        "cpu_ms": round(total("cpu_ms"), 1),
        "load_1m": runs[-1]["load_1m"],
    }


def measure(server: Server, path: str, seconds: float, cookie: str = "") -> dict[str, object]:
    cpu_before = cpu_seconds(server)
    result = wrk(server.url(path), seconds, cookie)
    cpu = cpu_seconds(server) - cpu_before
    # Other work on this machine skews throughput; the server's CPU time per request much
    # less so. Keep both, and the load average next to them.
    return {
        **asdict(result),
        "cpu_ms_per_request": round(1000 * cpu / max(result.requests, 1), 2),
        "cpu_ms": round(1000 * cpu, 1),
        "load_1m": round(os.getloadavg()[0], 1),
    }


def _check(server: Server, page: Page, client: Client, mode: str) -> dict[str, object]:
    """Load only pages that work: a 404 or a redirect would be measured at a flattering speed.
    Reports what the page said about caching and cookies the second time it was asked; the
    uncached mode must have rendered it both times, or its figures would be hits. The logged-in
    modes must say so, and show what EXPECTED says they show."""
    path, logged_in, uncached = page.path, mode in LOGGED_IN, mode == "uncached"
    first = client.get(path)
    reply = client.get(path)
    if reply.status != 200:
        raise RuntimeError(f"GET {path} answered {reply.status}; not benchmarking it")
    if uncached and (first.cache, reply.cache) != ("miss", "miss"):
        raise RuntimeError(
            f"GET {path} in the uncached mode said X-Cache: {first.cache or '-'}, "
            f"{reply.cache or '-'}; expected a miss (a render) both times"
        )
    if logged_in != ("Log out" in reply.body):
        raise RuntimeError(f"GET {path}: expected logged_in={logged_in}, the page disagrees")
    must, must_not = EXPECTED.get((page.name, mode), ((), ()))
    # The words as a reader sees them: templates escape apostrophes ("You&#39;re at S1E6").
    words = html.unescape(reply.body)
    missing = [text for text in must if text not in words]
    present = [text for text in must_not if text in words]
    if missing or present:
        raise RuntimeError(
            f"GET {path} as {mode}: the page should say {missing} and not {present}; "
            "the dataset may predate episodes (--rebuild)"
        )
    if "Traceback" in server.log_text():
        raise RuntimeError(f"the app logged an error:\n{server.log_text()[-3000:]}")
    return {"sets_cookie": reply.sets_cookie, "x_cache": reply.cache or "-"}
