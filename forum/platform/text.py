"""Plain-text rules shared by forms and domain code: cleaning, identity keys and slugs."""

from __future__ import annotations

import re
import unicodedata

# Letters, digits, _ and -: 3 to 30 of them, or 2 when one is a wide East Asian character
# (山田 is a whole name, and as wide as "abcd").
_WIDE = "[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\U00020000-\U0003fffd]"
USERNAME_PATTERN = re.compile(rf"^(?:[\w-]{{3,30}}|(?=[\w-]{{2}}$)(?:{_WIDE}.|.{_WIDE}))$")

# Unicode "Cc" (control) and "Cf" (format: zero-width, bidi overrides) characters, except the
# whitespace a post legitimately contains. NUL is a control character too.
_KEEP = {"\n", "\t"}


def strip_control(text: str) -> str:
    """Drop control and invisible format characters; normalise newlines to \\n."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return "".join(
        ch for ch in text if ch in _KEEP or unicodedata.category(ch) not in {"Cc", "Cf", "Cs"}
    )


def has_control(text: str) -> bool:
    return strip_control(text) != text.replace("\r\n", "\n").replace("\r", "\n")


def identity_key(value: str) -> str:
    """The comparison key for usernames and emails: NFKC then casefold, so a fullwidth
    'ADMIN' (U+FF21 ...), 'Admin' and 'admin' are the same account name."""
    return unicodedata.normalize("NFKC", value).casefold().strip()


def slugify(title: str, max_length: int = 60) -> str:
    ascii_title = (
        unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode("ascii").lower()
    )
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_title).strip("-")
    return slug[:max_length].rstrip("-") or "thread"
