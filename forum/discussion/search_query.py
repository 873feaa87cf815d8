"""What a member typed into the search box, parsed like a web search engine's query.

Words, ``"quoted phrases"``, ``-excluded`` words or phrases, and ``OR`` between two terms
(upper case, as Google has it; a lower-case "or" is a word). Everything else is a word
separator: engine syntax (FTS5's ``NEAR(``, ``*``, ``^``, ``column:``; tsquery's ``&``, ``|``,
``!``, ``:*``) arrives here as punctuation and leaves as nothing, so the engines only ever
receive words made of letters and digits (`TOKEN`), as bound parameters. Any text parses: NUL
bytes, unbalanced quotes, 10,000 characters (only the first MAX_TERMS terms are kept).

Words are normalised the way documents are (forum/discussion/search.py `normalise`: NFKD,
combining marks dropped, casefolded), so "Café" and "cafe" are one word. A chunk that
normalises to several words ("don't", "e-mail", "S1E8's") is searched as a phrase, which is
how both engines index it; other punctuation separates words ("title:near" is two). Pure
functions: no Flask, no database.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# A word: letters and digits, nothing else (the underscore is punctuation here, as in FTS5's
# unicode61 tokenizer). Documents are stored as these words joined by spaces, so both engines
# tokenize documents and queries alike.
TOKEN = re.compile(r"[^\W_]+")
# Bounds on the work one query may ask for; the rest of a longer query is ignored.
MAX_INPUT = 2000
MAX_TERMS = 16
MAX_PHRASE_WORDS = 12
# Longer "words" are no words (PostgreSQL doesn't index tokens past 2 KB): left out of a query.
MAX_WORD = 100

# A quoted phrase (running to the end when the quote is never closed), or a bare chunk.
_CHUNK = re.compile(r'(-?)"([^"]*)"?|(-?)([^\s"]+)')
# Inside a bare chunk, punctuation other than an apostrophe, a hyphen or a dot separates terms
# ("title:near" is two words); those three join the pieces of one ("don't", "e-mail", "3.5").
_SEPARATOR = re.compile(r"[^\w'\u2019.\-]+")


def normalise(text: str) -> str:
    """Casefolded, with accents stripped (NFKD, combining marks dropped): what documents and
    queries share, so "Café" finds "cafe" on both engines without a database extension."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return stripped.casefold()


def words(text: str) -> list[str]:
    """The normalised words of `text`, in order."""
    return TOKEN.findall(normalise(text))


@dataclass(frozen=True, slots=True)
class Term:
    """One word, or a phrase (several words in this order)."""

    words: tuple[str, ...]

    @property
    def is_phrase(self) -> bool:
        return len(self.words) > 1


@dataclass(frozen=True, slots=True)
class Query:
    """A parsed query: every group must match (AND), and within a group any term (OR); no
    excluded term may match."""

    groups: tuple[tuple[Term, ...], ...]
    excluded: tuple[Term, ...]
    truncated: bool = False

    @property
    def is_empty(self) -> bool:
        """Nothing to look for (only excluded terms is nothing to look for too)."""
        return not self.groups

    @property
    def highlight(self) -> tuple[str, ...]:
        """The positive words, once each, in the order typed."""
        seen: dict[str, None] = {}
        for group in self.groups:
            for term in group:
                for word in term.words:
                    seen.setdefault(word, None)
        return tuple(seen)


def parse(text: str) -> Query:
    """The query `text` asks for; never raises."""
    text = text[:MAX_INPUT]
    groups: list[list[Term]] = []
    excluded: list[Term] = []
    join_next = False  # an OR was read since the last positive term
    count = 0
    truncated = False
    for found in _CHUNK.finditer(text):
        quoted_minus, phrase, bare_minus, bare = found.groups()
        if bare == "OR":
            join_next = bool(groups)
            continue
        negated = bool(quoted_minus if phrase is not None else bare_minus)
        pieces = [phrase] if phrase is not None else _SEPARATOR.split(bare or "")
        for piece in pieces:
            piece_words = tuple(w for w in words(piece) if len(w) <= MAX_WORD)
            if not piece_words:
                continue
            if count >= MAX_TERMS:
                truncated = True
                break
            count += 1
            term = Term(piece_words[:MAX_PHRASE_WORDS])
            if negated:
                excluded.append(term)
            elif join_next and groups:
                groups[-1].append(term)
            else:
                groups.append([term])
            join_next = False
        if truncated:
            break
    return Query(
        tuple(tuple(dict.fromkeys(group)) for group in groups),
        tuple(dict.fromkeys(excluded)),
        truncated,
    )
