"""What a member typed into the search box, parsed like a web search engine's query.

Words, ``"quoted phrases"``, ``-excluded`` words or phrases, and ``OR`` between two terms
(upper case, as Google has it; a lower-case "or" is a word). Everything else is a word
separator: engine syntax (FTS5's ``NEAR(``, ``*``, ``^``, ``column:``; tsquery's ``&``, ``|``,
``!``, ``:*``) arrives here as punctuation and leaves as nothing, so the engines only ever
receive words made of letters and digits (`TOKEN`), as bound parameters. Any text parses: NUL
bytes, unbalanced quotes, 10,000 characters (only the first MAX_TERMS terms are kept).

Words are normalised the way documents are (forum/search/search.py `normalise`: NFKD,
combining marks dropped, casefolded), so "Café" and "cafe" are one word. A chunk that
normalises to several words ("don't", "e-mail", "S1E8's") is searched as a phrase, which is
how both engines index it; other punctuation separates words ("title:near" is two). A
possessive's trailing 's (straight or curly apostrophe) is dropped before that, in queries and
documents alike, so "Ingrid's" is the word "ingrid" on both engines, as a web search has it
(not the phrase "ingrid s", and no lone "s" to mark). Pure functions: no Flask, no database.

STOP_WORDS are PostgreSQL's english stop words: its english vector has none of them, so a
term made only of them is matched there as plain words in the open text (search_postgres.py);
SQLite matches such terms in the open text too, so the two engines agree on where they look.
A phrase holding some of them must also match word for word on PostgreSQL, where the english
query alone drops them ('the office' would be 'offic').

Where the engines still differ (each would cost an index the other engine's design avoids):

- Stemming: SQLite's Porter stemmer stems every word, stop words included ("being" finds
  "be"); PostgreSQL matches a stop-word-only term exactly ("being" finds "being" only). Both
  stem other words alike in practice, but not identically (Porter vs Snowball english).
- A phrase with stop words on PostgreSQL must match exactly in the title or open body (the
  plain-word index has no spoiler text and no stemming): '"renewed for the season"' misses
  "renewal for the seasons", which SQLite finds, and a spoiler span's such phrase is found on
  SQLite only. Stop-word-only terms look at the open text on both, never at spoiler text.
- Within a rank tier the order differs (SQLite counts hits; PostgreSQL's ts_rank).
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
# A possessive's 's after a letter or digit, at the end of a word ("ingrid's", "S1E8\u2019s").
_POSSESSIVE = re.compile(r"(?<=[^\W_])['\u2019]s\b")

# PostgreSQL's english stop words (tsearch_data/english.stop).
_STOP_LIST = """
i me my myself we our ours ourselves you your yours yourself yourselves he him his himself she
her hers herself it its itself they them their theirs themselves what which who whom this that
these those am is are was were be been being have has had having do does did doing a an the and
but if or because as until while of at by for with about against between into through during
before after above below to from up down in out on off over under again further then once here
there when where why how all any both each few more most other some such no nor not only own
same so than too very s t can will just don should now
"""
STOP_WORDS = frozenset(_STOP_LIST.split())

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
    """The normalised words of `text`, in order (a possessive's 's dropped)."""
    return TOKEN.findall(_POSSESSIVE.sub("", normalise(text)))


@dataclass(frozen=True, slots=True)
class Term:
    """One word, or a phrase (several words in this order)."""

    words: tuple[str, ...]

    @property
    def is_phrase(self) -> bool:
        return len(self.words) > 1

    @property
    def only_stop_words(self) -> bool:
        """Made only of STOP_WORDS ("the who"): matched as plain words in the open text."""
        return all(word in STOP_WORDS for word in self.words)

    @property
    def has_stop_words(self) -> bool:
        return any(word in STOP_WORDS for word in self.words)


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

    @property
    def titled_groups(self) -> tuple[tuple[Term, ...], ...]:
        """The groups a title must match for the post to be a title candidate (search.py):
        those with no term made only of stop words (which a title rarely holds on purpose)."""
        return tuple(g for g in self.groups if not any(t.only_stop_words for t in g))


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
