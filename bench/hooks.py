"""What each per-request hook costs a page: CPU per request through Flask's test client with
every app-wide before_request / after_request / teardown_request hook taken out, one at a time,
against the app as it is. Rounds alternate between the variants, so a machine that gets busier
halfway through skews them all alike; the median over the rounds is reported.

    FORUM_DATABASE_URL=sqlite:///bench/results/dataset-small.sqlite3 \\
        .venv/bin/python -m bench.hooks /t/75/some-slug --mode anonymous

A hook's "costs" figure is what the page saves without it. Taking some hooks out changes what
the page does (without the page cache's lookup a hit becomes a render), so read each row with
its hook's job in mind; a negative figure means the page does more work without it.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient

from bench.client import USER_AGENT
from bench.inprocess import MODES, _log_in

HOOK_LISTS = ("before_request_funcs", "after_request_funcs", "teardown_request_funcs")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.hooks",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("path", help="the page, e.g. /t/75/some-slug")
    parser.add_argument("--mode", choices=MODES, default="anonymous")
    parser.add_argument("--requests", type=int, default=200, help="per variant and round")
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args(argv)
    if "FORUM_DATABASE_URL" not in os.environ:
        parser.error("set FORUM_DATABASE_URL to a migrated database")
    os.environ.setdefault("FORUM_SECRET_KEY", "hooks")
    os.environ["FORUM_RATE_LIMITS"] = "off"
    os.environ["FORUM_PAGE_CACHE"] = "off" if args.mode == "uncached" else "on"

    from forum import create_app

    names = _hook_names(create_app())
    variants: dict[str, FlaskClient] = {"(as it is)": _client(create_app(), None, args.mode)}
    for name in names:
        variants[f"without {name}"] = _client(create_app(), name, args.mode)
    timings: dict[str, list[float]] = {label: [] for label in variants}
    for client in variants.values():
        _load(client, args.path, 20)  # templates compiled, statement cache filled, page cached
    for _ in range(args.rounds):
        for label, client in variants.items():
            started = time.process_time()
            _load(client, args.path, args.requests)
            timings[label].append((time.process_time() - started) / args.requests * 1000)
    whole = statistics.median(timings["(as it is)"])
    print(
        f"{args.mode} {args.path}: {whole:.3f} ms CPU a request as it is "
        f"(median of {args.rounds} rounds of {args.requests})"
    )
    print("| Hook | ms without it | costs, ms |")
    print("|---|---|---|")
    for label, values in timings.items():
        if label == "(as it is)":
            continue
        without = statistics.median(values)
        print(f"| {label.removeprefix('without ')} | {without:.3f} | {whole - without:+.3f} |")
    return 0


def _hook_names(app: Flask) -> list[str]:
    return [
        f"{kind.removesuffix('_funcs')}: {_name(hook)}"
        for kind in HOOK_LISTS
        for hook in getattr(app, kind).get(None, [])
    ]


def _name(hook: Callable[..., object]) -> str:
    return f"{hook.__module__}.{hook.__qualname__.replace('.<locals>', '')}"


def _client(app: Flask, without: str | None, mode: str) -> FlaskClient:
    if without is not None:
        kind, _, name = without.partition(": ")
        hooks = getattr(app, f"{kind}_funcs")[None]
        hooks[:] = [hook for hook in hooks if _name(hook) != name]
    client = app.test_client()
    client.environ_base["HTTP_USER_AGENT"] = USER_AGENT
    if mode == "logged_in":
        _log_in(client)
    return client


def _load(client: FlaskClient, path: str, requests: int) -> None:
    for _ in range(requests):
        reply = client.get(path)
        if reply.status_code != 200:
            raise SystemExit(f"GET {path} answered {reply.status_code}")


if __name__ == "__main__":
    sys.exit(main())
