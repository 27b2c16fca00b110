"""One Aho-Corasick automaton over the folded tokens of every watched term, and its scan."""

from __future__ import annotations

from collections.abc import Sequence

import ahocorasick

from bot.core.query import Term
from bot.core.text import one_edit_apart, one_edit_words, plural_forms

FUZZY_MIN_LETTERS = 6
MAX_PHRASE_VARIANTS = 32  # singular/plural combinations indexed per phrase (see _phrase_patterns)
TITLE, TEXT = 1, 2  # field bits: a term found in the title, in the text, or both (3)
# What a pattern stands for is packed in one int, "code" (a tuple of codes when terms share a
# pattern): term id << 21 | anchor bit << 20 | pattern size. Plain ints, unlike a tuple per
# pattern, cost the garbage collector nothing and keep a 100,000-rule build fast. The anchor bit
# marks a pattern holding only the first tokens of a term (a fuzzy or a long phrase): the
# term's tokens are checked where it is found.
# Size 0 means "one token": the hit starts after the previous space (fuzzy forms share a code).
# 20 bits hold any size: a query has at most 512 characters, and folding turns one character
# into at most 18 (U+FDFA).
_ANCHOR, _SIZE_MASK, _ID_SHIFT = 1 << 20, (1 << 20) - 1, 21
Value = int | tuple[int, ...]

# Where each found term is: term id -> [(start, end), ...] in the scanned string.
Found = dict[int, list[tuple[int, int]]]


class TermAutomaton:
    """Finds every occurrence of many terms in " tok tok tok " strings in one pass.

    A term of n tokens is the plain substring " t1 ... tn ", so it is added as that (plus its
    plural variants: of the last token for a word, of every token for a phrase). Fuzzy terms
    (~Anthony) add every word one letter away from their first token, so they cost index size,
    not matching time. Terms are known by their position in the sequence given to the
    constructor.
    """

    __slots__ = ("_anchored", "_automaton", "_count")

    def __init__(self, terms: Sequence[Term]) -> None:
        self._count = len(terms)
        patterns, anchored = _patterns_of(terms)
        # Only fuzzy phrases and long phrases need their tokens at scan time, to check the
        # ones after those their patterns hold.
        self._anchored = {term_id: terms[term_id] for term_id in anchored}
        self._automaton = _automaton(patterns)

    def __len__(self) -> int:
        return self._count

    def scan(self, title: str, text: str) -> tuple[dict[int, int], Found]:
        """Field bits of each term found in title or text, and where in `title + text`."""
        fields: dict[int, int] = {}
        found: Found = {}
        if self._automaton is None:
            return fields, found
        joined = title + text  # no term spans the two: none holds two spaces in a row
        split = len(title)
        for last, value in self._automaton.iter(joined):
            bit = TITLE if last < split else TEXT  # `last` is the hit's closing space
            for code in (value,) if isinstance(value, int) else value:
                size = code & _SIZE_MASK
                start = last - size + 2 if size else joined.rfind(" ", 0, last) + 1
                term_id = code >> _ID_SHIFT
                end = last
                if code & _ANCHOR:
                    end = _sequence_at(joined, start, self._anchored[term_id])
                    if end < 0:
                        continue
                fields[term_id] = fields.get(term_id, 0) | bit
                found.setdefault(term_id, []).append((start, end))
        return fields, found


def _patterns_of(terms: Sequence[Term]) -> tuple[dict[str, Value], list[int]]:
    """pattern -> the code (or codes) of the terms it stands for; and the anchored term ids."""
    patterns: dict[str, Value] = {}
    anchored: list[int] = []
    for term_id, term in enumerate(terms):
        anchor, variants = _patterns(term)
        code = term_id << _ID_SHIFT | anchor
        if anchor:
            anchored.append(term_id)
        if term.fuzzy:
            # Hundreds of one-token forms per term: one shared code, added in one C call.
            fresh = dict.fromkeys(variants, code)
            if patterns.keys().isdisjoint(fresh):
                patterns.update(fresh)
                continue
        for pattern in variants:
            sized = code | len(pattern)
            known = patterns.setdefault(pattern, sized)
            if known != sized:  # the pattern of another term too
                patterns[pattern] = (known, sized) if isinstance(known, int) else (*known, sized)
    return patterns, anchored


def _patterns(term: Term) -> tuple[int, list[str]]:
    """Automaton keys for a term: its token sequence with plural variants, or fuzzy forms;
    and the anchor bit if only its first tokens are in them."""
    words = term.tokens
    if term.fuzzy:
        return _fuzzy_patterns(words)
    if term.phrase:
        return _phrase_patterns(words)
    variants = [words, *((*words[:-1], plural) for plural in plural_forms(words[-1]))]
    return 0, [" " + " ".join(variant) + " " for variant in variants]


def _phrase_patterns(words: tuple[str, ...]) -> tuple[int, list[str]]:
    """Every combination of each token's singular and plural forms ("air defenses").

    The combinations multiply with the phrase's length, so past MAX_PHRASE_VARIANTS only the
    first tokens' combinations are indexed (anchor bit), and the rest are checked where those
    are found; a phrase that long is rare enough in text for that to cost nothing.
    """
    variants: list[tuple[str, ...]] = [()]
    for word in words:
        forms = [word, *plural_forms(word)]
        if variants != [()] and len(variants) * len(forms) > MAX_PHRASE_VARIANTS:
            return _ANCHOR, [" " + " ".join(variant) + " " for variant in variants]
        variants = [(*variant, form) for variant in variants for form in forms]
    return 0, [" " + " ".join(variant) + " " for variant in variants]


def _fuzzy_patterns(words: tuple[str, ...]) -> tuple[int, list[str]]:
    """The first token and every word one edit from it (if 6+ letters), as whole tokens.

    Indexing the edit neighbourhood (about 50 words per letter) keeps matching as cheap as for
    exact words: nothing is checked per text word. Later tokens of a fuzzy phrase are checked
    only where the first one was found.
    """
    first = words[0]
    variants = {first, *(one_edit_words(first) if _is_fuzzy_token(first) else ())}
    variants.update(plural_forms(first))
    return (0 if len(words) == 1 else _ANCHOR), [f" {variant} " for variant in variants]


def _is_fuzzy_token(word: str) -> bool:
    return len(word) >= FUZZY_MIN_LETTERS and word.isalpha()


def _automaton(patterns: dict[str, Value]) -> ahocorasick.Automaton | None:
    if not patterns:
        return None
    automaton = ahocorasick.Automaton()
    for pattern, entries in patterns.items():
        automaton.add_word(pattern, entries)
    automaton.make_automaton()
    return automaton


def _sequence_at(joined: str, start: int, term: Term) -> int:
    """End of the tokens from `start` matching the term's, or -1. A token matches in a plural
    form too, and for a fuzzy term within one edit if it has 6+ letters."""
    end = start - 1
    for target in term.tokens:
        end = joined.find(" ", start)
        if end < 0 or not _token_matches(joined[start:end], target, term.fuzzy):
            return -1
        start = end + 1
    return end


def _token_matches(word: str, target: str, fuzzy: bool) -> bool:
    if word == target or word in plural_forms(target):
        return True
    return fuzzy and _is_fuzzy_token(target) and one_edit_apart(word, target)
