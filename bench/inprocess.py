"""CPU time per request inside one process, through Flask's test client: no gunicorn, no wrk,
no network. For measuring one change before and after (docs/performance.md quotes these);
the load benchmark (`python -m bench`) gives the figures that count.

    .venv/bin/python -m bench.inprocess /t/75/some-slug --mode logged_in --requests 500

Runs against the database FORUM_DATABASE_URL names (a `python -m bench` dataset, say:
`sqlite:///bench/results/dataset-small.sqlite3`), which must be migrated (`flask init-db`).

`--mode uncached` builds the app with the page cache off (FORUM_PAGE_CACHE=off), so every
request renders the page; it stops unless the first two requests say `X-Cache: miss`.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time

from flask.testing import FlaskClient

from bench.client import USER_AGENT
from bench.dataset import BENCH_LOGIN

MODES = ("anonymous", "uncached", "logged_in")
CSRF_FIELD = re.compile(rb'name="csrf_token"[^>]*value="([^"]+)"')


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.inprocess",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("path", help="the page, e.g. /b/partner-track")
    parser.add_argument(
        "--mode",
        choices=MODES,
        default="anonymous",
        help="anonymous (page cache as served), uncached (page cache off: "
        "every request renders), logged_in (as the benchmark's member)",
    )
    parser.add_argument("--requests", type=int, default=500)
    args = parser.parse_args(argv)
    if "FORUM_DATABASE_URL" not in os.environ:
        parser.error("set FORUM_DATABASE_URL to a migrated database")
    os.environ.setdefault("FORUM_SECRET_KEY", "inprocess")
    os.environ["FORUM_RATE_LIMITS"] = "off"
    # Made-up query strings no longer miss (the cache keys on path and page number only).
    os.environ["FORUM_PAGE_CACHE"] = "off" if args.mode == "uncached" else "on"

    from forum import create_app

    client = create_app().test_client()
    client.environ_base["HTTP_USER_AGENT"] = USER_AGENT
    if args.mode == "logged_in":
        _log_in(client)

    def get() -> str:
        reply = client.get(args.path)
        if reply.status_code != 200:
            raise SystemExit(f"GET {args.path} answered {reply.status_code}")
        return reply.headers.get("X-Cache", "-")

    first_two = [get(), get()]
    print(f"{args.mode} {args.path}: first two requests X-Cache {', '.join(first_two)}")
    if args.mode == "uncached" and first_two != ["miss", "miss"]:
        raise SystemExit("uncached mode must render every request (X-Cache: miss); it did not")
    for _ in range(18):  # warm: templates compiled, statement cache filled, page cached
        get()
    started = time.process_time()
    for _ in range(args.requests):
        get()
    per_request = (time.process_time() - started) / args.requests * 1000
    print(f"{args.mode} {args.path}: {per_request:.2f} ms CPU a request ({args.requests} requests)")
    return 0


def _log_in(client: FlaskClient) -> None:
    page = client.get("/login")
    token = CSRF_FIELD.search(page.data)
    assert token is not None, "no CSRF token on /login"
    username, password = BENCH_LOGIN
    reply = client.post(
        "/login",
        data={"csrf_token": token.group(1).decode(), "username": username, "password": password},
    )
    if reply.status_code != 302:
        raise SystemExit(f"logging in as {username} answered {reply.status_code}")


if __name__ == "__main__":
    sys.exit(main())
