"""The databases to measure, built with the app's own CLI as an operator would, and the URLs
worth loading, found by asking the database."""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from dataclasses import asdict, dataclass
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bench.servers import ROOT, app_env
from forum.platform.config import DEFAULTS

RESULTS = ROOT / "bench" / "results"
BENCH_LOGIN = ("bench", "bench-password-1")
LONG_THREAD = 5_000  # the deep-paging check needs a thread at least this long
DEEP_BOARD_PAGE = 200
# What `flask demo --threads/--posts` says about itself: "... (12,345 posts/s)."
_POSTS_PER_S = re.compile(r"\(([\d,]+) posts/s\)")
POSTS_PER_PAGE: int = DEFAULTS["POSTS_PER_PAGE"]
THREADS_PER_PAGE: int = DEFAULTS["THREADS_PER_PAGE"]


@dataclass(frozen=True)
class Scale:
    posts: int
    threads: int


# Ten posts a thread on average; the Pareto split makes a few of them very long.
SCALES = {"small": Scale(50_000, 5_000), "large": Scale(1_000_000, 100_000)}
POSTGRES_SCALE = Scale(20_000, 2_000)


@dataclass(frozen=True)
class Page:
    name: str
    path: str
    about: str


@dataclass(frozen=True)
class Dataset:
    url: str
    build: dict[str, float | int | bool]
    pages: list[Page]


class DatasetError(RuntimeError):
    pass


def flask(database_url: str, *args: str) -> str:
    """Run one `flask --app app ...` command against the database; its output."""
    done = subprocess.run(
        _flask_command(args), cwd=ROOT, env=app_env(database_url), capture_output=True, text=True
    )
    if done.returncode != 0:
        raise DatasetError(f"flask {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


def _flask_command(args: tuple[str, ...]) -> list[str]:
    return [sys.executable, "-m", "flask", "--app", "app", *args]


def sqlite_dataset(scale: str, rebuild: bool) -> Dataset:
    """The cached SQLite dataset for this scale, built first if missing (or `rebuild`)."""
    path = RESULTS / f"dataset-{scale}.sqlite3"
    facts = path.with_suffix(".json")
    if rebuild or not (path.exists() and facts.exists()):
        RESULTS.mkdir(parents=True, exist_ok=True)
        building = path.with_name(f"dataset-{scale}.building.sqlite3")
        _remove_sqlite(building)
        build = _build(f"sqlite:///{building}", SCALES[scale])
        _checkpoint(building)
        _remove_sqlite(path)
        building.replace(path)
        facts.write_text(json.dumps(build, indent=2))
    else:
        build = {**json.loads(facts.read_text()), "cached": True}
    url = f"sqlite:///{path}"
    flask(url, "init-db")  # follow migrations added since the dataset was built
    return Dataset(url, build, discover_pages(url))


def postgres_dataset(url: str) -> Dataset:
    """A fresh PostgreSQL database (dropped and created) with the smaller PostgreSQL dataset."""
    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{target.database}"'))
    finally:
        admin.dispose()
    return Dataset(url, _build(url, POSTGRES_SCALE), discover_pages(url))


def copy_sqlite(source_url: str, name: str) -> str:
    """A throwaway copy of a SQLite dataset (the write benchmark must not change the cache)."""
    source = make_url(source_url).database
    target = RESULTS / f"{name}.sqlite3"
    _remove_sqlite(target)
    with closing(sqlite3.connect(source)) as original, closing(sqlite3.connect(target)) as copy:
        original.backup(copy)
    return f"sqlite:///{target}"


def ensure_users(database_url: str, names: list[str], password: str) -> None:
    """Create the accounts that don't exist yet through the CLI. On PostgreSQL all at once
    (each command spends most of its time starting Python); SQLite takes them one by one,
    because each command holds the write lock while it hashes the password."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            existing = set(connection.scalars(text("SELECT username_key FROM users")))
    finally:
        engine.dispose()
    commands = [
        ("users", "create", name, "--email", f"{name}@example.org", "--password", password)
        for name in names
        if name not in existing
    ]
    if database_url.startswith("sqlite"):
        for args in commands:
            flask(database_url, *args)
        return
    running: list[subprocess.Popen[str]] = []
    failed = []
    try:
        for args in commands:
            running.append(
                subprocess.Popen(
                    _flask_command(args),
                    cwd=ROOT,
                    env=app_env(database_url),
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    text=True,
                )
            )
        for args, process in zip(commands, running, strict=True):
            output, _ = process.communicate()
            if process.returncode != 0:
                failed.append(f"flask {' '.join(args)}:\n{output}")
    finally:
        for process in running:
            if process.poll() is None:
                process.kill()
                process.wait()
    if failed:
        raise DatasetError("\n".join(failed))


def _build(url: str, scale: Scale) -> dict[str, float | int | bool]:
    started = time.perf_counter()
    flask(url, "init-db")
    flask(url, "boards", "import", "shows.example.toml")
    flask(url, "demo")
    name, password = BENCH_LOGIN
    flask(url, "users", "create", name, "--email", f"{name}@example.org", "--password", password)
    bulk_started = time.perf_counter()
    said = flask(url, "demo", "--threads", str(scale.threads), "--posts", str(scale.posts))
    bulk_seconds = time.perf_counter() - bulk_started
    rate = _POSTS_PER_S.search(said)
    posts = scale.posts
    # bulk_generate gives the first thread only the rounding remainder; whether the Pareto
    # split made a 5,000-post thread depends on the seed. If it didn't, add one.
    if _longest_thread(url) < LONG_THREAD:
        extra = LONG_THREAD + LONG_THREAD // 10
        started_extra = time.perf_counter()
        flask(url, "demo", "--threads", "1", "--posts", str(extra))
        bulk_seconds += time.perf_counter() - started_extra
        posts += extra
    seconds = time.perf_counter() - started
    return {
        "posts": posts,
        "threads": scale.threads,
        "seconds": round(seconds, 1),
        "bulk_seconds": round(bulk_seconds, 1),
        "bulk_posts_per_s": round(posts / bulk_seconds),
        "posts_per_s": round(posts / seconds),
        "cli_posts_per_s": int(rate.group(1).replace(",", "")) if rate else 0,
        "cached": False,
    }


def discover_pages(url: str) -> list[Page]:
    engine = create_engine(url)
    try:
        with engine.connect() as db:
            short = db.execute(
                text(
                    "SELECT id, slug, post_count FROM threads WHERE is_hidden = false "
                    "ORDER BY abs(post_count - :n), id LIMIT 1"
                ),
                {"n": POSTS_PER_PAGE},
            ).one()
            long = db.execute(
                text(
                    "SELECT id, slug, post_count FROM threads WHERE is_hidden = false "
                    "ORDER BY post_count DESC, id LIMIT 1"
                )
            ).one()
            board = db.execute(
                text(
                    "SELECT slug, thread_count FROM boards WHERE is_archived = false "
                    "ORDER BY thread_count DESC, id LIMIT 1"
                )
            ).one()
            poster = db.execute(
                text("SELECT username, post_count FROM users ORDER BY post_count DESC, id LIMIT 1")
            ).one()
    finally:
        engine.dispose()
    last = _pages(long.post_count, POSTS_PER_PAGE)
    deep = min(DEEP_BOARD_PAGE, _pages(board.thread_count, THREADS_PER_PAGE))
    return [
        Page("index", "/", "board index"),
        Page("board", f"/b/{board.slug}", f"board, page 1 ({board.thread_count:,} threads)"),
        Page("board_deep", f"/b/{board.slug}?page={deep}", f"same board, page {deep}"),
        Page("thread", f"/t/{short.id}/{short.slug}", f"thread of {short.post_count} posts"),
        Page(
            "thread_long",
            f"/t/{long.id}/{long.slug}",
            f"thread of {long.post_count:,} posts, page 1",
        ),
        Page(
            "thread_long_last",
            f"/t/{long.id}/{long.slug}?page={last}",
            f"same thread, last page ({last})",
        ),
        Page("profile", f"/u/{poster.username}", f"profile ({poster.post_count:,} posts)"),
        Page("search", "/search?q=season", "search placeholder"),
    ]


def pages_as_dicts(pages: list[Page]) -> list[dict[str, str]]:
    return [asdict(page) for page in pages]


def _pages(items: int, per_page: int) -> int:
    return max(1, -(-items // per_page))


def _longest_thread(url: str) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as db:
            return db.scalar(text("SELECT MAX(post_count) FROM threads")) or 0
    finally:
        engine.dispose()


def _checkpoint(path: Path) -> None:
    """Fold the WAL into the main file, so the file alone is the whole database."""
    with closing(sqlite3.connect(path)) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def _remove_sqlite(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
