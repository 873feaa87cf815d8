"""What a reply costs the request in a thread nobody watches and in one 5,000 members watch
(issue 13: notifications are written by a job, so the two must cost the same).

In one process, through Flask's test client (bench/inprocess.py's way): the benchmark's member
replies through the real form, in turns to both threads (A B B A, so a drift in the machine's
other load weighs on both alike). Each reply is timed (wall and CPU) and its SQL statements
counted. Jobs are queued, not run: the app's queue is a SQLite file nobody consumes, as in
production with the worker elsewhere; the figures say how many jobs the replies queued and
that no notification row was written in the request.

    .venv/bin/python -m bench --parts reply_cost        (or: python -m bench.reply_cost URL)
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import create_engine, delete, event, func, insert, select
from sqlalchemy.engine import Engine

from bench.client import USER_AGENT
from bench.inprocess import CSRF_FIELD, _log_in
from bench.servers import SECRET_KEY

WATCHERS = 5_000
REPLIES = 60  # per thread, measured (after WARMUP each)
WARMUP = 5


@dataclass(frozen=True)
class Arranged:
    quiet: int  # thread ids
    watched: int
    watchers: int


def arrange(database_url: str, watchers: int = WATCHERS, prefix: str = "watcher") -> Arranged:
    """Pick two ordinary threads (visible, open, no episode: any member may reply) on an open
    board; nobody watches the first, `watchers` members (made here, `prefix`_0000...) watch
    the second."""
    from forum.models import Board, Role, Thread, ThreadState, User, WatchLevel, utcnow

    engine = create_engine(database_url)
    try:
        with engine.begin() as db:
            threads = db.execute(
                select(Thread.id, Thread.post_count)
                .join(Board, Board.id == Thread.board_id)
                .where(
                    Thread.is_hidden.is_(False),
                    Thread.is_locked.is_(False),
                    Thread.episode_key.is_(None),
                    Thread.is_news.is_(False),
                    Board.is_archived.is_(False),
                )
                .order_by(Thread.id)
                .limit(2)
            ).all()
            if len(threads) < 2:
                raise RuntimeError("the dataset has no two ordinary threads to reply to")
            (quiet, _), (watched, watched_posts) = threads
            db.execute(delete(ThreadState).where(ThreadState.thread_id.in_([quiet, watched])))
            names = [f"{prefix}_{n:04d}" for n in range(watchers)]
            existing = set(db.scalars(select(User.username).where(User.username.in_(names))))
            now = utcnow()
            rows = [
                {
                    "username": name,
                    "username_key": name,
                    "email": f"{name}@example.org",
                    "email_key": f"{name}@example.org",
                    # Nobody logs in as them: a password hash that matches nothing.
                    "password_hash": "!",
                    "role": Role.MEMBER.value,
                    "created_at": now,
                    "email_verified_at": now,
                }
                for name in names
                if name not in existing
            ]
            if rows:
                db.execute(insert(User), rows)
            ids = list(db.scalars(select(User.id).where(User.username.in_(names))))
            if ids:
                db.execute(
                    insert(ThreadState),
                    [
                        {
                            "user_id": user_id,
                            "thread_id": watched,
                            "last_read_number": watched_posts,
                            "level": WatchLevel.WATCHING.value,
                            "level_chosen": True,
                        }
                        for user_id in ids
                    ],
                )
    finally:
        engine.dispose()
    return Arranged(quiet, watched, len(ids))


def measure(
    database_url: str,
    arranged: Arranged,
    replies: int = REPLIES,
    warmup: int = WARMUP,
    jobs_path: Path | None = None,
) -> dict[str, Any]:
    """Reply `warmup` then `replies` times to each thread, in turns; per thread: wall and CPU
    ms per reply (mean and median), statements per reply; jobs queued and notifications
    written meanwhile."""
    from forum import create_app
    from forum.models import Notification
    from forum.platform import jobs

    with tempfile.TemporaryDirectory() as scratch:
        app = create_app(
            {
                "DATABASE_URL": database_url,
                "SECRET_KEY": SECRET_KEY,
                "RATE_LIMITS": "off",
                # A queue file nobody consumes: the jobs a reply queues wait there, unrun.
                "JOBS_PATH": str(jobs_path or Path(scratch) / "jobs.sqlite3"),
                "JOBS_IMMEDIATE": "off",
            }
        )
        engine: Engine = app.extensions["forum.engine"]
        # One log line per reply would bury the benchmark's own output.
        request_log = logging.getLogger("showboard.request")
        level = request_log.level
        request_log.setLevel(logging.WARNING)
        statements = [0]

        def count(*_args: Any) -> None:
            statements[0] += 1

        event.listen(engine, "before_cursor_execute", count)
        try:
            client = app.test_client()
            client.environ_base["HTTP_USER_AGENT"] = USER_AGENT
            _log_in(client)
            token = _csrf_token(client, arranged.quiet)
            huey = jobs.queue(app).huey
            queued_before = huey.pending_count()
            notifications_before = _count_rows(engine, Notification)
            order = [arranged.quiet, arranged.watched, arranged.watched, arranged.quiet]
            for n in range(warmup):
                for thread_id in order[:2]:
                    _reply(client, thread_id, token, f"warm-up {n}")
            times: dict[int, list[tuple[float, float, int]]] = {
                arranged.quiet: [],
                arranged.watched: [],
            }
            for n in range(0, replies, 2):
                for thread_id in order:
                    statements[0] = 0
                    wall, cpu = time.perf_counter(), time.process_time()
                    _reply(client, thread_id, token, f"bench reply {n}")
                    times[thread_id].append(
                        (
                            1000 * (time.perf_counter() - wall),
                            1000 * (time.process_time() - cpu),
                            statements[0],
                        )
                    )
            queued = huey.pending_count() - queued_before
            notifications = _count_rows(engine, Notification) - notifications_before
        finally:
            event.remove(engine, "before_cursor_execute", count)
            request_log.setLevel(level)
            engine.dispose()
    result = {
        "quiet": _summary(times[arranged.quiet], watchers=0),
        "watched": _summary(times[arranged.watched], watchers=arranged.watchers),
        "jobs_queued": queued,
        "notifications_written_in_requests": notifications,
        "replies_per_thread": len(times[arranged.quiet]),
    }
    result["watched_over_quiet"] = round(
        result["watched"]["wall_ms_median"] / max(result["quiet"]["wall_ms_median"], 0.001), 2
    )
    return result


def _summary(runs: list[tuple[float, float, int]], watchers: int) -> dict[str, Any]:
    walls, cpus, counts = zip(*runs, strict=True)
    return {
        "watchers": watchers,
        "wall_ms_mean": round(statistics.fmean(walls), 2),
        "wall_ms_median": round(statistics.median(walls), 2),
        "cpu_ms_mean": round(statistics.fmean(cpus), 2),
        "statements_per_reply": round(statistics.fmean(counts), 1),
    }


def _count_rows(engine: Engine, model: Any) -> int:
    with engine.connect() as db:
        return int(db.scalar(select(func.count()).select_from(model)) or 0)


def _csrf_token(client: FlaskClient, thread_id: int) -> str:
    page = client.get(f"/t/{thread_id}", follow_redirects=True)
    found = CSRF_FIELD.search(page.data)
    if page.status_code != 200 or found is None:
        raise RuntimeError(f"/t/{thread_id}: {page.status_code}, no reply form")
    return found.group(1).decode()


def _reply(client: FlaskClient, thread_id: int, token: str, body: str) -> None:
    answer = client.post(
        f"/t/{thread_id}/reply",
        data={"csrf_token": token, "body": f"{body}: what a scene that was", "post": "1"},
    )
    if answer.status_code != 302:
        raise RuntimeError(f"reply to /t/{thread_id} answered {answer.status_code}")


def reply_cost(
    database_url: str, watchers: int = WATCHERS, replies: int = REPLIES
) -> dict[str, Any]:
    """Arrange the threads in the database (a throwaway copy: it gains users and replies) and
    measure."""
    arranged = arrange(database_url, watchers)
    return measure(database_url, arranged, replies)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.reply_cost", description=__doc__)
    parser.add_argument("database_url", help="a migrated throwaway database (it is written to)")
    parser.add_argument("--watchers", type=int, default=WATCHERS)
    parser.add_argument("--replies", type=int, default=REPLIES)
    args = parser.parse_args(argv)
    print(reply_cost(args.database_url, args.watchers, args.replies))
    return 0


if __name__ == "__main__":
    sys.exit(main())
