"""Search snippets: a window of a post's plain text around the words searched for, escaped, with
only `<mark>` added.

The text comes from the search engine (forum/discussion/search.py, `Hit.text`): the post's
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
from dataclasses import dataclass

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
_SPACES = re.compile(r"\s+")

Normalise = Callable[[str], str]


@dataclass(frozen=True, slots=True)
class _Word:
    start: int
    end: int
    marked: bool


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


def _terms(
    highlight: Sequence[str], normalise: Normalise
) -> tuple[frozenset[str], tuple[str, ...]]:
    """(every term's stem, the stems long enough to mark the words they begin), normalised
    again in case the engine's weren't, empty ones dropped (a term of "" would mark every
    word)."""
    stems = {stem(piece) for term in highlight for piece in _WORD.findall(normalise(term))}
    return frozenset(stems), tuple(sorted(s for s in stems if len(s) >= PREFIX_MIN))


def _words(text: str, highlight: Sequence[str], normalise: Normalise) -> list[_Word]:
    stems, prefixes = _terms(highlight, normalise)
    words = []
    for match in _WORD.finditer(text):
        word = match.group()
        # The contract's normalise is casefold + accents dropped, which for ASCII is lower():
        # a tenth of the cost, and most words of a long post are ASCII.
        key = stem(word.lower() if word.isascii() else normalise(word))
        marked = bool(stems) and (key in stems or (bool(prefixes) and key.startswith(prefixes)))
        words.append(_Word(match.start(), match.end(), marked))
    return words


def _marked(text: str, words: Sequence[_Word], start: int, end: int) -> Markup:
    """text[start:end] escaped, with the marked words inside it in <mark>."""
    out = Markup()
    at = start
    for word in words:
        if not word.marked or word.start < start or word.end > end:
            continue
        out += escape(text[at : word.start])
        out += Markup("<mark>") + escape(text[word.start : word.end]) + Markup("</mark>")
        at = word.end
    return out + escape(text[at:end])


def flatten(text: str) -> str:
    """The text on one line: a snippet runs on, whatever paragraphs the post had."""
    return _SPACES.sub(" ", text).strip()


def mark(text: str, highlight: Sequence[str], normalise: Normalise) -> Markup:
    """All of `text` (a thread title, a board name), escaped, the highlighted words marked."""
    return _marked(text, _words(text, highlight, normalise), 0, len(text))


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
    words = _words(text, highlight, normalise)
    first = next((word for word in words if word.marked), None)
    start = 0 if first is None else max(0, first.start - lead)
    end = min(len(text), start + length)
    if end == len(text):  # the end of the text is in reach: show more of what comes before
        start = max(0, end - length) if first is None else min(start, max(0, end - length))
    # Cut at word boundaries: never half a word at either end, unless one word is longer than
    # the snippet (then it is cut where it must be).
    cut_start = _boundary_after(words, start)
    if cut_start < end:
        start = cut_start
    cut_end = _boundary_before(words, end, at_least=start)
    if cut_end > start:
        end = cut_end
    shown = _marked(text, words, start, end)
    before = Markup(ELLIPSIS) if start > 0 else Markup()
    after = Markup(ELLIPSIS) if end < len(text) else Markup()
    return Markup(before + shown.strip() + after) if (before or after) else shown


def _boundary_after(words: Sequence[_Word], at: int) -> int:
    """`at`, moved forward past a word it falls inside of."""
    for word in words:
        if word.start < at < word.end:
            return word.end
        if word.start >= at:
            break
    return at


def _boundary_before(words: Sequence[_Word], at: int, at_least: int) -> int:
    """`at`, moved back before a word it falls inside of (not before `at_least`)."""
    for word in words:
        if word.start < at < word.end:
            return max(word.start, at_least)
        if word.start >= at:
            break
    return at
