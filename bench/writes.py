"""Write load: fans replying to a few hot threads through the real form, then proof that every
acknowledged reply was stored and every counter still equals a recount."""

from __future__ import annotations

import http.client
import re
import secrets
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import bindparam, create_engine, text

from bench.client import Client
from bench.dataset import ensure_users
from bench.servers import SHOWBOARD, app_env, cpu_seconds, gunicorn

WRITER_PASSWORD = "bench-password-1"
BODY = "Reply {marker} from the write benchmark: that finale still hurts."
MARKER = re.compile(r"bench-[0-9a-f]{8}-\d{2}-\d{6}")

THREAD_RECOUNT = text("""
    SELECT t.id, t.post_count, COALESCE(p.n, 0), t.last_post_id, p.last_id, p.top
    FROM threads t LEFT JOIN (
        SELECT thread_id, COUNT(*) AS n, MAX(id) AS last_id, MAX(number) AS top
        FROM posts GROUP BY thread_id
    ) p ON p.thread_id = t.id
    WHERE t.post_count <> COALESCE(p.n, 0)
       OR COALESCE(t.last_post_id, 0) <> COALESCE(p.last_id, 0)
       OR COALESCE(p.top, 0) <> COALESCE(p.n, 0)
""")
BOARD_RECOUNT = text("""
    SELECT b.id, b.thread_count, COALESCE(t.n, 0), b.post_count, COALESCE(p.n, 0)
    FROM boards b
    LEFT JOIN (SELECT board_id, COUNT(*) AS n FROM threads GROUP BY board_id) t
        ON t.board_id = b.id
    LEFT JOIN (SELECT th.board_id, COUNT(*) AS n FROM posts JOIN threads th
               ON th.id = posts.thread_id GROUP BY th.board_id) p ON p.board_id = b.id
    WHERE b.thread_count <> COALESCE(t.n, 0) OR b.post_count <> COALESCE(p.n, 0)
""")
# Only for boards that got replies: there, the latest post is the highest id by construction.
BOARD_LAST_POST = text("""
    SELECT b.id, b.last_post_id, MAX(p.id)
    FROM boards b JOIN threads t ON t.board_id = b.id JOIN posts p ON p.thread_id = t.id
    WHERE b.id IN :ids
    GROUP BY b.id, b.last_post_id
    HAVING COALESCE(b.last_post_id, 0) <> MAX(p.id)
""").bindparams(bindparam("ids", expanding=True))
USER_RECOUNT = text("""
    SELECT u.id, u.post_count, COALESCE(p.n, 0)
    FROM users u LEFT JOIN (SELECT author_id, COUNT(*) AS n FROM posts GROUP BY author_id) p
        ON p.author_id = u.id
    WHERE u.post_count <> COALESCE(p.n, 0)
""")


@dataclass
class Writer:
    index: int
    client: Client
    thread_id: int
    token: str
    acknowledged: list[str] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)

    def run(self, run_id: str, until: float) -> None:
        path = f"/t/{self.thread_id}/reply"
        sequence = 0
        while time.monotonic() < until:
            sequence += 1
            marker = f"bench-{run_id}-{self.index:02d}-{sequence:06d}"
            started = time.perf_counter()
            try:
                reply = self.client.post(
                    path,
                    {"csrf_token": self.token, "post": "1", "body": BODY.format(marker=marker)},
                )
            except (OSError, http.client.HTTPException) as error:
                self.errors[type(error).__name__] += 1
                self.client.close()  # the next request opens a fresh connection
                continue
            if reply.status == 302:
                self.acknowledged.append(marker)
                self.latencies_ms.append((time.perf_counter() - started) * 1000)
            else:
                self.errors[f"HTTP {reply.status}"] += 1


def write_suite(
    database_url: str,
    database: str,
    worker_class: str,
    seconds: float,
    clients: int,
    hot: int,
    logs: Path,
) -> dict[str, object]:
    threads = hot_threads(database_url, hot)
    names = writer_names(clients)
    ensure_users(database_url, names, WRITER_PASSWORD)
    before = recount(database_url, boards=[])
    run_id = secrets.token_hex(4)
    log = logs / f"writes-{database}-{worker_class}.log"
    with gunicorn(SHOWBOARD, worker_class, app_env(database_url), log) as app:
        writers = log_in_writers(app.port, names, threads)
        try:
            cpu_before = cpu_seconds(app)
            elapsed = race(writers, seconds, run_id)
            cpu = cpu_seconds(app) - cpu_before
        finally:
            close(writers)
    acknowledged = [marker for w in writers for marker in w.acknowledged]
    latencies = sorted(ms for w in writers for ms in w.latencies_ms)
    errors: Counter[str] = Counter()
    for writer in writers:
        errors.update(writer.errors)
    server_log = log.read_text(errors="replace")
    stored = stored_markers(database_url, run_id)
    return {
        "database": database,
        "worker_class": worker_class,
        "clients": clients,
        "hot_threads": [thread.id for thread in threads],
        "seconds": round(elapsed, 1),
        "acknowledged": len(acknowledged),
        "replies_per_s": round(len(acknowledged) / elapsed, 1),
        "p50_ms": _percentile(latencies, 0.50),
        "p99_ms": _percentile(latencies, 0.99),
        "cpu_ms_per_reply": round(1000 * cpu / max(len(acknowledged), 1), 2),
        "errors": dict(errors),
        "database_locked": server_log.count("database is locked"),
        "tracebacks": server_log.count("Traceback"),
        "lost": len(set(acknowledged) - set(stored)),
        "stored_unacknowledged": len(set(stored) - set(acknowledged)),
        "duplicates": len(stored) - len(set(stored)),
        "counters_before": before,
        "counters_after": recount(database_url, boards=sorted({t.board_id for t in threads})),
    }


def writer_names(clients: int) -> list[str]:
    return [f"bench_w{index:02d}" for index in range(clients)]


def log_in_writers(port: int, names: list[str], threads: list[HotThread]) -> list[Writer]:
    """A logged-in client per name, each with the CSRF token of the thread it will reply to."""
    writers: list[Writer] = []
    for index, name in enumerate(names):
        client = Client(port)
        thread = threads[index % len(threads)]
        try:
            client.log_in(name, WRITER_PASSWORD)
            token = client.csrf_token(f"/t/{thread.id}/{thread.slug}")
        finally:
            # Idle while the others log in, the connection would outlive gunicorn's keep-alive:
            # close it (on errors too); the first reply opens a fresh one.
            client.close()
        writers.append(Writer(index, client, thread.id, token))
    return writers


def race(writers: list[Writer], seconds: float, run_id: str) -> float:
    """All writers reply at once for `seconds`; the time it took."""
    started = time.monotonic()
    workers = [threading.Thread(target=w.run, args=(run_id, started + seconds)) for w in writers]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return time.monotonic() - started


def close(writers: list[Writer]) -> None:
    for writer in writers:
        writer.client.close()


@dataclass(frozen=True)
class HotThread:
    id: int
    board_id: int
    slug: str


def hot_threads(database_url: str, count: int) -> list[HotThread]:
    """The most recently active threads that take replies."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as db:
            rows = db.execute(
                text(
                    "SELECT id, board_id, slug FROM threads "
                    "WHERE is_hidden = false AND is_locked = false "
                    "ORDER BY last_post_at DESC, id DESC LIMIT :n"
                ),
                {"n": count},
            ).all()
    finally:
        engine.dispose()
    return [HotThread(row.id, row.board_id, row.slug) for row in rows]


def stored_markers(database_url: str, run_id: str) -> list[str]:
    engine = create_engine(database_url)
    try:
        with engine.connect() as db:
            sources = db.scalars(
                text("SELECT source FROM posts WHERE source LIKE :pattern"),
                {"pattern": f"%bench-{run_id}-%"},
            ).all()
    finally:
        engine.dispose()
    return [marker for source in sources for marker in MARKER.findall(source)]


def recount(database_url: str, boards: list[int]) -> list[str]:
    """Every denormalised counter that disagrees with a recount, described; [] when exact."""
    engine = create_engine(database_url)
    wrong: list[str] = []
    try:
        with engine.connect() as db:
            for row in db.execute(THREAD_RECOUNT):
                wrong.append(
                    f"thread {row[0]}: post_count {row[1]} vs {row[2]} rows, "
                    f"last_post_id {row[3]} vs {row[4]}, highest number {row[5]}"
                )
            for row in db.execute(BOARD_RECOUNT):
                wrong.append(
                    f"board {row[0]}: thread_count {row[1]} vs {row[2]}, "
                    f"post_count {row[3]} vs {row[4]}"
                )
            if boards:
                for row in db.execute(BOARD_LAST_POST, {"ids": boards}):
                    wrong.append(f"board {row[0]}: last_post_id {row[1]} vs max {row[2]}")
            for row in db.execute(USER_RECOUNT):
                wrong.append(f"user {row[0]}: post_count {row[1]} vs {row[2]} rows")
    finally:
        engine.dispose()
    return wrong


def _percentile(sorted_values: list[float], fraction: float) -> float:
    if not sorted_values:
        return 0.0
    index = min(len(sorted_values) - 1, round(fraction * (len(sorted_values) - 1)))
    return round(sorted_values[index], 2)
