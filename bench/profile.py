"""Where a thread-page request spends its time: py-spy samples the gunicorn workers (sync, so a
sample is one request's stack) while wrk loads the page.

py-spy is a dev tool, not a dependency: `.venv/bin/pip install py-spy` to enable this part.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

from bench.client import Client
from bench.dataset import BENCH_LOGIN, Dataset
from bench.load import wrk
from bench.servers import SHOWBOARD, app_env, gunicorn

# Steps of a request worth naming: (label, a substring of the py-spy frame, without line).
STEPS = [
    ("whole request in Flask", "Flask.wsgi_app (flask/app.py)"),
    ("view: load rows (forum/reading.py)", "(forum/reading.py)"),
    ("  of which SQL on the driver (do_execute)", "do_execute (sqlalchemy/engine/default.py)"),
    ("  of which fetching rows from the driver", "fetchall (sqlalchemy/engine/cursor.py)"),
    ("  of which building ORM objects (orm/loading.py)", "(sqlalchemy/orm/loading.py)"),
    ("  of which SQL statement cache keys", "_generate_cache_key (sqlalchemy/sql/cache_key.py)"),
    ("view: construct forms (CSRF token)", "FlaskForm.__init__ (flask_wtf/form.py)"),
    ("render_template (Jinja)", "render_template (flask/templating.py)"),
    ("  of which url_for", "Flask.url_for (flask/app.py)"),
    ("  of which date filters (time_ago, iso, long_date)", "(forum/templating.py)"),
    ("  of which escaping (markupsafe)", "(markupsafe/__init__.py)"),
    ("  of which template loading/compiling", "Environment.get_template (jinja2/environment.py)"),
    ("log-in cookie -> user (forum/auth.py load_user)", "load_user (forum/auth.py)"),
    ("save session cookie", "save_session (flask/sessions.py)"),
    ("teardown (close the DB session)", "Flask.do_teardown_appcontext (flask/app.py)"),
    ("gunicorn: parse request, send response", "SyncWorker.handle (gunicorn/workers/sync.py)"),
]
LINE_NUMBER = re.compile(r":\d+\)$")


def py_spy() -> str | None:
    return shutil.which("py-spy") or shutil.which("py-spy", path=str(Path(sys.executable).parent))


def profile_page(dataset: Dataset, page: str, logged_in: bool, seconds: float, warmup: float,
                 out: Path) -> dict[str, object]:
    spy = py_spy()
    if spy is None:
        raise RuntimeError("py-spy is not installed: .venv/bin/pip install py-spy")
    path = next(p.path for p in dataset.pages if p.name == page)
    who = "logged_in" if logged_in else "anonymous"
    raw = out / f"profile-{page}-{who}.txt"
    with gunicorn(SHOWBOARD, "sync", app_env(dataset.url), out / "profile.log") as app:
        cookie = ""
        if logged_in:
            member = Client(app.port)
            member.log_in(*BENCH_LOGIN)
            cookie = member.cookie_header()
            member.close()
        wrk(app.url(path), warmup, cookie)
        sampler = subprocess.Popen(
            [spy, "record", "--pid", str(app.pid), "--subprocesses", "--rate", "200",
             "--duration", f"{seconds:g}", "--format", "raw", "--output", str(raw)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wrk(app.url(path), seconds + 2, cookie)
            sampler.wait(timeout=seconds + 60)
        finally:
            if sampler.poll() is None:
                sampler.terminate()
                sampler.wait(timeout=10)
    return {"page": page, "who": who, "raw": str(raw), **summarise(raw.read_text())}


def summarise(raw: str) -> dict[str, object]:
    """Share of request samples under each step, by package of the innermost frame, and the
    innermost functions that take the most samples."""
    inclusive: Counter[str] = Counter()
    by_package: Counter[str] = Counter()
    leaves: Counter[str] = Counter()
    total = 0
    for line in raw.splitlines():
        stack, _, count = line.rpartition(" ")
        frames = [LINE_NUMBER.sub(")", frame) for frame in stack.split(";")
                  if not frame.startswith("process ")]
        if not any(frame.startswith("SyncWorker.handle (") for frame in frames):
            continue  # the master, or a worker waiting for a connection
        samples = int(count)
        total += samples
        for step, needle in STEPS:
            if any(needle in frame for frame in frames):
                inclusive[step] += samples
        by_package[_package(frames[-1])] += samples
        leaves[frames[-1]] += samples

    def shares(counter: Counter[str], top: int | None = None) -> dict[str, float]:
        return {name: round(100 * n / max(total, 1), 1) for name, n in counter.most_common(top)}

    return {
        "samples": total,
        "steps_percent": {step: round(100 * inclusive[step] / max(total, 1), 1)
                          for step, _ in STEPS},
        "innermost_package_percent": shares(by_package),
        "innermost_functions_percent": shares(leaves, 15),
    }


def _package(frame: str) -> str:
    location = frame.rsplit("(", 1)[-1].rstrip(")")
    if location.endswith(".html"):
        return "templates (compiled Jinja)"
    top = location.split("/", 1)[0]
    return top if "/" in location else f"{top} (stdlib or script)"
