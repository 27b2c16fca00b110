"""One Aho-Corasick automaton over the folded tokens of every watched term, and its scan."""

from __future__ import annotations

from collections.abc import Sequence

import ahocorasick

from bot.core.query import Term
from bot.core.text import one_edit_apart, one_edit_words, plural_forms

FUZZY_MIN_LETTERS = 6
TITLE, TEXT = 1, 2  # field bits: a term found in the title, in the text, or both (3)
_ONE_TOKEN = -1  # pattern size of a fuzzy form: its hit starts after the previous space

# Where each found term is: term id -> [(start, end), ...] in the scanned string.
Found = dict[int, list[tuple[int, int]]]


class TermAutomaton:
    """Finds every occurrence of many terms in " tok tok tok " strings in one pass.

    A term of n tokens is the plain substring " t1 ... tn ", so it is added as that (plus its
    plural variants). Fuzzy terms (~Anthony) add every word one letter away from their first
    token, so they cost index size, not matching time. Terms are known by their position in
    the sequence given to the constructor.
    """

    __slots__ = ("_automaton", "_tokens")

    def __init__(self, terms: Sequence[Term]) -> None:
        self._tokens = tuple(term.tokens for term in terms)
        self._automaton = _automaton(_patterns_of(terms))

    def __len__(self) -> int:
        return len(self._tokens)

    def scan(self, title: str, text: str) -> tuple[dict[int, int], Found]:
        """Field bits of each term found in title or text, and where in `title + text`."""
        fields: dict[int, int] = {}
        found: Found = {}
        if self._automaton is None:
            return fields, found
        joined = title + text  # no term spans the two: none holds two spaces in a row
        split = len(title)
        for last, entries in self._automaton.iter(joined):
            size = entries[0]  # the hit is " t1 ... ": `last` is its closing space
            start = last - size + 2 if size > 0 else joined.rfind(" ", 0, last) + 1
            bit = TITLE if last < split else TEXT
            for term_id in entries[1:]:
                end = last
                if term_id < 0:
                    term_id = ~term_id
                    end = _fuzzy_sequence_at(joined, start, self._tokens[term_id])
                    if end < 0:
                        continue
                fields[term_id] = fields.get(term_id, 0) | bit
                found.setdefault(term_id, []).append((start, end))
        return fields, found


def _patterns_of(terms: Sequence[Term]) -> dict[str, tuple[int, ...]]:
    """pattern -> (its length, or -1 for "one token", then the term ids it stands for).

    A negative id (~id) marks the first token of a fuzzy phrase, whose other tokens are
    checked where it is found. Tuples of plain values, which the garbage collector stops
    tracking, keep a 100,000-rule build fast.
    """
    patterns: dict[str, tuple[int, ...]] = {}
    for term_id, term in enumerate(terms):
        entry, variants = _patterns(term, term_id)
        if term.fuzzy:
            # Hundreds of one-token forms per term: one shared value, added in one C call.
            fresh = dict.fromkeys(variants, (_ONE_TOKEN, entry))
            if patterns.keys().isdisjoint(fresh):
                patterns.update(fresh)
                continue
        for pattern in variants:
            known = patterns.get(pattern, (len(pattern),))
            patterns[pattern] = (len(pattern), *known[1:], entry)
    return patterns


def _patterns(term: Term, term_id: int) -> tuple[int, list[str]]:
    """Automaton keys for a term: its token sequence with plural variants, or fuzzy forms."""
    words = term.tokens
    if term.fuzzy:
        return _fuzzy_patterns(words, term_id)
    variants = [words]
    if not term.phrase:
        variants += [(*words[:-1], plural) for plural in plural_forms(words[-1])]
    return term_id, [" " + " ".join(variant) + " " for variant in variants]


def _fuzzy_patterns(words: tuple[str, ...], term_id: int) -> tuple[int, list[str]]:
    """The first token and every word one edit from it (if 6+ letters), as whole tokens.

    Indexing the edit neighbourhood (about 50 words per letter) keeps matching as cheap as for
    exact words: nothing is checked per text word. Later tokens of a fuzzy phrase are checked
    only where the first one was found.
    """
    first = words[0]
    variants = {first, *(one_edit_words(first) if _is_fuzzy_token(first) else ())}
    if len(words) == 1:
        variants.update(plural_forms(first))
    entry = term_id if len(words) == 1 else ~term_id
    return entry, [f" {variant} " for variant in variants]


def _is_fuzzy_token(word: str) -> bool:
    return len(word) >= FUZZY_MIN_LETTERS and word.isalpha()


def _automaton(patterns: dict[str, tuple[int, ...]]) -> ahocorasick.Automaton | None:
    if not patterns:
        return None
    automaton = ahocorasick.Automaton()
    for pattern, entries in patterns.items():
        automaton.add_word(pattern, entries)
    automaton.make_automaton()
    return automaton


def _fuzzy_sequence_at(joined: str, start: int, wanted: tuple[str, ...]) -> int:
    """End of the tokens from `start` matching `wanted` (6+ letters: within one edit), or -1."""
    end = start - 1
    for target in wanted:
        end = joined.find(" ", start)
        if end < 0:
            return -1
        word = joined[start:end]
        if word != target and not (_is_fuzzy_token(target) and one_edit_apart(word, target)):
            return -1
        start = end + 1
    return end
