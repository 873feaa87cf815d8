"""gunicorn serving Showboard (or the hello-world ceiling) on a free local port.

Each server runs in its own process group, so stopping it stops its workers too, and the
context manager stops it whatever happens inside the `with`.
"""

from __future__ import annotations

import http.client
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORKERS = 2
THREADS = 4
WORKER_CLASSES = ("sync", "gthread")
SHOWBOARD = "app:app"
HELLO = "bench.hello:app"

# One key per benchmark run: sessions made by one server are valid on the next one.
SECRET_KEY = secrets.token_hex(32)


def app_env(database_url: str) -> dict[str, str]:
    """The environment for the app and its CLI: plain http (FORUM_ENV unset), no rate limits."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("FORUM_")}
    env.update(
        FORUM_DATABASE_URL=database_url, FORUM_SECRET_KEY=SECRET_KEY, FORUM_RATE_LIMITS="off"
    )
    return env


@dataclass(frozen=True)
class Server:
    app: str
    worker_class: str
    port: int
    pid: int
    log: Path

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


@contextmanager
def gunicorn(app: str, worker_class: str, env: dict[str, str], log: Path) -> Iterator[Server]:
    port = _free_port()
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "--workers",
        str(WORKERS),
        "--worker-class",
        worker_class,
        "--bind",
        f"127.0.0.1:{port}",
    ]
    if worker_class == "gthread":
        command += ["--threads", str(THREADS)]
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w") as out:
        process = subprocess.Popen(
            [*command, app],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Server(app, worker_class, port, process.pid, log)
    try:
        _wait_until_serving(server, process)
        yield server
    finally:
        _stop(process)


def worker_memory(server: Server) -> list[dict[str, int]]:
    """Resident memory of each worker now and at its peak (VmRSS, VmHWM), in kB."""
    workers = []
    for pid in _children(server.pid):
        status = _proc_status(pid)
        if "VmRSS" in status:
            workers.append({"pid": pid, "rss_kb": status["VmRSS"], "peak_kb": status["VmHWM"]})
    return workers


def cpu_seconds(server: Server) -> float:
    """User + system CPU time used so far by the master and its workers. Per request, this is
    what a page costs, whatever else the machine is busy with."""
    ticks = 0
    for pid in [server.pid, *_children(server.pid)]:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime and stime, fields 14 and 15
    return ticks / os.sysconf("SC_CLK_TCK")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_until_serving(
    server: Server, process: subprocess.Popen[bytes], timeout: float = 60.0
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn {server.app} exited:\n{server.log_text()[-3000:]}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
            connection.request("GET", "/")
            connection.getresponse().read()
            connection.close()
            if len(_children(server.pid)) >= WORKERS:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn {server.app} did not answer in {timeout:.0f} s")


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the server's process group; gunicorn reaps its workers before it exits.
    SIGKILL to the group (master and workers) if that takes too long."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def _children(parent: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name may hold spaces; fields after its closing parenthesis are fixed.
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == parent:
            found.append(int(entry.name))
    return sorted(found)


def _proc_status(pid: int) -> dict[str, int]:
    values = {}
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return values
    for line in lines:
        name, _, rest = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            values[name] = int(rest.split()[0])
    return values
