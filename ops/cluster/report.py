"""The cluster check's table: one row per behaviour, expected against observed."""

from __future__ import annotations

import textwrap
import traceback
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Row:
    name: str
    expected: str
    observed: str
    passed: bool


class Table:
    def __init__(self, only: str = "") -> None:
        self.rows: list[Row] = []
        # CLUSTER_ONLY="6,7": run only the rows whose names start with those (while working).
        self.only = [part.strip() for part in only.split(",") if part.strip()]

    def add(self, name: str, expected: str, observed: str, passed: bool) -> None:
        self.rows.append(Row(name, expected, observed, passed))
        print(f"[{'PASS' if passed else 'FAIL'}] {name}: {observed}", flush=True)

    def run(self, name: str, expected: str, check: Callable[[], tuple[str, bool]]) -> None:
        """One row; an exception in the check is a FAIL with its message, and the next row
        still runs."""
        if self.only and not any(name.startswith(part) for part in self.only):
            return
        try:
            observed, passed = check()
        except Exception as error:  # the row's own failure, reported in the table
            traceback.print_exc()
            observed, passed = f"error: {error}".splitlines()[0][:300], False
        self.add(name, expected, observed, passed)

    @property
    def passed(self) -> bool:
        return bool(self.rows) and all(row.passed for row in self.rows)

    def render(self) -> str:
        widths = (34, 44, 52)
        lines = [
            _line(("row", "expected", "observed", "result"), widths),
            "-" * (sum(widths) + 3 * 3 + 6),
        ]
        for row in self.rows:
            lines.append(
                _line(
                    (row.name, row.expected, row.observed, "PASS" if row.passed else "FAIL"), widths
                )
            )
        total = sum(row.passed for row in self.rows)
        lines.append(f"{total} passed, {len(self.rows) - total} failed")
        return "\n".join(lines)


def _line(cells: tuple[str, str, str, str], widths: tuple[int, int, int]) -> str:
    wrapped = [
        textwrap.wrap(cell, width) or [""] for cell, width in zip(cells, widths, strict=False)
    ]
    height = max(len(column) for column in wrapped)
    out = []
    for index in range(height):
        parts = [
            (column[index] if index < len(column) else "").ljust(width)
            for column, width in zip(wrapped, widths, strict=True)
        ]
        result = cells[3] if index == 0 else ""
        out.append(" | ".join([*parts, result]).rstrip())
    return "\n".join(out)
