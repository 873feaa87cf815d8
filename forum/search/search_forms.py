"""The search form: what /search?q=...&board=...&author=... asks for, read from the query string.

A GET form, so no CSRF token and no WTForms: every field is read by hand from the arguments,
cleaned (control characters and NUL bytes dropped, lengths capped), and kept exactly as typed
for the page to show again. A value that means nothing (a date like "31/02", a board that
doesn't exist) gets a message under its field, and the search waits until it is fixed, rather
than quietly searching for something else.

Parsing here is pure; the board, author and thread named are looked up by
forum/search/search_reading.py, which adds its own messages ("no member is called ...").
`@name` typed in the query is the author filter too, as on most forums.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from types import MappingProxyType

from forum.platform.pagination import parse_page
from forum.platform.text import strip_control

# The query searched, and shown back in the box: a question to a forum fits in this (the
# engine looks at 16 terms at most anyway). A longer query is cut, and the page says so.
MAX_QUERY = 200
MAX_NAME = 30  # usernames are at most 30 characters (forum/platform/text.py)
MAX_FIELD = 64  # a board slug, a thread number, a date: anything longer is not one

SORTS = ("relevance", "newest")
TRUE_VALUES = frozenset({"1", "on", "y", "yes", "true"})

# `@name` at the start of the query or after a space (not inside "me@example.org").
_AT_NAME = re.compile(r"(?:(?<=\s)|^)@([\w-]{1,30})(?=\s|$)", re.UNICODE)

Errors = Mapping[str, str]


@dataclass(frozen=True)
class SearchForm:
    """The form as typed (`q`, `board`, ... are what the page shows in its fields) and what
    it means (`words`, `author_name`, `since`, ...), with a message per field that means
    nothing (`errors`, keyed by field name; "" for the form as a whole)."""

    q: str = ""
    board: str = ""
    author: str = ""
    thread: str = ""
    since_text: str = ""
    until_text: str = ""
    threads_only: bool = False
    sort: str = "relevance"
    page: int = 1
    # What the engine gets: the query (cut to MAX_QUERY) without its @name.
    words: str = ""
    # The author asked for: the field, else the query's @name ("" for none).
    author_name: str = ""
    thread_id: int | None = None
    since: date | None = None
    until: date | None = None
    # The query was longer than MAX_QUERY and was cut (said above the results, not an error).
    cut: bool = False
    errors: Errors = field(default_factory=lambda: MappingProxyType({}))

    @property
    def newest_first(self) -> bool:
        return self.sort == "newest"

    @property
    def has_filters(self) -> bool:
        """Whether anything besides the words narrows the search (the filters open)."""
        return bool(
            self.board
            or self.author
            or self.since_text
            or self.until_text
            or self.threads_only
            or self.sort != "relevance"
        )

    @property
    def filter_errors(self) -> bool:
        """Whether a field among the filters (not the query, not the thread) has a message."""
        return any(name in self.errors for name in ("board", "author", "since", "until", "sort"))

    @property
    def cut_message(self) -> str | None:
        if not self.cut:
            return None
        return f"Your search was long: only its first {MAX_QUERY:,} characters were searched."

    def as_args(self, thread: bool = True) -> dict[str, str]:
        """The form's fields that differ from a blank form, as typed: for the page links
        (pagination), which must search for the same thing; `thread=False` for the same
        search everywhere."""
        args = {
            "q": self.q,
            "board": self.board,
            "author": self.author,
            "thread": self.thread if thread else "",
            "since": self.since_text,
            "until": self.until_text,
            "threads_only": "1" if self.threads_only else "",
            "sort": self.sort if self.sort != "relevance" else "",
        }
        return {name: value for name, value in args.items() if value}

    def with_errors(self, more: Errors) -> SearchForm:
        """This form with more messages (the look-ups' own)."""
        return replace(self, errors=MappingProxyType({**self.errors, **more}))


def _clean(args: Mapping[str, str], name: str, limit: int) -> str:
    """A field as typed, control characters dropped, ends trimmed and cut to `limit` (longer
    is never a valid value; the cut keeps a 10,000-character "date" out of the page)."""
    return strip_control(args.get(name, ""))[:limit].strip()


def _date(text: str) -> date | None:
    """A date as <input type="date"> sends it (2024-05-31), or None."""
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def parse(args: Mapping[str, str]) -> SearchForm:
    """The search form from a request's query string (`request.args`). Never raises."""
    errors: dict[str, str] = {}
    raw_q = strip_control(args.get("q", "")).strip()
    q = raw_q[:MAX_QUERY].strip()
    cut = len(raw_q) > MAX_QUERY
    # The query's @names: the first is the author filter unless the field names one.
    names = [m.group(1) for m in _AT_NAME.finditer(q)]
    words = " ".join(_AT_NAME.sub(" ", q).split())

    author = _clean(args, "author", MAX_FIELD).removeprefix("@").strip()
    if len(author) > MAX_NAME:
        errors["author"] = f"Usernames are at most {MAX_NAME} characters."
    named = {name.casefold() for name in names}
    if author:
        named.add(author.casefold())
    if len(named) > 1:
        errors["author"] = "Search one member's posts at a time: the query names more than one."
    author_name = author or (names[0] if names else "")

    thread = _clean(args, "thread", MAX_FIELD)
    thread_id = None
    if thread:
        if thread.isascii() and thread.isdigit() and 0 < int(thread) < 2**31:
            thread_id = int(thread)
        else:
            errors["thread"] = "That isn't a thread number: search the thread from its page."

    since_text, until_text = _clean(args, "since", MAX_FIELD), _clean(args, "until", MAX_FIELD)
    since, until = _date(since_text), _date(until_text)
    if since_text and since is None:
        errors["since"] = "Use a date like 2024-05-31 (year, month, day)."
    if until_text and until is None:
        errors["until"] = "Use a date like 2024-05-31 (year, month, day)."
    if since and until and since > until:
        errors["until"] = "The end date is before the start date."

    sort = _clean(args, "sort", MAX_FIELD) or "relevance"
    if sort not in SORTS:
        errors["sort"] = "Sort by relevance or by newest."
        sort = "relevance"

    return SearchForm(
        q=q,
        board=_clean(args, "board", MAX_FIELD),
        author=author,
        thread=thread,
        since_text=since_text,
        until_text=until_text,
        threads_only=_clean(args, "threads_only", MAX_FIELD).lower() in TRUE_VALUES,
        sort=sort,
        page=parse_page(_clean(args, "page", MAX_FIELD)),
        words=words,
        author_name=author_name,
        thread_id=thread_id,
        since=since,
        until=until,
        cut=cut,
        errors=MappingProxyType(errors),
    )
