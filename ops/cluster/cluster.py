"""Bringing up docs/deploy.md's layout on the check's machines: the services host (PostgreSQL
through a forwarder, Redis, an SMTP sink), two app hosts running the systemd units of
ops/systemd/, and the proxy host running nginx with the guide's site config."""

from __future__ import annotations

import contextlib
import http.client
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from ops.cluster import units
from ops.cluster.guide import run_step
from ops.cluster.machine import ROOT, Host, Layout, Processes, namespace_pids, wait_until

SERVER_NAME = "showboard.test"
PUBLIC_URL = f"https://{SERVER_NAME}"
APP_PORT = 8000
ADMIN = ("siteadmin", "siteadmin@showboard.test", "cluster-admin-password-1")
# Check-only settings on top of the guide's: a login limit a test reaches in a few tries, and
# reply limits a short load test never reaches (it posts as few members, many times).
CHECK_SETTINGS = {
    "FORUM_LIMIT_LOGIN_IP": "6 per 15 minutes",
    "FORUM_LIMIT_LOGIN_ACCOUNT": "50 per 15 minutes",
    "FORUM_LIMIT_REPLIES": "5000 per 10 minutes",
    "FORUM_LIMIT_PASSWORD_RESET": "50 per hour",
    "FORUM_FLOOD_WINDOW_SECONDS": "1",
    "FORUM_SMTP_TIMEOUT": "3",
    # Row 5 waits for the mail job's first retry: 20 s instead of production's 240 s.
    "FORUM_MAIL_RETRY_SECONDS": "20",
}

NGINX_MAIN = """\
# Stands in for Debian's /etc/nginx/nginx.conf: the site file is the guide's.
user root;
worker_processes 1;
pid {state}/nginx/nginx.pid;
error_log {state}/nginx/error.log warn;
events {{ worker_connections 512; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    client_body_temp_path {state}/nginx/body;
    proxy_temp_path {state}/nginx/proxy;
    fastcgi_temp_path {state}/nginx/fastcgi;
    uwsgi_temp_path {state}/nginx/uwsgi;
    scgi_temp_path {state}/nginx/scgi;
    include {state}/nginx/showboard.conf;
}}
"""


class Cluster:
    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        self.processes = Processes(layout)
        state = layout.state
        self.env_file = state / "showboard.env"
        self.tls_cert = state / "tls" / "cert.pem"
        self.nginx_log = state / "nginx" / "access.log"
        self.mail_dir = state / "mail"
        self.backups = state / "backups"
        self.ports = {name: layout.free_port() for name in ("postgres", "redis", "smtp")}
        self.redis_password = secrets.token_hex(12)
        # Production paths in ops/systemd/ -> this machine's.
        self.paths = {
            "/srv/showboard": str(ROOT),
            "/etc/showboard/showboard.env": str(self.env_file),
            "/var/backups/showboard": str(self.backups),
        }

    # ------------------------------------------------------------------ the guide's values

    def guide_values(self) -> dict[str, str]:
        state = self.layout.state
        return {
            "PATH": os.environ["PATH"],
            "SHOWBOARD": str(ROOT),
            "SHOWBOARD_ENV_FILE": str(self.env_file),
            "SERVER_NAME": SERVER_NAME,
            "APP_HOSTS": ",".join(host.address for host in self.layout.apps),
            "TLS_CERT": str(self.tls_cert),
            "TLS_KEY": str(state / "tls" / "key.pem"),
            "NGINX_SITE": str(state / "nginx" / "showboard.conf"),
            "NGINX_LOG": str(self.nginx_log),
            "ADMIN_NAME": ADMIN[0],
            "ADMIN_EMAIL": ADMIN[1],
            "ADMIN_PASSWORD": ADMIN[2],
            "BACKUPS": str(self.backups),
        }

    def database_url(self, name: str | None = None) -> str:
        return (
            f"postgresql+psycopg://postgres@{self.layout.services}:"
            f"{self.ports['postgres']}/{name or self.layout.database}"
        )

    # ------------------------------------------------------------------ bring-up

    def start(self) -> None:
        (self.layout.state / "tls").mkdir()
        (self.layout.state / "nginx").mkdir()
        self.backups.mkdir()
        values = self.guide_values()
        run_step("tls-cert", values)
        self._start_services()
        self._write_env_file()
        run_step("first-install", values, netns=self.layout.apps[0].netns)
        self.flask(self.layout.apps[0], "boards", "import", "shows.example.toml", "--keep-existing")
        self.flask(self.layout.apps[0], "demo")
        for host in self.layout.apps:
            self.start_host(host)
        run_step("nginx-site", values)
        (self.layout.state / "nginx" / "nginx.conf").write_text(
            NGINX_MAIN.format(state=self.layout.state)
        )
        self.processes.start(
            "nginx",
            ["nginx", "-c", str(self.layout.state / "nginx" / "nginx.conf"), "-g", "daemon off;"],
            netns=self.layout.proxy.netns,
        )
        for host in self.layout.apps:
            if not self.wait_ready(host, 90):
                raise RuntimeError(
                    f"{host.netns}: /readyz never answered 200\n"
                    f"{self.processes.log(f'web-{host.netns}')[-2000:]}"
                )

    def _start_services(self) -> None:
        services = self.layout.services
        subprocess.run(
            [
                "psql",
                "-h",
                "127.0.0.1",
                "-U",
                "postgres",
                "-d",
                "postgres",
                "-qc",
                f"CREATE DATABASE {self.layout.database}",
            ],
            check=True,
        )
        self.processes.start(
            "postgres-forwarder",
            [
                sys.executable,
                str(ROOT / "ops/cluster/forward.py"),
                services,
                str(self.ports["postgres"]),
                "127.0.0.1",
                "5432",
            ],
        )
        self.processes.start(
            "redis",
            [
                "redis-server",
                "--bind",
                services,
                "--port",
                str(self.ports["redis"]),
                "--requirepass",
                self.redis_password,
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.layout.state),
            ],
        )
        self.start_smtp()
        for name in ("postgres", "redis", "smtp"):
            if not wait_until(lambda name=name: _accepts(services, self.ports[name]), 15):
                raise RuntimeError(f"{name} did not start on {services}:{self.ports[name]}")

    def _write_env_file(self) -> None:
        """The guide's ops/showboard.env.example with this cluster's values."""
        services = self.layout.services
        values = {
            "FORUM_ENV": "production",
            "FORUM_SECRET_KEY": secrets.token_hex(32),
            "FORUM_PUBLIC_URL": PUBLIC_URL,
            "FORUM_TRUSTED_PROXIES": "1",
            "FORUM_DATABASE_URL": self.database_url(),
            "FORUM_REDIS_URL": f"redis://:{self.redis_password}@{services}:{self.ports['redis']}/0",
            "FORUM_SMTP_URL": f"smtp://{services}:{self.ports['smtp']}",
            "FORUM_MAIL_FROM": f"Showboard <no-reply@{SERVER_NAME}>",
            "FORUM_LOG_FORMAT": "json",
            "WEB_WORKERS": "2",
            "WEB_THREADS": "4",
        }
        example = units.read_environment_file(ROOT / "ops" / "showboard.env.example")
        if missing := sorted(example.keys() - values.keys()):
            raise RuntimeError(f"the check sets no value for {', '.join(missing)}")
        lines = [f'{key}="{value}"' for key, value in {**values, **CHECK_SETTINGS}.items()]
        self.env_file.write_text("\n".join(lines) + "\n")

    # ------------------------------------------------------------------ hosts

    def flask(
        self, host: Host, *args: str, env: dict[str, str] | None = None, timeout: float = 180
    ) -> str:
        """ops/flask.sh on an app host, as the guide runs it."""
        result = subprocess.run(
            ["ip", "netns", "exec", host.netns, str(ROOT / "ops" / "flask.sh"), *args],
            env={
                "PATH": os.environ["PATH"],
                "SHOWBOARD_ENV_FILE": str(self.env_file),
                **(env or {}),
            },
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"flask {' '.join(args)} on {host.netns} failed:\n"
                f"{result.stdout[-1500:]}{result.stderr[-1500:]}"
            )
        return result.stdout

    def start_host(self, host: Host) -> None:
        self.start_web(host)
        self.start_worker(host)

    def start_web(self, host: Host) -> None:
        web = units.service("showboard-web.service", self.paths)
        address, port = units.listen_stream("showboard-web.socket")
        self.processes.start(
            f"web-{host.netns}",
            [
                sys.executable,
                str(ROOT / "ops/cluster/socketd.py"),
                address,
                str(port),
                str(self._pidfile(host)),
                "--",
                *web.argv,
            ],
            env=web.env,
            cwd=web.cwd,
            netns=host.netns,
        )

    def start_worker(self, host: Host) -> None:
        worker = units.service("showboard-worker.service", self.paths)
        self.processes.start(
            f"worker-{host.netns}", worker.argv, env=worker.env, cwd=worker.cwd, netns=host.netns
        )

    def stop_worker(self, host: Host) -> None:
        worker = units.service("showboard-worker.service", self.paths)
        self.processes.stop(f"worker-{host.netns}", worker.kill_signal, timeout=60)

    def _pidfile(self, host: Host) -> Path:
        return self.layout.state / f"gunicorn-{host.netns}.pid"

    def gunicorn_master(self, host: Host) -> int:
        return int(self._pidfile(host).read_text())

    def restart_web(self, host: Host, timeout: float = 90) -> bool:
        """`systemctl restart showboard-web`: TERM to the master, which finishes its running
        requests and exits; socketd starts a new one on the same socket."""
        old = self.gunicorn_master(host)
        os.kill(old, signal.SIGTERM)
        if not wait_until(
            lambda: self._pidfile(host).read_text().strip() != str(old), timeout, 0.1
        ):
            return False
        return self.wait_ready(host, timeout)

    def kill_host(self, host: Host) -> tuple[float, float]:
        """The host dies: SIGKILL to every process in its namespace (gunicorn, its socket,
        the worker). Returns the wall-clock times of the first SIGKILL and of the moment the
        last of its processes was gone."""
        pids = namespace_pids(host.netns)
        first = time.time()
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        # The host is dead when its last process is: until then its socket still takes
        # connections (a busy machine takes a while to tear processes down).
        wait_until(lambda: not any(_alive(pid) for pid in pids), 30, 0.01)
        last = time.time()
        self.processes.forget(f"web-{host.netns}")
        self.processes.forget(f"worker-{host.netns}")
        return first, last

    def readyz(self, host: Host) -> int:
        connection = http.client.HTTPConnection(host.address, APP_PORT, timeout=5)
        try:
            connection.request("GET", "/readyz", headers={"Host": SERVER_NAME})
            return connection.getresponse().status
        finally:
            connection.close()

    def wait_ready(self, host: Host, timeout: float) -> bool:
        return wait_until(lambda: self.readyz(host) == 200, timeout, 0.3)

    # ------------------------------------------------------------------ SMTP sink

    def start_smtp(self) -> None:
        self.processes.start(
            "smtp",
            [
                sys.executable,
                "-m",
                "aiosmtpd",
                "-n",
                "-l",
                f"{self.layout.services}:{self.ports['smtp']}",
                "-c",
                "aiosmtpd.handlers.Mailbox",
                str(self.mail_dir),
            ],
        )

    def stop_smtp(self) -> None:
        self.processes.stop("smtp")
        wait_until(lambda: not _accepts(self.layout.services, self.ports["smtp"]), 10)

    def smtp_up(self) -> bool:
        return wait_until(lambda: _accepts(self.layout.services, self.ports["smtp"]), 15)

    # ------------------------------------------------------------------ the end

    def stop(self) -> None:
        for host in self.layout.apps:
            self.stop_worker(host)
            self.processes.stop(f"web-{host.netns}", timeout=40)
        self.processes.stop_all()


def _alive(pid: int) -> bool:
    """Running, as opposed to gone or a zombie (dead, its parent not told yet)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def _accepts(address: str, port: int) -> bool:
    try:
        with socket.create_connection((address, port), timeout=1):
            return True
    except OSError:
        return False
