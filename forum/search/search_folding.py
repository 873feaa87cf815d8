"""Accent-insensitive "contains" for short names stored as typed (thread titles in the header's
suggestions, usernames in the search page's Members group), on both engines, with no database
extension.

Typed words go through `search.normalise` (casefold, accents dropped), as the engine's
documents and queries do; titles and usernames are stored with their accents ("Café Society",
"josé_fan"). A plain ILIKE '%cafe%' never finds "Café", so `contains_folded` compares the word
with the name folded in SQL:

- a name that is all ASCII (nearly all) is compared as it is, with ILIKE: the fold runs only
  for names whose byte length differs from their character length;
- PostgreSQL matches a regular expression built from the word, each letter a class of every
  letter that folds to it ("e" -> [eEèéêë...]), "ss" also "ß": built in, no `unaccent`. Over
  5,000 titles full of accents, 3-14 ms; translate() with the same table took 1-1.7 s (it
  searches its whole table for each character);
- SQLite has neither: `search.normalise` itself is registered on the connection as
  forum_fold() (a C call, not a statement).

The table covers the Latin, Greek and Cyrillic blocks; letters outside it with marks compare
as typed on PostgreSQL: missed, never wrongly matched. Callers that need an exact answer
check rows with `search.normalise` in Python as well.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from typing import Any

from sqlalchemy import ColumnElement, LargeBinary, and_, cast, func, or_
from sqlalchemy.orm import Session

from forum.search.search_query import normalise

FOLD_FUNCTION = "forum_fold"


def _fold_table() -> dict[str, str]:
    """For each letter a word may hold, a regular-expression class of the letters that fold to
    it: those of the Latin, Greek and Cyrillic blocks whose normalised form is that one letter
    ("É" -> "e", "ή" -> "η", "й" -> "и"), its capital and itself."""
    variants: dict[str, set[str]] = defaultdict(set)
    blocks = (range(0x41, 0x5B), range(0xC0, 0x250), range(0x370, 0x530), range(0x1E00, 0x2000))
    for code in (code for block in blocks for code in block):
        letter = chr(code)
        base = normalise(letter)
        if len(base) == 1 and base.isalpha() and base != letter:
            variants[base].add(letter)
    return {base: "".join(sorted(letters)) for base, letters in variants.items()}


FOLDS = _fold_table()


def folded_regex(word: str) -> str:
    """A PostgreSQL regular expression that finds `word` (normalised) in a name as typed:
    "cafe" -> "[cCçÇ...][aAàáâ...][fF...][eEèéê...]"."""
    parts = []
    at = 0
    while at < len(word):
        if word.startswith("ss", at):
            parts.append("(?:[sS][sS]|ß|ẞ)")
            at += 2
            continue
        letter = word[at]
        if letter.isalnum() or letter == "_":
            same = {letter, *letter.upper()} if len(letter.upper()) == 1 else {letter}
            parts.append(f"[{''.join(sorted(same))}{FOLDS.get(letter, '')}]")
        else:  # not a word character (never in a normalised word): a backslash keeps it literal
            parts.append(f"\\{letter}")
        at += 1
    return "".join(parts)


def like_pattern(word: str) -> str:
    """'%word%' with LIKE's own characters escaped (by a backslash)."""
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def contains_folded(session: Session, column: Any, word: str) -> ColumnElement[bool]:
    """Whether `column` contains `word` (already normalised), case and accents aside."""
    pattern = like_pattern(word)
    if session.get_bind().dialect.name == "postgresql":
        has_accents = func.octet_length(column) != func.char_length(column)
        accented = column.op("~")(folded_regex(word))
    else:
        _register_fold(session)
        has_accents = func.length(cast(column, LargeBinary)) != func.length(column)
        accented = func.forum_fold(column).like(pattern, escape="\\")
    # ILIKE for names that are all ASCII (nearly all): the fold only for the others.
    return or_(column.ilike(pattern, escape="\\"), and_(has_accents, accented))


def _fold(text: str | None) -> str | None:
    return text if text is None or text.isascii() else normalise(text)


def _register_fold(session: Session) -> None:
    """forum_fold() on this session's SQLite connection. Registering again replaces it, so
    no bookkeeping of which pooled connection has it."""
    driver = session.connection().connection.driver_connection
    if isinstance(driver, sqlite3.Connection):
        driver.create_function(FOLD_FUNCTION, 1, _fold, deterministic=True)
