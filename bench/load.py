"""Read load: wrk against each page, anonymous and logged in, next to the hello-world ceiling
served by the same gunicorn settings in the same run."""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path

from bench.client import USER_AGENT, Client
from bench.dataset import BENCH_LOGIN, Dataset
from bench.servers import HELLO, SHOWBOARD, Server, app_env, gunicorn, worker_memory

CONNECTIONS = 8
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
    command = ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{seconds:g}s", "--latency",
               "-H", f"User-Agent: {USER_AGENT}"]
    if cookie:
        command += ["-H", f"Cookie: {cookie}"]
    done = subprocess.run([*command, url], capture_output=True, text=True, check=True,
                          timeout=seconds + 60)
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

    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)",
                        output)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return WrkResult(
        requests_per_s=float(number(r"^Requests/sec:\s+([\d.]+)")),
        p50_ms=percentile("50"),
        p99_ms=percentile("99"),
        requests=int(number(r"^\s+(\d+) requests in")),
        errors=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=sum(int(n) for n in sockets.groups()) if sockets else 0,
    )


def read_suite(dataset: Dataset, worker_class: str, seconds: float, warmup: float,
               pages: list[str] | None, logs: Path) -> dict[str, object]:
    """Every page anonymous and logged in, between two measurements of the ceiling (their
    difference shows how much the machine's other load moved during the run)."""
    chosen = [page for page in dataset.pages if pages is None or page.name in pages]
    env = app_env(dataset.url)
    results: dict[str, dict[str, object]] = {}
    with (gunicorn(HELLO, worker_class, env, logs / f"hello-{worker_class}.log") as hello,
          gunicorn(SHOWBOARD, worker_class, env, logs / f"app-{worker_class}.log") as app):
        ceiling = [_measure(hello.url(), seconds, warmup)]
        visitor, member = Client(app.port), Client(app.port)
        try:
            member.log_in(*BENCH_LOGIN)
            for who, client in (("anonymous", visitor), ("logged_in", member)):
                cookie = member.cookie_header() if client is member else ""
                for page in chosen:
                    sets_cookie = _check(app, page.path, client, logged_in=client is member)
                    results[f"{page.name}/{who}"] = {
                        **_measure(app.url(page.path), seconds, warmup, cookie),
                        "sets_cookie": sets_cookie}
        finally:
            visitor.close()
            member.close()
        ceiling.append(_measure(hello.url(), seconds, warmup))
        memory = worker_memory(app)
    mean = sum(float(run["requests_per_s"]) for run in ceiling) / len(ceiling)
    return {"ceiling_requests_per_s": round(mean, 1), "ceiling_runs": ceiling,
            "pages": results, "workers": memory}


def _measure(url: str, seconds: float, warmup: float, cookie: str = "") -> dict[str, object]:
    wrk(url, warmup, cookie)
    result = wrk(url, seconds, cookie)
    # Other work on this machine skews everything: keep the load average next to each figure.
    return {**asdict(result), "load_1m": round(os.getloadavg()[0], 1)}


def _check(server: Server, path: str, client: Client, logged_in: bool) -> bool:
    """Load only pages that work: a 404 or a redirect would be measured at a flattering speed.
    True when the page sets a cookie (which makes it uncacheable for shared caches)."""
    reply = client.get(path)
    if reply.status != 200:
        raise RuntimeError(f"GET {path} answered {reply.status}; not benchmarking it")
    if logged_in != ("Log out" in reply.body):
        raise RuntimeError(f"GET {path}: expected logged_in={logged_in}, the page disagrees")
    if "Traceback" in server.log_text():
        raise RuntimeError(f"the app logged an error:\n{server.log_text()[-3000:]}")
    return reply.sets_cookie
