"""Unicode folding and tokenizing shared by the matcher, stories and anything comparing words."""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left, bisect_right
from collections.abc import Iterable
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
    """Fold one character: casefold, decompose (NFKD), drop marks, casefold again.

    Invisible format characters (category Cf: zero-width space and joiners, word joiner,
    BOM, soft hyphen, bidi controls) fold to nothing, so "Zor\u200bblax" is one word.
    """
    if char == "ı":  # Turkish dotless i has no decomposition; users type it as "i"
        return "i"
    if unicodedata.category(char) == "Cf":
        return ""  # they show nothing, so they must not split (or hide) a word
    # Casefold first so "İ" becomes "i" + combining dot (dropped below); casefold again because
    # compatibility decomposition can yield capitals (e.g. "ℌ" -> "H").
    decomposed = unicodedata.normalize("NFKD", char.casefold())
    kept = "".join(c for c in decomposed if not unicodedata.category(c).startswith("M"))
    return kept.casefold()


def _fold_table(text: str) -> dict[int, str]:
    """Translation table for the non-ASCII characters of `text` (ASCII is handled by lower())."""
    return {ord(c): _fold_char(c) for c in set(text) if not c.isascii()}


def fold(text: str) -> str:
    """Case-, diacritic- and compatibility-insensitive form: "Çavuşoğlu" -> "cavusoglu".

    Invisible format characters are dropped (see `_fold_char`).
    """
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


# Byte tables for the fast path (text that folds to ASCII, one character per character):
# letters are lower-cased, digits kept, everything else becomes a separator space.
_ASCII = bytes(range(128))
_NORMALIZE = bytes(
    c + 32 if 65 <= c <= 90 else c if 48 <= c <= 57 or 97 <= c <= 122 else 32 for c in range(256)
)
_SHAPE = bytes(97 if chr(c).isalpha() else 48 if chr(c).isdigit() else 32 for c in range(128))
_SHAPE += b" " * 128
_SPACE_RUN = re.compile(rb"  +")


@dataclass(slots=True)
class JoinedTokens:
    """A text's folded tokens as one string " t1 t2 ... tn ", with spans mapped back lazily.

    This is what the matcher scans: a term of n tokens is the substring " t1 ... tn ". Most
    news text folds to ASCII one character for one character, so it is built with byte
    translations at C speed; other text goes through `Tokenized`.
    """

    joined: str
    _folded: bytes = b""  # fast path: the folded text, separators as spaces, cuts inserted
    _inserted: tuple[int, ...] = ()  # fast path: positions of letter/digit cut spaces, plus one
    _slow: Tokenized | None = None

    @classmethod
    def of(cls, text: str) -> JoinedTokens:
        ascii_text = _ascii_fold(text)
        if ascii_text is None:
            slow = Tokenized.of(text)
            return cls(" " + " ".join(slow.words) + " ", _slow=slow)
        raw = ascii_text.encode("ascii")
        folded = raw.translate(_NORMALIZE)
        cuts = _letter_digit_cuts(raw.translate(_SHAPE))
        if cuts:
            pieces = [folded[a:b] for a, b in zip((0, *cuts), (*cuts, len(folded)), strict=True)]
            folded = b" ".join(pieces)
        squeezed = _SPACE_RUN.sub(b" ", folded)  # fixed pattern, linear time
        joined = (b" " + squeezed.strip() + b" ").decode("ascii") if squeezed.strip() else " "
        inserted = tuple(cut + rank + 1 for rank, cut in enumerate(cuts))
        return cls(joined, folded, inserted)

    def spans(self, ranges: Iterable[tuple[int, int]]) -> dict[tuple[int, int], tuple[int, int]]:
        """Original [start, end) of each token-aligned joined[start:end], in one pass."""
        firsts_lasts = {(a, b): (a, max(a, self.joined.rfind(" ", a, b) + 1)) for a, b in ranges}
        if not firsts_lasts:
            return {}
        where = self._locate(sorted({t for pair in firsts_lasts.values() for t in pair}))
        return {
            r: (self._original(where[first][0]), self._original(where[last][1]))
            for r, (first, last) in firsts_lasts.items()
        }

    def _locate(self, starts: list[int]) -> dict[int, tuple[int, int]]:
        """For sorted joined token starts: where each token is, in _padded (or the original).

        Both strings hold the same non-space characters in the same order, so a token is the
        occurrence in _padded with as many non-space characters before it. Counting forward
        from the previous answer keeps the whole batch linear in the text length.
        """
        result: dict[int, tuple[int, int]] = {}
        padded = " " + self._folded.decode("ascii") + " "
        joined_at = joined_spaces = padded_at = padded_spaces = 0
        for start in starts:
            joined_spaces += self.joined.count(" ", joined_at, start)
            joined_at = start
            word = self.joined[start : self.joined.find(" ", start)]
            if self._slow is not None:
                result[start] = self._slow.span(joined_spaces - 1)  # ordinal: spaces before - 1
                continue
            at = max(start - 1, padded_at)
            while True:
                at = padded.find(f" {word} ", at) + 1
                padded_spaces += padded.count(" ", padded_at, at)
                padded_at = at
                if at - padded_spaces >= start - joined_spaces:
                    result[start] = (at, at + len(word))
                    break
        return result

    def _original(self, padded_at: int) -> int:
        if self._slow is not None:
            return padded_at  # the slow path already answers in original positions
        return padded_at - 1 - bisect_left(self._inserted, padded_at)


def _ascii_fold(text: str) -> str | None:
    """`text` folded to ASCII with every character kept as one, or None when that is impossible."""
    if text.isascii():
        return text
    others = set(text.encode("utf-8").translate(None, _ASCII).decode("utf-8"))
    for char in others:
        replacement = _ascii_replacement(char)
        if replacement is None:
            return None
        text = text.replace(char, replacement)
    return text


@lru_cache(maxsize=16384)
def _ascii_replacement(char: str) -> str | None:
    """One ASCII character standing for `char` after folding, if there is one."""
    folded = _fold_char(char)
    if folded.isascii() and len(folded) == 1:
        return folded
    if folded and not any(c.isalnum() for c in folded):
        return " "  # punctuation such as curly quotes, dashes, "…": a separator either way
    return None  # a letter outside ASCII, an expansion such as "ß", or a bare mark


def _letter_digit_cuts(shape: bytes) -> tuple[int, ...]:
    """Positions where a letter run meets a digit run ("s400" -> 1): tokens split there."""
    # Needles start with the rare digit: searching "a0" in long runs of "a" is slow, so the
    # letter-then-digit case is searched as "0a" in the reversed shape.
    if b"0" not in shape:
        return ()
    cuts = [at + 1 for at in _find_all(shape, b"0a")]
    cuts += [len(shape) - 1 - at for at in _find_all(shape[::-1], b"0a")]
    return tuple(sorted(cuts))


def _find_all(haystack: bytes, needle: bytes) -> list[int]:
    found: list[int] = []
    at = haystack.find(needle)
    while at >= 0:
        found.append(at)
        at = haystack.find(needle, at + 1)
    return found


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


_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def one_edit_words(word: str) -> set[str]:
    """Every a-z word one letter dropped, added or changed away from `word`."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    dropped = {a + b[1:] for a, b in splits if b}
    changed = {a + c + b[1:] for a, b in splits if b for c in _LETTERS if c != b[0]}
    added = {a + c + b for a, b in splits for c in _LETTERS}
    return (dropped | changed | added) - {word}


def plural_forms(word: str) -> list[str]:
    """English plural forms ("'s" needs nothing: the apostrophe splits off an "s" token)."""
    if not word.isalpha():
        return []  # "S-400s" is s,400,s: the trailing "s" is its own token and is ignored
    if word.endswith(("s", "x", "z", "ch", "sh", "o")):
        return [word + "es", word + "s"] if word.endswith("o") else [word + "es"]
    if len(word) > 1 and word.endswith("y") and word[-2] not in "aeiou":
        return [word[:-1] + "ies", word + "s"]
    return [word + "s"]
