"""The cluster check's machines: the layout ops/cluster-check.sh made (namespaces on a bridge,
named in CLUSTER_* variables) and the processes started on it, which all end in stop()."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent


@dataclass(frozen=True)
class Host:
    netns: str
    address: str


@dataclass(frozen=True)
class Layout:
    state: Path
    services: str  # root namespace: PostgreSQL forwarder, Redis, SMTP sink
    clients: list[str]
    proxy: Host
    apps: list[Host]
    database: str

    @classmethod
    def from_env(cls) -> Layout:
        def host(pair: str) -> Host:
            netns, address = pair.split("=")
            return Host(netns, address)

        return cls(
            state=Path(os.environ["CLUSTER_STATE"]),
            services=os.environ["CLUSTER_SERVICES_ADDR"],
            clients=os.environ["CLUSTER_CLIENT_ADDRS"].split(),
            proxy=host(os.environ["CLUSTER_PROXY"]),
            apps=[host(pair) for pair in os.environ["CLUSTER_APP_HOSTS"].split()],
            database=os.environ["CLUSTER_DATABASE"],
        )

    def free_port(self) -> int:
        with socket.socket() as probe:
            probe.bind((self.services, 0))
            return probe.getsockname()[1]


class Processes:
    """Every process the check starts, by name. Root-namespace ones are listed in STATE/pids
    (with CLUSTER_STATE in their environment) so the shell's trap can end them if this
    program dies; those in a namespace die with it."""

    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        self.running: dict[str, subprocess.Popen[bytes]] = {}
        self.logs = layout.state / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)

    def start(
        self,
        name: str,
        argv: list[str],
        env: dict[str, str] | None = None,
        cwd: Path = ROOT,
        netns: str | None = None,
    ) -> subprocess.Popen[bytes]:
        if netns:
            argv = ["ip", "netns", "exec", netns, *argv]
        full_env = {
            "PATH": os.environ["PATH"],
            **(env or {}),
            "CLUSTER_STATE": str(self.layout.state),
        }
        with (self.logs / f"{name}.log").open("ab") as log:
            process = subprocess.Popen(
                argv,
                env=full_env,
                cwd=cwd,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        self.running[name] = process
        if not netns:
            with (self.layout.state / "pids").open("a") as pids:
                pids.write(f"{process.pid}\n")
        return process

    def stop(self, name: str, sig: int = signal.SIGTERM, timeout: float = 30) -> None:
        process = self.running.pop(name, None)
        if process is None or process.poll() is not None:
            return
        process.send_signal(sig)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)

    def forget(self, name: str) -> None:
        """After the process was killed from outside (a host's crash)."""
        process = self.running.pop(name, None)
        if process is not None:
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()

    def stop_all(self) -> None:
        for name in reversed(list(self.running)):
            self.stop(name, timeout=15)

    def log(self, name: str) -> str:
        path = self.logs / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""


def namespace_pids(netns: str) -> list[int]:
    out = subprocess.run(["ip", "netns", "pids", netns], capture_output=True, text=True)
    return [int(pid) for pid in out.stdout.split()]


def wait_until(condition: object, timeout: float, interval: float = 0.25) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if condition():  # type: ignore[operator]
                return True
        except OSError:
            pass
        time.sleep(interval)
    return False
