"""The commands of docs/deploy.md, word for word. A fenced ```sh block right after an HTML
comment `<!-- cluster-check: NAME -->` is a step the check runs with bash, with its own values
for the variables the guide sets in its "Values used below" block (SHOWBOARD, SERVER_NAME, ...).
So the guide cannot drift from what the check proves."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

GUIDE = Path(__file__).resolve().parent.parent.parent / "docs" / "deploy.md"
STEP = re.compile(r"<!-- cluster-check: ([a-z0-9-]+) -->\s*```sh\n(.*?)```", re.DOTALL)


def steps() -> dict[str, str]:
    return {name: body for name, body in STEP.findall(GUIDE.read_text())}


def run_step(
    name: str,
    values: dict[str, str],
    netns: str | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 120,
) -> str:
    """Run one step of the guide in bash (inside `netns` when given); its output, or an error
    that shows it."""
    found = steps()
    if name not in found:
        raise RuntimeError(f"docs/deploy.md has no step '{name}'")
    script = "set -euo pipefail\n" + found[name]
    argv = ["bash", "-c", script]
    if netns:
        argv = ["ip", "netns", "exec", netns, *argv]
    result = subprocess.run(
        argv, env={**(env or {}), **values}, capture_output=True, text=True, timeout=timeout
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"guide step '{name}' failed ({result.returncode}):\n"
            f"{result.stdout[-1500:]}{result.stderr[-1500:]}"
        )
    return result.stdout
