"""Page numbers from a known total: the totals are denormalised counters, so no COUNT(*)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Page:
    number: int
    per_page: int
    total_items: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total_items // self.per_page))

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.per_page

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages

    def window(self, around: int = 2) -> list[int | None]:
        """Page numbers to link, with None for a gap: 1 … 4 5 [6] 7 8 … 20."""
        shown = {1, self.pages, *range(self.number - around, self.number + around + 1)}
        numbers = sorted(n for n in shown if 1 <= n <= self.pages)
        out: list[int | None] = []
        for n in numbers:
            if out and n - (out[-1] or 0) > 1:
                out.append(None)
            out.append(n)
        return out


def parse_page(raw: str | None) -> int:
    """Any `?page=` value becomes a page number >= 1; garbage means page 1."""
    try:
        number = int(raw or 1)
    except ValueError:
        return 1
    return min(max(number, 1), 10**9)


def page_of(total_items: int, per_page: int, requested: int) -> Page:
    """A page clamped to the last one, so ?page=99999 shows the last page, not an error."""
    last = max(1, -(-total_items // per_page))
    return Page(min(requested, last), per_page, total_items)
