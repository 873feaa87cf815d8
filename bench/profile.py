"""Where a request spends its time: py-spy samples the gunicorn workers (sync, so a sample is
one request's stack) while wrk loads a page or writers reply. Samples include time spent
waiting (--idle), so a request waiting on the database shows as such.

py-spy is a dev tool, not a dependency: `.venv/bin/pip install py-spy` to enable this part.
"""

from __future__ import annotations

import re
import secrets
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from bench.client import Client
from bench.dataset import BENCH_LOGIN, Dataset, ensure_users
from bench.load import wrk
from bench.servers import SHOWBOARD, Server, app_env, gunicorn
from bench.writes import WRITER_PASSWORD, close, hot_threads, log_in_writers, race, writer_names

# Steps worth naming: (label, a substring of a py-spy frame with its line number removed).
THREAD_STEPS = [
    ("whole request in Flask", "Flask.wsgi_app (flask/app.py)"),
    (
        "page cache lookup (forum/platform/pagecache.py)",
        "_serve_cached (forum/platform/pagecache.py)",
    ),
    ("view: load rows (forum/discussion/reading.py)", "(forum/discussion/reading.py)"),
    ("  of which SQL on the driver (do_execute)", "do_execute (sqlalchemy/engine/default.py)"),
    ("  of which fetching rows from the driver", "fetchall (sqlalchemy/engine/cursor.py)"),
    ("  of which building ORM objects (orm/loading.py)", "(sqlalchemy/orm/loading.py)"),
    ("  of which SQL statement cache keys", "_generate_cache_key (sqlalchemy/sql/cache_key.py)"),
    ("view: construct forms (CSRF token)", "FlaskForm.__init__ (flask_wtf/form.py)"),
    # The search page's steps (none on the other pages).
    (
        "search page: load results (search_reading.find)",
        "find (forum/search/search_reading.py)",
    ),
    ("  of which the engine (search.find)", "find (forum/search/search.py)"),
    ("  of which snippets (search_snippets.py)", "(forum/search/search_snippets.py)"),
    ("  of which board and member matches", "_matches (forum/search/search_reading.py)"),
    ("render_template (Jinja)", "render_template (flask/templating.py)"),
    ("  of which url_for", "Flask.url_for (flask/app.py)"),
    ("  of which date filters (time_ago, iso, long_date)", "(forum/platform/templating.py)"),
    ("  of which escaping (markupsafe)", "(markupsafe/__init__.py)"),
    (
        "  of which template lookups (includes, imports)",
        "Environment.get_template (jinja2/environment.py)",
    ),
    (
        "log-in cookie -> user (forum/accounts/auth.py load_user)",
        "load_user (forum/accounts/auth.py)",
    ),
    ("save session cookie", "save_session (flask/sessions.py)"),
    ("teardown (close the DB session)", "Flask.do_teardown_appcontext (flask/app.py)"),
    ("gunicorn outside Flask: read request, send response", None),
]
REPLY_STEPS = [
    ("whole request in Flask", "Flask.wsgi_app (flask/app.py)"),
    (
        "log-in cookie -> user (forum/accounts/auth.py load_user)",
        "load_user (forum/accounts/auth.py)",
    ),
    (
        "load the thread (reading.thread_with_board)",
        "thread_with_board (forum/discussion/reading.py)",
    ),
    (
        "Markdown -> sanitised HTML (forum/discussion/markup.py)",
        "render (forum/discussion/markup.py)",
    ),
    ("flood control (forum/discussion/antispam.py)", "text_refusal (forum/discussion/antispam.py)"),
    ("add_post: number, insert, counters", "add_post (forum/discussion/posting.py)"),
    ("commit", "Session.commit (sqlalchemy/orm/session.py)"),
    ("  of which the undeclared-write check", "_before_commit (forum/platform/freshness.py)"),
    ("redirect target after commit (post_url)", "post_url (forum/views/threads.py)"),
    (
        "in the database driver: statements (do_execute)",
        "do_execute (sqlalchemy/engine/default.py)",
    ),
    ("in the database driver: commit (do_commit)", "do_commit (sqlalchemy/engine/default.py)"),
    ("waiting for PostgreSQL (psycopg Connection.wait)", "Connection.wait (psycopg/connection.py)"),
    ("gunicorn outside Flask: read request, send response", None),
]
LINE_NUMBER = re.compile(r":\d+\)$")


def py_spy() -> str | None:
    return shutil.which("py-spy") or shutil.which("py-spy", path=str(Path(sys.executable).parent))


def profile_page(
    dataset: Dataset,
    page: str,
    logged_in: bool,
    seconds: float,
    warmup: float,
    uncached: bool,
    out: Path,
) -> dict[str, object]:
    path = next(p.path for p in dataset.pages if p.name == page)
    who = "logged_in" if logged_in else "uncached" if uncached else "anonymous"
    raw = out / f"profile-{page}-{who}.txt"
    env = app_env(dataset.url)
    if uncached:
        # Made-up query strings are cache hits now (forum/platform/pagecache.py): render every
        # request.
        env["FORUM_PAGE_CACHE"] = "off"
    with gunicorn(SHOWBOARD, "sync", env, out / "profile-read.log") as app:
        cookie = ""
        if logged_in:
            member = Client(app.port)
            member.log_in(*BENCH_LOGIN)
            cookie = member.cookie_header()
            member.close()
        wrk(app.url(path), warmup, cookie)
        _sample(app, raw, seconds, lambda: wrk(app.url(path), seconds + 2, cookie))
    return {"page": page, "who": who, "raw": str(raw), **summarise(raw.read_text(), THREAD_STEPS)}


def profile_replies(
    database_url: str, database: str, seconds: float, clients: int, hot: int, out: Path
) -> dict[str, object]:
    threads = hot_threads(database_url, hot)
    names = writer_names(clients)
    ensure_users(database_url, names, WRITER_PASSWORD)
    raw = out / f"profile-reply-{database}.txt"
    with gunicorn(SHOWBOARD, "sync", app_env(database_url), out / "profile-reply.log") as app:
        writers = log_in_writers(app.port, names, threads)  # before sampling: logins are slow
        try:
            _sample(app, raw, seconds, lambda: race(writers, seconds + 2, secrets.token_hex(4)))
        finally:
            close(writers)
    return {
        "page": "reply",
        "who": f"{clients} writers, {database}",
        "raw": str(raw),
        **summarise(raw.read_text(), REPLY_STEPS),
    }


def _sample(app: Server, raw: Path, seconds: float, load: Callable[[], object]) -> None:
    spy = py_spy()
    if spy is None:
        raise RuntimeError("py-spy is not installed: .venv/bin/pip install py-spy")
    sampler = subprocess.Popen(
        [
            spy,
            "record",
            "--pid",
            str(app.pid),
            "--subprocesses",
            "--idle",
            "--rate",
            "200",
            "--duration",
            f"{seconds:g}",
            "--format",
            "raw",
            "--output",
            str(raw),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        load()
        sampler.wait(timeout=seconds + 60)
    finally:
        if sampler.poll() is None:
            sampler.terminate()
            sampler.wait(timeout=10)


def summarise(raw: str, steps: list[tuple[str, str | None]]) -> dict[str, object]:
    """Share of request samples under each step (None: outside Flask), by package of the
    innermost frame, and the innermost functions that take the most samples."""
    inclusive: Counter[str] = Counter()
    by_package: Counter[str] = Counter()
    leaves: Counter[str] = Counter()
    total = 0
    for line in raw.splitlines():
        stack, _, count = line.rpartition(" ")
        frames = [
            LINE_NUMBER.sub(")", frame)
            for frame in stack.split(";")
            if not frame.startswith("process ")
        ]
        if not any(frame.startswith("SyncWorker.handle (") for frame in frames):
            continue  # the master, or a worker waiting for a connection
        samples = int(count)
        total += samples
        for step, needle in steps:
            if needle is None:
                hit = not any(frame.startswith("Flask.wsgi_app (") for frame in frames)
            else:
                hit = any(needle in frame for frame in frames)
            if hit:
                inclusive[step] += samples
        by_package[_package(frames[-1])] += samples
        leaves[frames[-1]] += samples

    def share(n: int) -> float:
        return round(100 * n / max(total, 1), 1)

    return {
        "samples": total,
        "steps_percent": {step: share(inclusive[step]) for step, _ in steps},
        "innermost_package_percent": {k: share(n) for k, n in by_package.most_common()},
        "innermost_functions_percent": {k: share(n) for k, n in leaves.most_common(15)},
    }


def _package(frame: str) -> str:
    location = frame[frame.find(" (") + 2 : -1]
    if location.startswith("<"):  # <frozen os>, <sqlalchemy generated ...>, <werkzeug routing>
        return location[1:].split()[0]
    if location.endswith(".html"):
        return "templates (compiled Jinja)"
    top = location.split("/", 1)[0]
    return top if "/" in location else f"{top} (stdlib or script)"
