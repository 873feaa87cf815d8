"""Reading a show file (TOML, one [[boards]] table per show, each with optional
[[boards.episodes]] tables) into board and episode upserts.

The whole file is checked before anything is written; an error names the line and the field, or
the line and column when the file is not valid TOML at all.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import partial
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from forum.discussion import episodes
from forum.discussion.episodes import EpisodeCounts, EpisodeEntry
from forum.models import Board, BoardStatus

BOARDS_HEADER = re.compile(r"^\s*\[\[\s*boards\s*\]\]")
EPISODES_HEADER = re.compile(r"^\s*\[\[\s*boards\s*\.\s*episodes\s*\]\]")
EPISODE_FIELDS = {"season", "number", "title", "aired"}
NO_EPISODES = EpisodeCounts(0, 0, 0)
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
TOML_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")
TEXT_FIELDS = {"name": 120, "description": 2000, "network": 80}
KNOWN_FIELDS = {"slug", "status", "premiered", "facts", "position", "episodes", *TEXT_FIELDS}


class ShowFileError(ValueError):
    """A field's error names the field; a syntax error (field None) names the column instead."""

    def __init__(
        self, line: int, field_name: str | None, message: str, column: int | None = None
    ) -> None:
        where = f"line {line}" if column is None else f"line {line}, column {column}"
        if field_name is not None:
            where += f", field '{field_name}'"
        super().__init__(f"{where}: {message}")
        self.line = line
        self.column = column
        self.field = field_name


@dataclass
class ShowEntry:
    slug: str
    values: dict[str, Any] = field(default_factory=dict)
    episodes: list[EpisodeEntry] = field(default_factory=list)


@dataclass(frozen=True)
class ImportResult:
    created: list[str]
    updated: list[str]
    # Already equal to the file (or left alone with keep_existing): re-importing the same file
    # must not claim to have changed anything.
    unchanged: list[str] = field(default_factory=list)
    # Over every board in the file; all zero when the file lists no episodes.
    episodes: EpisodeCounts = NO_EPISODES

    def summary(self) -> str:
        boards = (
            f"{len(self.created)} created, {len(self.updated)} updated, "
            f"{len(self.unchanged)} unchanged"
        )
        if not any(self.episodes):
            return boards
        created, updated, unchanged = self.episodes
        return f"{boards}; episodes: {created} created, {updated} updated, {unchanged} unchanged"


def _table_lines(source: str) -> list[tuple[int, int]]:
    """(first line, last line) of each [[boards]] table, 1-based, in file order."""
    lines = source.splitlines()
    starts = [n for n, text in enumerate(lines, 1) if BOARDS_HEADER.match(text)]
    ends = [*(s - 1 for s in starts[1:]), len(lines)]
    return list(zip(starts, ends, strict=True))


def _episode_spans(source: str, span: tuple[int, int]) -> list[tuple[int, int]]:
    """(first line, last line) of each [[boards.episodes]] table inside a board's span."""
    lines = source.splitlines()
    starts = [n for n in range(span[0], span[1] + 1) if EPISODES_HEADER.match(lines[n - 1])]
    ends = [*(s - 1 for s in starts[1:]), span[1]] if starts else []
    return list(zip(starts, ends, strict=True))


def _line_of(source: str, span: tuple[int, int], key: str) -> int:
    lines = source.splitlines()
    # `key = ...`, `key.sub = ...`, or a `[boards.key]` sub-table header.
    pattern = re.compile(
        rf"^\s*(?:{re.escape(key)}\s*[=.]|\[\s*boards\s*\.\s*{re.escape(key)}\s*\])"
    )
    for number in range(span[0], span[1] + 1):
        if pattern.match(lines[number - 1]):
            return number
    return span[0]


def _board_span(source: str, span: tuple[int, int]) -> tuple[int, int]:
    """The board's own keys: the lines before its first [[boards.episodes]] table."""
    episode_spans = _episode_spans(source, span)
    return (span[0], episode_spans[0][0] - 1) if episode_spans else span


def parse(source: str) -> list[ShowEntry]:
    try:
        document = tomllib.loads(source)
    except tomllib.TOMLDecodeError as error:
        message = str(error)
        position = TOML_POSITION.search(message)
        if position is None:
            raise ShowFileError(1, None, f"not valid TOML: {message}") from None
        line, column = int(position.group(1)), int(position.group(2))
        reason = message[: position.start()]
        raise ShowFileError(line, None, f"not valid TOML: {reason}", column=column) from None
    tables = document.get("boards")
    if not isinstance(tables, list) or not tables:
        raise ShowFileError(1, "boards", "the file needs at least one [[boards]] table")
    spans = _table_lines(source)
    entries: list[ShowEntry] = []
    seen: set[str] = set()
    for index, table in enumerate(tables):
        span = spans[index] if index < len(spans) else (1, len(source.splitlines()))
        own = _board_span(source, span)
        entry = _entry(table, partial(_line_of, source, own), span[0])
        entry.episodes = _episodes(table.get("episodes", []), source, span, entry.slug)
        if entry.slug in seen:
            raise ShowFileError(
                _line_of(source, span, "slug"), "slug", f"'{entry.slug}' appears twice in the file"
            )
        seen.add(entry.slug)
        entries.append(entry)
    return entries


def _entry(table: dict[str, Any], line_of: Callable[[str], int], start: int) -> ShowEntry:
    def fail(key: str, message: str) -> ShowFileError:
        return ShowFileError(line_of(key), key, message)

    for key in table:
        if key not in KNOWN_FIELDS:
            raise fail(key, f"unknown field (known: {', '.join(sorted(KNOWN_FIELDS))})")
    for required in ("slug", "name"):
        if required not in table:
            raise ShowFileError(start, required, "is required")
    slug = table["slug"]
    if not isinstance(slug, str) or not SLUG.match(slug):
        raise fail("slug", "use lowercase letters, digits and hyphens (up to 64)")
    values: dict[str, Any] = {}
    for key, limit in TEXT_FIELDS.items():
        if key in table:
            value = table[key]
            if not isinstance(value, str) or (key == "name" and not value.strip()):
                raise fail(
                    key, "must be a non-empty string" if key == "name" else "must be a string"
                )
            if len(value) > limit:
                raise fail(key, f"is longer than {limit} characters")
            values[key] = value.strip()
    if "status" in table:
        statuses = [s.value for s in BoardStatus]
        if table["status"] not in statuses:
            raise fail("status", f"must be one of: {', '.join(statuses)}")
        values["status"] = table["status"]
    for key, low, high in (("premiered", 1900, 2100), ("position", -10_000, 10_000)):
        if key in table:
            value = table[key]
            if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
                raise fail(key, f"must be a whole number from {low} to {high}")
            values[key] = value
    if "facts" in table:
        facts = table["facts"]
        if not isinstance(facts, dict) or not all(
            isinstance(v, str) and len(v) <= 300 for v in facts.values()
        ):
            raise fail("facts", 'must be a table of short strings, e.g. facts.creator = "..."')
        values["facts"] = {str(k): v for k, v in facts.items()}
    if "episodes" in table and not (
        isinstance(table["episodes"], list)
        and all(isinstance(item, dict) for item in table["episodes"])
    ):
        raise fail("episodes", "must be [[boards.episodes]] tables")
    return ShowEntry(slug=slug, values=values)


def _episodes(
    tables: list[dict[str, Any]], source: str, board_span: tuple[int, int], slug: str
) -> list[EpisodeEntry]:
    spans = _episode_spans(source, board_span)
    if len(spans) != len(tables):
        # Written some other way (an inline array): point at the `episodes` key instead.
        spans = [(_line_of(source, board_span, "episodes"),) * 2 for _ in tables]
    entries: list[EpisodeEntry] = []
    seen: set[tuple[int, int]] = set()
    for table, span in zip(tables, spans, strict=True):
        entry = _episode(table, partial(_line_of, source, span), span[0])
        if (entry.season, entry.number) in seen:
            raise ShowFileError(
                _line_of(source, span, "number"),
                "number",
                f"S{entry.season}E{entry.number} appears twice in board '{slug}'",
            )
        seen.add((entry.season, entry.number))
        entries.append(entry)
    return entries


def _episode(table: dict[str, Any], line_of: Callable[[str], int], start: int) -> EpisodeEntry:
    def fail(key: str, message: str) -> ShowFileError:
        return ShowFileError(line_of(key), key, message)

    for key in table:
        if key not in EPISODE_FIELDS:
            raise fail(key, f"unknown episode field (known: {', '.join(sorted(EPISODE_FIELDS))})")
    for required in ("season", "number", "title"):
        if required not in table:
            raise ShowFileError(start, required, "is required in every [[boards.episodes]]")
    problem = episodes.problem_with(table["season"], table["number"], table["title"])
    if problem is not None:
        raise fail(*problem)
    aired = table.get("aired")
    # A TOML date-time is a datetime, which is also a date: refuse it first.
    if isinstance(aired, datetime):
        raise fail("aired", "must be a date like 2022-08-26, without a time of day")
    if aired is not None and not isinstance(aired, date):
        hint = " (without quotes)" if isinstance(aired, str) else ""
        raise fail("aired", f"must be a date like 2022-08-26{hint}")
    return EpisodeEntry(table["season"], table["number"], table["title"].strip(), aired)


def upsert(session: Session, entries: list[ShowEntry], keep_existing: bool = False) -> ImportResult:
    """Create or update boards by slug and their episodes by (season, number) (or only create,
    with keep_existing). Never deletes, never commits."""
    existing = {
        board.slug: board
        for board in session.scalars(select(Board).where(Board.slug.in_([e.slug for e in entries])))
    }
    created, updated, unchanged = [], [], []
    for entry in entries:
        board = existing.get(entry.slug)
        if board is None:
            existing[entry.slug] = Board(slug=entry.slug, **entry.values)
            session.add(existing[entry.slug])
            created.append(entry.slug)
            continue
        changes = {
            key: value for key, value in entry.values.items() if getattr(board, key) != value
        }
        if keep_existing or not changes:
            unchanged.append(entry.slug)
            continue
        for key, value in changes.items():
            setattr(board, key, value)
        updated.append(entry.slug)
    session.flush()
    episode_totals = NO_EPISODES
    for entry in entries:
        if entry.episodes:
            counts = episodes.upsert_episodes(
                session, existing[entry.slug], entry.episodes, keep_existing=keep_existing
            )
            totals = zip(episode_totals, counts, strict=True)
            episode_totals = EpisodeCounts(*(before + more for before, more in totals))
    return ImportResult(created, updated, unchanged, episode_totals)
