"""The databases to measure, built with the app's own CLI as an operator would, and the URLs
worth loading, found by asking the database."""

from __future__ import annotations

import ast
import hashlib
import json
import re
import sqlite3
import subprocess
import sys
import time
import tomllib
from contextlib import closing
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bench.servers import ROOT, app_env
from forum.discussion.episode_codes import parse_code
from forum.platform.config import DEFAULTS

RESULTS = ROOT / "bench" / "results"
# Bumped whenever the build changes what is in the dataset: a cached dataset of another version
# is built again. 2: episodes on every board, threads and posts tied to them, spoilers in bodies.
# 3: built with the search index in place (migration 0011), so the bulk inserts index each post
# as they go and the build's time says what that costs.
DATASET_VERSION = 3
SHOW_FILE = ROOT / "shows.example.toml"
BENCH_LOGIN = ("bench", "bench-password-1")
# A member who has set their watch progress on every board (bench/load.py sets it through the
# board page's form before measuring): what spoiler protection costs is their pages' figures
# next to BENCH_LOGIN's, who has set none.
BENCH_WATCHER = ("bench_watcher", "bench-password-2")
WATCHED = "S1E6"
# Boards the show file gives no episodes get this many in one season, aired weekly long ago:
# with the watcher at S1E6, four of them are still ahead (masked titles, withheld spoilers).
BENCH_EPISODES = 10
BENCH_FIRST_AIRED = date(2023, 1, 6)
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
    build: dict[str, Any]
    pages: list[Page]
    # Slugs of the boards with episodes: where BENCH_WATCHER sets their progress.
    episode_boards: list[str] = field(default_factory=list)


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
    """The cached SQLite dataset for this scale, built first if missing, built as another
    DATASET_VERSION, or `rebuild`."""
    path = RESULTS / f"dataset-{scale}.sqlite3"
    facts = path.with_suffix(".json")
    cached = path.exists() and facts.exists() and cached_version(facts) == DATASET_VERSION
    if rebuild or not cached:
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
    return Dataset(url, build, discover_pages(url), episode_boards(url))


def cached_version(facts: Path) -> int:
    """The dataset version a cached dataset was built as (0: before versions were kept)."""
    try:
        return int(json.loads(facts.read_text()).get("version", 0))
    except (OSError, ValueError):
        return 0


def drop_database(url: str, create_again: bool = False) -> None:
    """Drop the PostgreSQL database `url` names (connections forced out), and create it empty
    again when asked."""
    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
            if create_again:
                connection.execute(text(f'CREATE DATABASE "{target.database}"'))
    finally:
        admin.dispose()


def postgres_dataset(url: str) -> Dataset:
    """A fresh PostgreSQL database (dropped and created) with the smaller PostgreSQL dataset."""
    drop_database(url, create_again=True)
    return Dataset(url, _build(url, POSTGRES_SCALE), discover_pages(url), episode_boards(url))


def copy_sqlite(source_url: str, name: str) -> str:
    """A throwaway copy of a SQLite dataset (the write benchmark must not change the cache)."""
    source = make_url(source_url).database or ""
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


def _build(url: str, scale: Scale) -> dict[str, Any]:
    started = time.perf_counter()
    flask(url, "init-db")
    flask(url, "boards", "import", str(SHOW_FILE))
    # Every board gets episodes before the bulk data, which ties threads and posts to them.
    flask(url, "boards", "import", str(episodes_show_file(RESULTS / "bench-episodes.toml")))
    flask(url, "demo")
    for name, password in (BENCH_LOGIN, BENCH_WATCHER):
        flask(
            url, "users", "create", name, "--email", f"{name}@example.org", "--password", password
        )
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
        "version": DATASET_VERSION,
        "search_fingerprint": search_fingerprint(),
    }


# What decides the search index a dataset holds: the migrations that make its objects (an FTS5
# table's options, a GIN index: `flask init-db` applies a migration once, so one edited after the
# build is not applied to the dataset; one added since is) and the bulk data. The documents' text
# is brought in line with the code by the search benchmark's `flask search reindex` every run.
SEARCH_SOURCES = ("forum/platform/demo.py", "forum/platform/demo_content.py")


def search_fingerprint() -> dict[str, str]:
    """A digest of the code of each file that decides what a dataset's search index holds, by
    path: its statements without comments, docstrings or imports (a module moved or a comment
    reworded does not make a 1M-post dataset stale; a changed statement or column does)."""
    migrations = sorted((ROOT / "migrations" / "versions").glob("*.py"))
    files = [path for path in migrations if "search" in path.read_text()]
    files += [ROOT / name for name in SEARCH_SOURCES]
    return {path.relative_to(ROOT).as_posix(): _code_digest(path) for path in files}


def _code_digest(path: Path) -> str:
    if not path.exists():
        return ""
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if not isinstance(body, list):
            continue
        kept = [
            child
            for child in body
            if not isinstance(child, ast.Import | ast.ImportFrom)
            and not (
                isinstance(child, ast.Expr)
                and isinstance(child.value, ast.Constant)
                and isinstance(child.value.value, str)
            )
        ]
        body[:] = kept or [ast.Pass()]
    return hashlib.sha256(ast.dump(tree).encode()).hexdigest()[:16]


def search_stale(built_with: dict[str, str] | None) -> bool:
    """Whether a dataset built with these files is stale: one of them changed or went away
    since (a migration added since is not: `flask init-db` applies it)."""
    if not isinstance(built_with, dict):
        return True
    now = search_fingerprint()
    return any(now.get(path) != digest for path, digest in built_with.items())


def episodes_show_file(path: Path) -> Path:
    """Write to `path` a show file giving BENCH_EPISODES episodes to every board of
    shows.example.toml that lists none, as an admin would (slug and name only: the rest stays
    as imported); `path`."""
    boards = tomllib.loads(SHOW_FILE.read_text())["boards"]
    lines = [
        "# Written by bench/dataset.py: episodes for the boards shows.example.toml gives none.",
    ]
    for board in boards:
        if board.get("episodes"):
            continue
        lines += ["", "[[boards]]", f"slug = {json.dumps(board['slug'])}"]
        lines.append(f"name = {json.dumps(board['name'])}")
        for number in range(1, BENCH_EPISODES + 1):
            aired = BENCH_FIRST_AIRED + timedelta(weeks=number - 1)
            lines += [
                "",
                "[[boards.episodes]]",
                "season = 1",
                f"number = {number}",
                f'title = "Episode {number}"',
                f"aired = {aired.isoformat()}",
            ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return path


def episode_boards(url: str) -> list[str]:
    engine = create_engine(url)
    try:
        with engine.connect() as db:
            return list(
                db.scalars(
                    text(
                        "SELECT slug FROM boards WHERE is_archived = false AND EXISTS "
                        "(SELECT 1 FROM episodes WHERE episodes.board_id = boards.id) ORDER BY id"
                    )
                )
            )
    finally:
        engine.dispose()


def discover_pages(url: str) -> list[Page]:
    """The pages worth loading. The board is the one with the most threads (of those with
    episodes), and both threads are on it and shown to BENCH_WATCHER (not tied to an episode
    beyond WATCHED): the short one has, on its first page, posts marked as discussing a later
    episode and posts with episode spoilers, so the watcher's pages pay for every spoiler rule."""
    watched = parse_code(WATCHED)
    engine = create_engine(url)
    try:
        with engine.connect() as db:
            board = db.execute(
                text(
                    "SELECT id, slug, thread_count FROM boards WHERE is_archived = false "
                    "AND EXISTS (SELECT 1 FROM episodes WHERE episodes.board_id = boards.id) "
                    "ORDER BY thread_count DESC, id LIMIT 1"
                )
            ).one_or_none()
            if board is None:
                raise DatasetError("no board has episodes: the dataset predates them (--rebuild)")
            shown = (
                "is_hidden = false AND (episode_key IS NULL OR episode_key <= :watched) "
                "AND board_id = :board"
            )
            first_page = "posts.thread_id = threads.id AND posts.number <= :n"
            short = db.execute(
                text(
                    f"SELECT id, slug, post_count FROM threads WHERE {shown} "
                    f"AND EXISTS (SELECT 1 FROM posts WHERE {first_page} "
                    "AND posts.episode_key > :watched) "
                    f"AND EXISTS (SELECT 1 FROM posts WHERE {first_page} "
                    "AND posts.html LIKE '%data-episode=%') "
                    "ORDER BY abs(post_count - :n), id LIMIT 1"
                ),
                {"n": POSTS_PER_PAGE, "watched": watched, "board": board.id},
            ).one_or_none()
            if short is None:
                raise DatasetError(
                    f"no thread on /b/{board.slug} has posts beyond {WATCHED} on its first page"
                )
            long = db.execute(
                text(
                    f"SELECT id, slug, post_count FROM threads WHERE {shown} "
                    "ORDER BY post_count DESC, id LIMIT 1"
                ),
                {"watched": watched, "board": board.id},
            ).one()
            if long.post_count < LONG_THREAD:  # the board has none long enough: any board's
                long = db.execute(
                    text(
                        "SELECT id, slug, post_count FROM threads WHERE is_hidden = false "
                        "AND (episode_key IS NULL OR episode_key <= :watched) "
                        "ORDER BY post_count DESC, id LIMIT 1"
                    ),
                    {"watched": watched},
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
        Page("search", "/search?q=writing", "search, a common word (~18% of posts)"),
    ]


def pages_as_dicts(pages: list[Page]) -> list[dict[str, str]]:
    return [asdict(page) for page in pages]


def _pages(items: int, per_page: int) -> int:
    return max(1, -(-items // per_page))


def _longest_thread(url: str) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as db:
            # Only threads the watcher is shown: a masked one would be a warning, not posts.
            longest = db.scalar(
                text(
                    "SELECT MAX(post_count) FROM threads "
                    "WHERE episode_key IS NULL OR episode_key <= :watched"
                ),
                {"watched": parse_code(WATCHED)},
            )
            return int(longest or 0)
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
