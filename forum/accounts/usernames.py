"""Look-alike usernames: what a name may be made of, and its confusable skeleton.

A name is shown as typed, so `admin` spelled with a Cyrillic a, or with a dotless i, would
pass for `admin`. Three rules, after Unicode's UTS #39 (security mechanisms for identifiers):

- no invisible characters: default-ignorable code points (zero-width characters, the Hangul
  fillers that render blank, variation selectors) are refused outright;
- one script per name, except the mixes a language writes with (Japanese: Han + Hiragana +
  Katakana; Chinese: Han + Bopomofo; Korean: Han + Hangul; each may add Latin): UTS #39's
  "highly restrictive" level, so `paypal` with one Cyrillic letter is refused while `Влад`
  and `山田` are fine;
- no phonetic or small-capital Latin letters (U+1D00 small capital A, U+0280 small capital R),
  which no language spells names with and whose only use here is imitation.

What is left is compared by skeleton: every character replaced by its prototype in Unicode's
confusables data (`m` and `rn`, `l` and `1` and `I` share one), case folded, until nothing
changes. Two names with one skeleton look alike, and the second is refused
(forum/accounts/membership.py looks the skeleton up in the indexed `users.username_skeleton`). The
data is
Unicode's confusables.txt and Scripts.txt as shipped by the confusable_homoglyphs package.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

# Default_Ignorable_Code_Point (Unicode's DerivedCoreProperties.txt): characters a renderer
# shows as nothing. Stable by Unicode policy, so a table beats a dependency.
_DEFAULT_IGNORABLE = (
    (0x00AD, 0x00AD),
    (0x034F, 0x034F),
    (0x061C, 0x061C),
    (0x115F, 0x1160),
    (0x17B4, 0x17B5),
    (0x180B, 0x180F),
    (0x200B, 0x200F),
    (0x202A, 0x202E),
    (0x2060, 0x206F),
    (0x3164, 0x3164),
    (0xFE00, 0xFE0F),
    (0xFEFF, 0xFEFF),
    (0xFFA0, 0xFFA0),
    (0xFFF0, 0xFFF8),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0000, 0xE0FFF),
)

# Scripts that may share a name (UTS #39 "highly restrictive"); any single script may stand
# alone. COMMON (digits, _ and -) and INHERITED (combining marks) go with every script.
_NEUTRAL = frozenset({"COMMON", "INHERITED"})
_WRITING_SYSTEMS = (
    frozenset({"LATIN", "HAN", "HIRAGANA", "KATAKANA"}),
    frozenset({"LATIN", "HAN", "BOPOMOFO"}),
    frozenset({"LATIN", "HAN", "HANGUL"}),
)

# Latin letters of living languages: Basic Latin to Latin Extended-B, Latin Extended
# Additional (Vietnamese), and the IPA-block letters African languages and Azerbaijani are
# written with (schwa, open e and o, hooked b and d, gamma, barred i and u, eng, ...; UTS #39
# marks them Allowed).
_LATIN_BLOCKS = ((0x0000, 0x024F), (0x1E00, 0x1EFF))
_LATIN_IPA_IN_USE = frozenset(
    "\u0253\u0254\u0256\u0257\u0259\u025b\u0263\u0268\u0269\u0272\u0289\u028a\u028b\u0292"
)


def is_default_ignorable(char: str) -> bool:
    code = ord(char)
    return any(low <= code <= high for low, high in _DEFAULT_IGNORABLE)


def script_of(char: str) -> str:
    # Imported on first use: the package parses its JSON tables on import (about 1 MB), which
    # every process start (CLI, workers, tests) would otherwise pay.
    from confusable_homoglyphs import categories

    found = categories.aliases_categories(char)
    return found[0] if found else "UNKNOWN"


def username_problem(name: str) -> str | None:
    """Why `name` can't be a username (one sentence for the sign-up form), or None."""
    if any(is_default_ignorable(ch) for ch in name + unicodedata.normalize("NFKC", name)):
        return "Usernames can't contain invisible characters."
    scripts = {script_of(ch) for ch in name} - _NEUTRAL
    if len(scripts) > 1 and not any(scripts <= system for system in _WRITING_SYSTEMS):
        listed = " and ".join(sorted(script.title() for script in scripts))
        return (
            f"Use one alphabet: this name mixes {listed} letters, which can imitate "
            "another member's name."
        )
    for ch in name:
        if (
            script_of(ch) == "LATIN"
            and ch not in _LATIN_IPA_IN_USE
            and not any(low <= ord(ch) <= high for low, high in _LATIN_BLOCKS)
        ):
            return f"“{ch}” is a phonetic letter that imitates an ordinary one: please use another."
    return None


@lru_cache(maxsize=1)
def _prototypes() -> dict[str, str]:
    """Each confusable character's prototype, rebuilt from the package's data.

    The package lists, per character, what it is confusable with, in both directions: a
    character that maps to a prototype lists just that prototype, and a prototype lists every
    character that maps to it. It adds left-to-right marks around right-to-left glyphs for
    display; they are no part of the data. A pair that only lists each other came from one line
    of confusables.txt, whose source the package wrote first."""
    from confusable_homoglyphs import confusables

    listed: dict[str, list[str]] = {}
    first_seen: dict[str, int] = {}
    for position, (key, entries) in enumerate(confusables.confusables_data.items()):
        char = key.replace("\u200e", "")
        listed.setdefault(char, []).extend(entry["c"].replace("\u200e", "") for entry in entries)
        first_seen.setdefault(char, position)
    prototype: dict[str, str] = {}
    for char, others in listed.items():
        if len(char) != 1:
            continue  # a prototype of several characters, listing what maps to it
        sequences = [other for other in others if len(other) > 1]
        if sequences:
            prototype[char] = sequences[0]
        elif len(others) == 1:
            other = others[0]
            if len(listed.get(other, ())) > 1 or first_seen[char] < first_seen[other]:
                prototype[char] = other
    return prototype


def _skeleton_once(text: str) -> str:
    prototypes = _prototypes()
    mapped = "".join(prototypes.get(ch, ch) for ch in unicodedata.normalize("NFD", text))
    return unicodedata.normalize("NFD", mapped)


def username_skeleton(name: str) -> str:
    """The UTS #39 skeleton of the case-folded name: equal for names that look alike."""
    text = unicodedata.normalize("NFKC", name)
    for _ in range(8):  # folding case can expose a new prototype; it settles fast
        folded = _skeleton_once(text).casefold()
        if folded == text:
            break
        text = folded
    return text
