"""`python -m bench`: build (or reuse) the dataset, run the chosen parts, print the tables and
write bench/results/<timestamp>.json. Every server it starts is stopped, also on errors."""

from __future__ import annotations

import argparse
import os
import platform
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

from bench import adversarial, report, search_report
from bench.ablations import ablations
from bench.dataset import (
    RESULTS,
    Dataset,
    copy_sqlite,
    ensure_users,
    pages_as_dicts,
    postgres_dataset,
    sqlite_dataset,
)
from bench.finale import finale_suite
from bench.live import live_suite
from bench.load import MODES, read_suite
from bench.profile import profile_page, profile_replies, py_spy
from bench.reply_cost import reply_cost
from bench.search import search_suite
from bench.search_data import SEARCH_SCALES
from bench.servers import ROOT, WORKER_CLASSES
from bench.writes import WRITER_PASSWORD, write_suite, writer_names

PARTS = (
    "reads",
    "live",
    "writes",
    "reply_cost",
    "finale",
    "profile",
    "ablations",
    "adversarial",
    "search",
)
# Parts that need no dataset of --scale: the slowest Markdown anyone can post (no dataset or
# server), and search (its own datasets, at every --search-scales).
NO_DATASET = {"adversarial", "search"}
DATABASES = ("sqlite", "postgresql")
POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/bench_pg"


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    # `kill <pid>` should stop the servers too: turn SIGTERM into the same path as Ctrl-C.
    signal.signal(signal.SIGTERM, _interrupt)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    logs = RESULTS / stamp
    logs.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {
        "started": stamp,
        "scale": args.scale,
        "options": vars(args),
        "machine": _machine(),
    }
    try:
        if "adversarial" in args.parts:
            _say("adversarial: the slowest Markdown to render (python -m bench.adversarial)")
            results["adversarial"] = adversarial.run(
                examples=args.adversarial_examples,
                before_examples=args.adversarial_before,
                before=args.adversarial_before_revision or None,
                say=_say,
            )
            print(adversarial.report(results["adversarial"]))
        if "search" in args.parts:
            results["search"] = search_suite(
                args.search_databases,
                args.search_scales,
                args.search_worker_classes,
                args.postgres_url,
                args.duration,
                args.warmup,
                args.rebuild,
                logs,
                _say,
            )
            print(search_report.markdown(results["search"]))
        if set(args.parts) <= NO_DATASET:
            return 0
        _say(f"dataset: {args.scale} ({'rebuilding' if args.rebuild else 'cached if built'})")
        dataset = sqlite_dataset(args.scale, args.rebuild)
        results.update(dataset=dataset.build, pages=pages_as_dicts(dataset.pages))
        databases = WriteDatabases(args, dataset, results)
        if "reads" in args.parts:
            results["reads"] = {}
            for worker_class in args.worker_classes:
                _say(f"reads: {worker_class}")
                results["reads"][worker_class] = read_suite(
                    dataset, worker_class, args.duration, args.warmup, args.pages, args.modes, logs
                )
        if "writes" in args.parts:
            results["writes"] = []
            for database in args.databases:
                for worker_class in args.worker_classes:
                    url = databases.url(database)
                    _say(f"writes: {database}, {worker_class}")
                    results["writes"].append(
                        write_suite(
                            url,
                            database,
                            worker_class,
                            args.write_duration,
                            args.writers,
                            args.hot_threads,
                            logs,
                        )
                    )
        if "live" in args.parts:
            results["live"] = {}
            for worker_class in args.worker_classes:
                _say(f"live: a thread's 'no news' poll, {worker_class}")
                results["live"][worker_class] = live_suite(
                    dataset, worker_class, args.duration, args.warmup, logs
                )
        if "reply_cost" in args.parts:
            results["reply_cost"] = []
            for database in args.databases:
                _say(f"reply_cost: a reply with no watchers and with 5,000, {database}")
                results["reply_cost"].append(
                    {"database": database, **reply_cost(databases.url(database))}
                )
        if "finale" in args.parts:
            results["finale"] = []
            for worker_class in args.worker_classes:
                _say(f"finale: anonymous reads while members reply, {worker_class}")
                results["finale"] += finale_suite(
                    dataset,
                    copy_sqlite(dataset.url, f"finale-{args.scale}"),
                    worker_class,
                    args.duration,
                    args.writers,
                    args.hot_threads,
                    logs,
                )
        if "ablations" in args.parts:
            _say("ablations: what each optimisation buys")
            results["ablations"] = ablations(dataset)
        if "profile" in args.parts and py_spy() is None:
            _say("profile: skipped, py-spy is not installed (.venv/bin/pip install py-spy)")
        elif "profile" in args.parts:
            results["profiles"] = _profiles(args, dataset, databases, logs)
    except BaseException as error:
        results["error"] = repr(error)
        raise
    finally:
        saved = RESULTS / f"{stamp}.json"
        report.save(results, saved)
        if "dataset" in results:
            print(report.markdown(results))
        _say(f"results: {saved.relative_to(ROOT)}, logs in {logs.relative_to(ROOT)}/")
    return 0


class WriteDatabases:
    """The databases the writes go to, made once per run: a copy of the SQLite dataset (the
    cached one stays as built) and a PostgreSQL database created afresh."""

    def __init__(self, args: argparse.Namespace, dataset: Dataset, results: dict[str, Any]) -> None:
        self._args, self._dataset, self._results = args, dataset, results
        self._urls: dict[str, str] = {}

    def url(self, database: str) -> str:
        if database not in self._urls:
            if database == "sqlite":
                # Writers created once in the cached dataset, so later copies have them.
                ensure_users(self._dataset.url, writer_names(self._args.writers), WRITER_PASSWORD)
                self._urls[database] = copy_sqlite(self._dataset.url, f"writes-{self._args.scale}")
            else:
                _say("writes: building a fresh PostgreSQL database")
                built = postgres_dataset(self._args.postgres_url)
                self._urls[database] = built.url
                self._results["postgres_dataset"] = built.build
        return self._urls[database]


def _profiles(
    args: argparse.Namespace, dataset: Dataset, databases: WriteDatabases, logs: Path
) -> list[dict[str, Any]]:
    profiles = []
    for page in args.profile_pages:
        for logged_in in (False, True):
            _say(f"profile: {page}, {'logged in' if logged_in else 'anonymous, cache miss'}")
            profiles.append(
                profile_page(
                    dataset,
                    page,
                    logged_in,
                    args.duration,
                    args.warmup,
                    uncached=not logged_in,
                    out=logs,
                )
            )
    database = "postgresql" if "postgresql" in args.databases else "sqlite"
    _say(f"profile: replies, {database}")
    profiles.append(
        profile_replies(
            databases.url(database), database, args.duration, args.writers, args.hot_threads, logs
        )
    )
    return profiles


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--scale",
        choices=("small", "large"),
        default="small",
        help="small: 50k posts; large: 1M posts (default: small)",
    )
    parser.add_argument(
        "--parts",
        type=_choices(PARTS),
        default=list(PARTS),
        help=f"comma-separated, any of {','.join(PARTS)} (default: all)",
    )
    parser.add_argument(
        "--duration", type=float, default=10.0, help="seconds of wrk per page (default: 10)"
    )
    parser.add_argument(
        "--warmup",
        type=float,
        default=2.0,
        help="seconds of wrk per page before measuring (default: 2)",
    )
    parser.add_argument(
        "--pages",
        type=lambda v: v.split(","),
        default=None,
        help="only these pages, e.g. thread,board (default: all)",
    )
    parser.add_argument(
        "--modes",
        type=_choices(MODES),
        default=list(MODES),
        help="anonymous (page cache as served), uncached (a second server "
        "with the page cache off: always a miss), logged_in, logged_in_progress (a member "
        "at S1E6 on every board: spoilers masked; measured right after logged_in) "
        "(default: all)",
    )
    parser.add_argument(
        "--worker-classes",
        type=_choices(WORKER_CLASSES),
        default=list(WORKER_CLASSES),
        help="default: sync,gthread",
    )
    parser.add_argument(
        "--write-duration",
        type=float,
        default=30.0,
        help="seconds of replying per run (default: 30)",
    )
    parser.add_argument("--writers", type=int, default=8, help="concurrent clients (default: 8)")
    parser.add_argument(
        "--hot-threads", type=int, default=4, help="threads the writers reply to (default: 4)"
    )
    parser.add_argument(
        "--databases",
        type=_choices(DATABASES),
        default=list(DATABASES),
        help="for the write benchmark (default: sqlite,postgresql)",
    )
    parser.add_argument(
        "--postgres-url",
        default=POSTGRES_URL,
        help="dropped and created afresh (default: %(default)s)",
    )
    parser.add_argument(
        "--search-scales",
        type=_choices(SEARCH_SCALES),
        default=list(SEARCH_SCALES),
        help="datasets the search part searches (default: small,large: 50k and 1M posts)",
    )
    parser.add_argument(
        "--search-databases",
        type=_choices(DATABASES),
        default=list(DATABASES),
        help="engines the search part searches (default: sqlite,postgresql; PostgreSQL's "
        "datasets are bench_search_<scale> on the --postgres-url server, built once and kept)",
    )
    parser.add_argument(
        "--search-worker-classes",
        type=_choices(WORKER_CLASSES),
        default=["sync"],
        help="worker classes the search part runs under (default: sync)",
    )
    parser.add_argument(
        "--profile-pages",
        type=lambda v: v.split(","),
        default=["thread"],
        help="pages to profile, e.g. thread,board (default: thread)",
    )
    parser.add_argument(
        "--adversarial-examples",
        type=int,
        default=200,
        help="hypothesis examples against this tree's renderer (default: 200)",
    )
    parser.add_argument(
        "--adversarial-before",
        type=int,
        default=30,
        help="hypothesis examples against the before renderer (default: 30)",
    )
    parser.add_argument(
        "--adversarial-before-revision",
        default=adversarial.BEFORE,
        help="commit whose forum/discussion/markup.py is 'before'; '' skips it "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--rebuild",
        action="store_true",
        help="build the datasets again even if cached (SQLite, and the search part's PostgreSQL)",
    )
    return parser.parse_args(argv)


def _choices(allowed: tuple[str, ...]) -> Any:
    def parse(value: str) -> list[str]:
        chosen = [item for item in value.split(",") if item]
        unknown = set(chosen) - set(allowed)
        if unknown:
            raise argparse.ArgumentTypeError(f"unknown: {', '.join(sorted(unknown))}")
        return chosen

    return parse


def _machine() -> dict[str, Any]:
    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
        return done.stdout.strip()

    dirty = " (with uncommitted changes)" if git("status", "--porcelain") else ""
    return {
        "cpus": os.cpu_count(),
        "load_at_start": round(os.getloadavg()[0], 1),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "commit": git("rev-parse", "--short", "HEAD") + dirty,
    }


def _interrupt(_signal: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
