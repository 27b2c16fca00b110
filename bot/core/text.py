"""Unicode folding and tokenizing shared by the matcher, stories and anything comparing words."""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import accumulate

# A token is a maximal run of letters or of digits in the folded text, so "S-400s" is s,400,s
# and "F35" is f,35. One fixed pattern; user input never becomes a regex.
_TOKEN_SPLIT = re.compile(r"([^\W\d_]+|\d+)")


@dataclass(frozen=True, slots=True)
class Token:
    """A folded word and the [start, end) span it came from in the original string."""

    text: str
    start: int
    end: int


@lru_cache(maxsize=16384)
def _fold_char(char: str) -> str:
    """Fold one character: casefold, decompose (NFKD), drop marks, casefold again."""
    if char == "ı":  # Turkish dotless i has no decomposition; users type it as "i"
        return "i"
    # Casefold first so "İ" becomes "i" + combining dot (dropped below); casefold again because
    # compatibility decomposition can yield capitals (e.g. "ℌ" -> "H").
    decomposed = unicodedata.normalize("NFKD", char.casefold())
    kept = "".join(c for c in decomposed if not unicodedata.category(c).startswith("M"))
    return kept.casefold()


def _fold_table(text: str) -> dict[int, str]:
    """Translation table for the non-ASCII characters of `text` (ASCII is handled by lower())."""
    return {ord(c): _fold_char(c) for c in set(text) if not c.isascii()}


def fold(text: str) -> str:
    """Case-, diacritic- and compatibility-insensitive form: "Çavuşoğlu" -> "cavusoglu"."""
    if text.isascii():
        return text.lower()
    return text.translate(_fold_table(text)).lower()


@dataclass(slots=True)
class Tokenized:
    """A string's folded tokens, with spans in the original computed only when asked for.

    Matching needs only `words`; spans are needed for the few articles that matched, so the
    offset bookkeeping is deferred (this keeps tokenizing at C speed for the common case).
    """

    original: str
    words: list[str]
    _parts: list[str]  # split output: separator, token, separator, token, ..., separator
    _char_starts: list[int] | None  # folded offset of each original char; None = same offsets
    _part_offsets: list[int] = field(default_factory=list)

    @classmethod
    def of(cls, text: str) -> Tokenized:
        if text.isascii():
            folded, starts = text.lower(), None
        else:
            table = _fold_table(text)
            folded = text.translate(table).lower()
            starts = None if len(folded) == len(text) else _char_starts(text, table)
        parts = _TOKEN_SPLIT.split(folded)
        return cls(text, parts[1::2], parts, starts)

    def span(self, index: int) -> tuple[int, int]:
        """[start, end) in the original string of token `index`."""
        if not self._part_offsets:
            self._part_offsets = list(accumulate(map(len, self._parts), initial=0))
        start = self._part_offsets[2 * index + 1]
        end = self._part_offsets[2 * index + 2]
        if self._char_starts is None:
            return start, end
        return _original_span(self._char_starts, start, end)


def _char_starts(text: str, table: dict[int, str]) -> list[int]:
    """Folded offset where each original character starts, plus the total folded length."""
    lengths = (len(table.get(ord(c), c)) for c in text)
    return list(accumulate(lengths, initial=0))


def _original_span(starts: list[int], start: int, end: int) -> tuple[int, int]:
    """Map a folded [start, end) back to the original characters that produced it."""
    first = bisect_right(starts, start) - 1
    last = bisect_left(starts, end)
    # Characters that folded to nothing (combining marks) right after the token belong to it.
    while last < len(starts) - 1 and starts[last + 1] == starts[last]:
        last += 1
    return first, max(last, first + 1)


def tokens(text: str) -> list[Token]:
    """Folded letter runs and digit runs of `text`, each with its span in `text`."""
    tokenized = Tokenized.of(text)
    result = []
    for index, word in enumerate(tokenized.words):
        start, end = tokenized.span(index)
        result.append(Token(word, start, end))
    return result


def one_edit_apart(a: str, b: str) -> bool:
    """Levenshtein distance exactly one: a character added, dropped or changed."""
    if abs(len(a) - len(b)) > 1 or a == b:
        return False
    if len(a) > len(b):
        a, b = b, a
    i = 0
    while i < len(a) and a[i] == b[i]:
        i += 1
    if len(a) == len(b):
        return a[i + 1 :] == b[i + 1 :]
    return a[i:] == b[i + 1 :]
