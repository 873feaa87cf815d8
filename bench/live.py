"""Live threads' polls (issue 13): wrk on `/t/<id>/live?after=<its post count>`, the "no news"
answer a thread page asks for every 5 s, next to the hello-world ceiling in the same run.

The poll is measured twice, in turns (A B B A, as bench/load.py's logged-in modes): as a
visitor, and with a logged-in member's cookies. The browser sends no cookies on a visible
thread's poll (static/js/live.js), so the member's figure is the worse case: what a poll costs
when the session cookie still has to be opened and verified.

The target is 0.8x the ceiling (requests/s): a thousand fans polling every 5 s are 200 polls a
second, and nearly all of them must be answered from the process's memo, with no SQL.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from bench.client import Client, ClientError
from bench.dataset import BENCH_LOGIN, Dataset
from bench.load import _combined, measure, suite_result, wrk
from bench.servers import HELLO, SHOWBOARD, Server, app_env, gunicorn, worker_memory

# The target: the share of the ceiling's requests/s a "no news" poll must reach.
LIVE_CEILING_SHARE = 0.8
MODES = ("visitor", "member")
# The app's floor: /healthz answers from the process (no session, no database) through the same
# hooks as every request. A poll near it costs what any request costs before its view runs.
FLOOR = "/healthz"
_THREAD_ID = re.compile(r"^/t/(\d+)/")


def poll_path(database_url: str, thread_path: str) -> str:
    """The poll a page of the thread at `thread_path` sends when nothing is new: after its
    current post count."""
    found = _THREAD_ID.match(thread_path)
    if found is None:
        raise ValueError(f"not a thread page: {thread_path}")
    thread_id = int(found.group(1))
    engine = create_engine(database_url)
    try:
        with engine.connect() as db:
            count = db.scalar(
                text("SELECT post_count FROM threads WHERE id = :id"), {"id": thread_id}
            )
    finally:
        engine.dispose()
    if count is None:
        raise ValueError(f"no thread {thread_id}")
    return f"/t/{thread_id}/live?after={count}"


def live_suite(
    dataset: Dataset, worker_class: str, seconds: float, warmup: float, logs: Path
) -> dict[str, Any]:
    """The no-news poll on the dataset's thread page, as a visitor and as a member, between
    two measurements of the ceiling."""
    thread = next(page for page in dataset.pages if page.name == "thread")
    path = poll_path(dataset.url, thread.path)
    env = app_env(dataset.url)
    with (
        gunicorn(HELLO, worker_class, env, logs / f"hello-live-{worker_class}.log") as hello,
        gunicorn(SHOWBOARD, worker_class, env, logs / f"app-live-{worker_class}.log") as app,
    ):
        wrk(hello.url(), warmup)
        ceiling = [measure(hello, "/", seconds)]
        member = Client(app.port)
        try:
            member.log_in(*BENCH_LOGIN)
            cookies = {"visitor": "", "member": member.cookie_header()}
            for mode in MODES:
                _check(app, path, cookies[mode])
                wrk(app.url(path), warmup, cookies[mode])
            half = float(math.ceil(seconds / 2))
            measured: dict[str, list[dict[str, object]]] = {mode: [] for mode in MODES}
            for mode in [*MODES, *reversed(MODES)]:
                measured[mode].append(measure(app, path, half, cookies[mode]))
            wrk(app.url(FLOOR), warmup)
            floor = measure(app, FLOOR, seconds)
        finally:
            member.close()
        ceiling.append(measure(hello, "/", seconds))
        memory = worker_memory(app)
    polls = {f"live/{mode}": {**_combined(runs), "path": path} for mode, runs in measured.items()}
    polls["live/floor"] = {**floor, "path": FLOOR}
    return suite_result(ceiling, polls, memory)


def _check(server: Server, path: str, cookie: str) -> None:
    """Measure only a poll that says "no news" (204): an error page would flatter the figure."""
    client = Client(server.port)
    try:
        if cookie:
            client.cookies.update(
                dict(part.split("=", 1) for part in cookie.split("; ") if "=" in part)
            )
        reply = client.get(path)
        if reply.status != 204:
            raise ClientError(f"GET {path} answered {reply.status}, not 204: not measuring it")
        if reply.sets_cookie:
            raise ClientError(f"GET {path} set a cookie: the poll should leave the session alone")
    finally:
        client.close()
    if "Traceback" in server.log_text():
        raise RuntimeError(f"the app logged an error:\n{server.log_text()[-3000:]}")


def ceiling_share(run: dict[str, Any], mode: str) -> tuple[float, float] | None:
    """The poll's requests/s and CPU per request as shares of the ceiling's (1.0 = as cheap
    as hello world); None when the mode was not measured."""
    poll = run["pages"].get(f"live/{mode}")
    if poll is None:
        return None
    by_rate = poll["requests_per_s"] / max(run["ceiling_requests_per_s"], 0.01)
    by_cpu = run["ceiling_cpu_ms_per_request"] / max(poll["cpu_ms_per_request"], 0.01)
    return by_rate, by_cpu
