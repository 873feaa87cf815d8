"""Read load: wrk against each page, next to the hello-world ceiling served by the same gunicorn
settings in the same run.

Each page is measured three ways: anonymous as served (the anonymous page cache answers after
the first request), anonymous with every request rendered (a cache miss every time: what a
visitor gets right after a write that shows on the page) and logged in.

The cache keys on the path and the page number only, so a made-up query string is a hit, not a
miss. Misses are therefore measured on a second gunicorn, started for that mode only with the
page cache off (FORUM_PAGE_CACHE=off), same workers and dataset; the page must say
`X-Cache: miss` twice in a row before it is measured.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path

from bench.client import USER_AGENT, Client
from bench.dataset import BENCH_LOGIN, Dataset, Page
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
MODES = ("anonymous", "uncached", "logged_in")
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
    command = [
        "wrk",
        "-t1",
        f"-c{CONNECTIONS}",
        f"-d{seconds:g}s",
        "--latency",
        "-H",
        f"User-Agent: {USER_AGENT}",
    ]
    if cookie:
        command += ["-H", f"Cookie: {cookie}"]
    command.append(url)
    done = subprocess.run(command, capture_output=True, text=True, check=True, timeout=seconds + 60)
    return parse_wrk(done.stdout)


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
        ceiling = [_measure(hello, "/", seconds)]
        visitor, member = Client(app.port), Client(app.port)
        try:
            member.log_in(*BENCH_LOGIN)
            for mode in modes:
                if mode == "uncached":
                    results.update(
                        _uncached_pages(dataset.url, worker_class, chosen, seconds, warmup, logs)
                    )
                else:
                    results.update(
                        _pages(
                            app,
                            member if mode == "logged_in" else visitor,
                            mode,
                            chosen,
                            seconds,
                            warmup,
                        )
                    )
        finally:
            visitor.close()
            member.close()
        ceiling.append(_measure(hello, "/", seconds))
        memory = worker_memory(app)

    def mean(key: str) -> float:
        return round(sum(float(run[key]) for run in ceiling) / len(ceiling), 2)

    return {
        "ceiling_requests_per_s": mean("requests_per_s"),
        "ceiling_cpu_ms_per_request": mean("cpu_ms_per_request"),
        "ceiling_runs": ceiling,
        "pages": results,
        "workers": memory,
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
            return _pages(app, visitor, "uncached", pages, seconds, warmup)
        finally:
            visitor.close()


def _pages(
    server: Server, client: Client, mode: str, pages: list[Page], seconds: float, warmup: float
) -> dict[str, dict[str, object]]:
    logged_in = mode == "logged_in"
    cookie = client.cookie_header() if logged_in else ""
    results: dict[str, dict[str, object]] = {}
    for page in pages:
        wrk(server.url(page.path), warmup, cookie)
        # After the warm-up, so every worker had its chance to cache the page.
        seen = _check(server, page.path, client, logged_in, mode == "uncached")
        results[f"{page.name}/{mode}"] = {**_measure(server, page.path, seconds, cookie), **seen}
    return results


def _measure(server: Server, path: str, seconds: float, cookie: str = "") -> dict[str, object]:
    cpu_before = cpu_seconds(server)
    result = wrk(server.url(path), seconds, cookie)
    cpu = cpu_seconds(server) - cpu_before
    # Other work on this machine skews throughput; the server's CPU time per request much
    # less so. Keep both, and the load average next to them.
    return {
        **asdict(result),
        "cpu_ms_per_request": round(1000 * cpu / max(result.requests, 1), 2),
        "load_1m": round(os.getloadavg()[0], 1),
    }


def _check(
    server: Server, path: str, client: Client, logged_in: bool, uncached: bool
) -> dict[str, object]:
    """Load only pages that work: a 404 or a redirect would be measured at a flattering speed.
    Reports what the page said about caching and cookies the second time it was asked; the
    uncached mode must have rendered it both times, or its figures would be hits."""
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
    if "Traceback" in server.log_text():
        raise RuntimeError(f"the app logged an error:\n{server.log_text()[-3000:]}")
    return {"sets_cookie": reply.sets_cookie, "x_cache": reply.cache or "-"}
