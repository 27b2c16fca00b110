"""What a chat user typed, made safe to act on and to store: command splitting, control
characters, and numeric ids that must fit the database's integers.

The same text then behaves the same on every platform and on SQLite and PostgreSQL alike
(PostgreSQL refuses NUL in text; both refuse lone surrogates, which no UTF-8 can hold).
"""

from __future__ import annotations

import unicodedata

MAX_ID = 2**31 - 1  # ids and rule numbers are 32-bit or 64-bit integers in the database


def split_command(text: str) -> tuple[str, str]:
    """ "/watch\\tS-400" -> ("watch", "S-400"): the name, then the arguments with every run of
    whitespace (tabs and newlines included) read as one space."""
    name, *rest = text.split(maxsplit=1) or [""]
    args = " ".join(rest[0].split()) if rest else ""
    return name.lstrip("/").lower(), args


def unsafe_character(text: str) -> str | None:
    """The first character that must not be stored or echoed ("U+0000"), or None.

    Whitespace is fine (split_command turns it into spaces); other control characters and
    lone surrogates are refused rather than silently dropped, so nothing the user typed is
    quietly changed.
    """
    for char in text:
        category = unicodedata.category(char)
        if (category == "Cc" and not char.isspace()) or category == "Cs":
            return f"U+{ord(char):04X}"
    return None


def number_key(key: str) -> str | None:
    """A rule or feed key as typed: digits become a canonical number ("#007" -> "7"); a number
    too large for any id becomes None (no such thing); any other text is kept as it is."""
    key = key.removeprefix("#")
    if not key.isdecimal():
        return None if key.isdigit() else key  # "²": a digit, but not a number
    if len(key) > len(str(MAX_ID)) or int(key) > MAX_ID:
        return None
    return str(int(key))


def without_unsafe(text: str) -> str:
    """`text` with the characters unsafe_character would refuse removed (for feed titles)."""
    return "".join(char for char in text if unsafe_character(char) is None)
