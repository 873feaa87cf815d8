"""The systemd units of ops/systemd/, read the way systemd reads them, so the cluster check runs
the very commands and environment production runs (there is no systemd on the check's machine).

Only what the units use is supported: Environment=, EnvironmentFile=, WorkingDirectory=,
ExecStart=, KillSignal=, ListenStream=, `${NAME}` expansion and the `%%` escape. Production
paths (/srv/showboard, /etc/showboard/...) are mapped to the check's through `paths`."""

from __future__ import annotations

import re
import shlex
import signal
from dataclasses import dataclass, field
from pathlib import Path

SYSTEMD = Path(__file__).resolve().parent.parent / "systemd"
VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass(frozen=True)
class Unit:
    name: str
    settings: dict[tuple[str, str], list[str]] = field(default_factory=dict)

    def value(self, section: str, key: str, default: str | None = None) -> str | None:
        values = self.settings.get((section, key))
        return values[-1] if values else default

    def values(self, section: str, key: str) -> list[str]:
        return self.settings.get((section, key), [])


def read_unit(name: str) -> Unit:
    unit = Unit(name)
    section = ""
    pending = ""
    for raw in (SYSTEMD / name).read_text().splitlines():
        line = pending + raw.strip()
        pending = ""
        if line.endswith("\\"):
            pending = line[:-1] + " "
            continue
        if not line or line[0] in "#;":
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        key, _, value = line.partition("=")
        unit.settings.setdefault((section, key.strip()), []).append(value.strip())
    return unit


def read_environment_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines, optionally quoted; # comments. The subset systemd and sh agree on."""
    env = {}
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, _, value = line.partition("=")
        words = shlex.split(value)
        env[key.strip()] = words[0] if words else ""
    return env


@dataclass(frozen=True)
class Service:
    """What starting a unit means: a command, its environment and its directory."""

    argv: list[str]
    env: dict[str, str]
    cwd: Path
    kill_signal: signal.Signals


def service(name: str, paths: dict[str, str]) -> Service:
    unit = read_unit(name)
    env: dict[str, str] = {}
    for assignment in unit.values("Service", "Environment"):
        for word in shlex.split(assignment):
            key, _, value = word.partition("=")
            env[key] = value
    for file in unit.values("Service", "EnvironmentFile"):
        env.update(read_environment_file(Path(_mapped(file.lstrip("-"), paths))))
    command = unit.value("Service", "ExecStart")
    if command is None:
        raise ValueError(f"{name} has no ExecStart")
    argv = [_mapped(_expand(word, env), paths) for word in shlex.split(command.lstrip("-@+!"))]
    cwd = Path(_mapped(unit.value("Service", "WorkingDirectory", "/") or "/", paths))
    kill = signal.Signals[unit.value("Service", "KillSignal", "SIGTERM") or "SIGTERM"]
    return Service(argv, env, cwd, kill)


def listen_stream(name: str) -> tuple[str, int]:
    """The socket unit's ListenStream as (address, port); a bare port means every address."""
    value = read_unit(name).value("Socket", "ListenStream")
    if value is None:
        raise ValueError(f"{name} has no ListenStream")
    address, _, port = value.rpartition(":")
    return (address.strip("[]") or "0.0.0.0", int(port))


def _expand(word: str, env: dict[str, str]) -> str:
    word = VARIABLE.sub(lambda match: env.get(match.group(1), ""), word)
    return word.replace("%%", "%")


def _mapped(path: str, paths: dict[str, str]) -> str:
    for production, here in paths.items():
        if path == production or path.startswith(production.rstrip("/") + "/"):
            return here + path[len(production) :]
    return path
