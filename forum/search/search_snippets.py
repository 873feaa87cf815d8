"""Search snippets: a window of a post's plain text around the words searched for, escaped, with
only `<mark>` added.

The text comes from the search engine (forum/search/search.py, `Hit.text`): the post's
indexed plain text, with no spoiler text of any kind, never its stored HTML. So a snippet can't
carry the post's markup (links, images, spoiler spans) or a spoiler: everything in it is
escaped here, and the only tags added are the marks.

Words are compared the way the engine compares them: `normalise` (casefold, accents dropped) on
both sides, then a light stem (common English endings cut, `stem` below) standing in for the
engines' Porter stemmers, which have no Python twin here: a word is marked when its stem is the
term's, or, for a stem of PREFIX_MIN letters or more, begins with it. So a search for "renewed"
(which the engines find in "renewal") marks "renewal", "renewed" and "renewals"; a short term
("2", "cho") marks only itself, not "2022" or "chose".

Pure functions, no Flask or database: tests/test_search_snippets.py holds them to exact output.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from functools import lru_cache

from markupsafe import Markup, escape

# How long a snippet is, in characters of text (before escaping), and how much of it comes
# before the first marked word.
SNIPPET_LENGTH = 240
LEAD = 60
# Terms whose stem is shorter than this mark only words with the same stem, not words their
# stem begins ("cho" marks "Cho", never "chose").
PREFIX_MIN = 5
# Endings cut by `stem`, longest first; "ies" becomes "i", as "y" does (Porter's rule).
_ENDINGS = (
    "ational", "ations", "ation", "ements", "ement", "ments", "ment", "nesses", "ness",
    "ingly", "ings", "ing", "edly", "ed", "ers", "er", "ies", "es", "ly", "al", "s",
)  # fmt: skip
_VOWELS = frozenset("aeiou")
ELLIPSIS = "…"

# A word: letters, digits, and the marks and joiners inside them ("don't" is two words, as the
# engine's tokenisers see it). Everything between words is copied as it is (escaped).
_WORD = re.compile(r"\w+", re.UNICODE)
_WORD_END = re.compile(r"\w+\Z", re.UNICODE)
_SPACES = re.compile(r"\s+")

Normalise = Callable[[str], str]


def stem(word: str) -> str:
    """A light English stem of a normalised word: one common ending cut (keeping 3 letters at
    least), a doubled final consonant made single, a final "y" made "i" and a final "e"
    dropped. "renewal", "renewed" and "renews" all give "renew"; "cancelled" and
    "cancellation" give "cancel". Not Porter: only ever compared with itself."""
    for ending in _ENDINGS:
        if word.endswith(ending) and len(word) - len(ending) >= 3:
            word = word[: -len(ending)] + ("i" if ending == "ies" else "")
            break
    if len(word) >= 4 and word[-1] == word[-2] and word[-1] not in _VOWELS:
        word = word[:-1]
    if len(word) > 3 and word.endswith("y"):
        word = word[:-1] + "i"
    if len(word) > 4 and word.endswith("e"):
        word = word[:-1]
    return word


# Posts share most of their words, so a page of snippets stems each one once.
@lru_cache(maxsize=8192)
def _ascii_stem(word: str) -> str:
    return stem(word.lower())


@lru_cache(maxsize=64)
def _terms(
    highlight: tuple[str, ...], normalise: Normalise
) -> tuple[frozenset[str], tuple[str, ...]]:
    """(every term's stem, the stems long enough to mark the words they begin), normalised
    again in case the engine's weren't, empty ones dropped (a term of "" would mark every
    word). Once per search, not per snippet."""
    stems = {stem(piece) for term in highlight for piece in _WORD.findall(normalise(term))}
    return frozenset(stems), tuple(sorted(s for s in stems if len(s) >= PREFIX_MIN))


Span = tuple[int, int]


def _marks(text: str, highlight: Sequence[str], normalise: Normalise) -> list[Span]:
    """Where the words to mark are in `text` (start, end), in order."""
    stems, prefixes = _terms(tuple(highlight), normalise)
    if not stems:
        return []
    spans = []
    for match in _WORD.finditer(text):
        word = match.group()
        # The contract's normalise is casefold + accents dropped, which for ASCII is lower():
        # a tenth of the cost, and most words of a long post are ASCII.
        key = _ascii_stem(word) if word.isascii() else stem(normalise(word))
        if key in stems or (prefixes and key.startswith(prefixes)):
            spans.append(match.span())
    return spans


def _marked(text: str, marks: Sequence[Span], start: int, end: int) -> Markup:
    """text[start:end] escaped, with the marked words inside it in <mark>."""
    out = Markup()
    at = start
    for word_start, word_end in marks:
        if word_start < start or word_end > end:
            continue
        out += escape(text[at:word_start])
        out += Markup("<mark>") + escape(text[word_start:word_end]) + Markup("</mark>")
        at = word_end
    return out + escape(text[at:end])


def flatten(text: str) -> str:
    """The text on one line: a snippet runs on, whatever paragraphs the post had."""
    return _SPACES.sub(" ", text).strip()


def mark(text: str, highlight: Sequence[str], normalise: Normalise) -> Markup:
    """All of `text` (a thread title, a board name), escaped, the highlighted words marked."""
    return _marked(text, _marks(text, highlight, normalise), 0, len(text))


def snippet(
    text: str,
    highlight: Sequence[str],
    normalise: Normalise,
    length: int = SNIPPET_LENGTH,
    lead: int = LEAD,
) -> Markup:
    """About `length` characters of `text` around its first highlighted word (its start when
    none is there: the match was in the title), cut at word boundaries, "…" where it was cut,
    escaped, the highlighted words marked."""
    text = flatten(text)
    marks = _marks(text, highlight, normalise)
    start = 0 if not marks else max(0, marks[0][0] - lead)
    end = min(len(text), start + length)
    if end == len(text):  # the end of the text is in reach: show more of what comes before
        start = max(0, end - length) if not marks else min(start, max(0, end - length))
    # Cut at word boundaries: never half a word at either end, unless one word is longer than
    # the snippet (then it is cut where it must be).
    cut_start = _boundary_after(text, start)
    if cut_start < end:
        start = cut_start
    cut_end = _boundary_before(text, end, at_least=start)
    if cut_end > start:
        end = cut_end
    shown = _marked(text, marks, start, end)
    before = Markup(ELLIPSIS) if start > 0 else Markup()
    after = Markup(ELLIPSIS) if end < len(text) else Markup()
    return Markup(before + shown.strip() + after) if (before or after) else shown


def _in_word(text: str, at: int) -> bool:
    """Whether `at` falls between two characters of one word."""
    return 0 < at < len(text) and _WORD.fullmatch(text, at - 1, at + 1) is not None


def _boundary_after(text: str, at: int) -> int:
    """`at`, moved forward past a word it falls inside of."""
    found = _WORD.match(text, at) if _in_word(text, at) else None
    return found.end() if found else at


def _boundary_before(text: str, at: int, at_least: int) -> int:
    """`at`, moved back before a word it falls inside of (not before `at_least`)."""
    found = _WORD_END.search(text, at_least, at) if _in_word(text, at) else None
    return found.start() if found else at
