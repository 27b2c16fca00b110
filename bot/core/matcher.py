"""Matches articles against every chat's watch rules at once through one Aho-Corasick automaton.

How it works: title and text are folded and tokenized, then joined as " tok tok tok " so that a
term of n tokens is the plain substring " t1 ... tn ". Every term of every rule is added to one
automaton (with its plural variants), so one pass over an article finds all terms of all rules
in O(text + hits). Only rules owning a found term are then evaluated as boolean queries.

Fuzzy terms (~Anthony) add every word one letter away from their first token to the same
automaton, so they cost index size, not matching time.
"""

from __future__ import annotations

import gc
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import ahocorasick

from bot.core.models import Highlight
from bot.core.query import Node, Not, Or, Query, QueryError, Term, parse_query
from bot.core.text import JoinedTokens, one_edit_apart, one_edit_words, plural_forms

FUZZY_MIN_LETTERS = 6
FIELDS = ("title", "text")

TermKey = tuple[str, tuple[str, ...]]
Occurrence = tuple[str, int, int]  # (field, start, end) in the field's joined tokens
_Entry = tuple[TermKey, int]  # (term, how to read the hit)
_SEQUENCE, _ANCHOR = 0, 1  # a whole term; the first token of a fuzzy phrase


@dataclass(frozen=True, slots=True)
class RuleHit:
    """A rule that matched an article, and where."""

    rule_id: int
    spans: tuple[tuple[str, int, int], ...]  # (field "title"|"text", start, end) in the originals
    terms: tuple[str, ...]  # original matched words, for display


@dataclass(frozen=True, slots=True)
class _Rule:
    rule_id: int
    root: Node
    shown: tuple[tuple[TermKey, str | None], ...]  # positive terms and their field, for spans


class RuleIndex:
    """An immutable, thread-safe index of many rules; build a new one when rules change."""

    __slots__ = ("_automaton", "_rules", "_rules_by_term", "build_errors")

    def __init__(
        self,
        automaton: ahocorasick.Automaton | None,
        rules: list[_Rule],
        rules_by_term: dict[TermKey, tuple[int, ...]],
        build_errors: tuple[tuple[int, str], ...],
    ) -> None:
        self._automaton = automaton
        self._rules = rules
        self._rules_by_term = rules_by_term
        self.build_errors = build_errors  # (rule_id, why) of stored rules that no longer parse

    @classmethod
    def build(cls, rules: Iterable[tuple[int, str]]) -> RuleIndex:
        """Compile (rule_id, query) pairs; invalid ones are skipped and listed in build_errors."""
        with _collector_paused():
            return cls._build(rules)

    @classmethod
    def _build(cls, rules: Iterable[tuple[int, str]]) -> RuleIndex:
        compiled, errors = _parse_rules(rules)
        terms: dict[TermKey, Term] = {}  # each distinct term is indexed once, however many rules
        by_term: dict[TermKey, list[int]] = {}
        for index, rule in enumerate(compiled):
            for term in _terms(rule.root):
                terms.setdefault(term.key, term)
            for key, _ in rule.shown:
                owners = by_term.setdefault(key, [])
                if not owners or owners[-1] != index:
                    owners.append(index)
        # pattern -> (its length, (term, how), ...): tuples of plain values, which the garbage
        # collector stops tracking, keep a 100,000-rule build fast
        patterns: dict[str, tuple[Any, ...]] = {}
        for term in terms.values():
            entry, variants = _patterns(term)
            for pattern in variants:
                patterns[pattern] = (*patterns.get(pattern, (len(pattern),)), entry)
        automaton = _automaton(patterns)
        owners_by_term = {key: tuple(owners) for key, owners in by_term.items()}
        return cls(automaton, compiled, owners_by_term, tuple(errors))

    def __len__(self) -> int:
        return len(self._rules)

    def match(self, title: str, text: str) -> list[RuleHit]:
        """Every rule matching the article, in build order, with spans of its found terms."""
        if self._automaton is None:
            return []
        fields = {"title": (title, JoinedTokens.of(title)), "text": (text, JoinedTokens.of(text))}
        found: dict[TermKey, set[Occurrence]] = {}
        for field, (_, tokens) in fields.items():
            _scan(self._automaton, field, tokens.joined, found)
        candidates = sorted({i for key in found for i in self._rules_by_term.get(key, ())})
        matched = [self._rules[i] for i in candidates if _holds(self._rules[i].root, found)]
        shown = [_shown(rule, found) for rule in matched]
        spans = {
            field: tokens.spans(
                o[1:] for occurrences in shown for o in occurrences if o[0] == field
            )
            for field, (_, tokens) in fields.items()
        }
        return [_rule_hit(r, s, spans, fields) for r, s in zip(matched, shown, strict=True)]


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a big index is built.

    A 100,000-rule build allocates millions of long-lived objects, and the full collections
    they trigger took ~40% of build time. Only cycle detection waits; the collector is
    re-enabled only by the build that paused it, so concurrent builds are safe.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _parse_rules(rules: Iterable[tuple[int, str]]) -> tuple[list[_Rule], list[tuple[int, str]]]:
    compiled: list[_Rule] = []
    errors: list[tuple[int, str]] = []
    cache: dict[str, Query | QueryError] = {}  # many chats watch the same words
    for rule_id, text in rules:
        if text not in cache:
            try:
                cache[text] = parse_query(text)
            except QueryError as error:
                cache[text] = error
        parsed = cache[text]
        if isinstance(parsed, QueryError):
            errors.append((rule_id, str(parsed)))
            continue
        shown = tuple(dict.fromkeys((t.key, t.field) for t in parsed.positive_terms()))
        compiled.append(_Rule(rule_id, parsed.root, shown))
    return compiled, errors


def _terms(node: Node) -> list[Term]:
    if isinstance(node, Term):
        return [node]
    if isinstance(node, Not):
        return _terms(node.child)
    return [t for child in node.children for t in _terms(child)]


def _patterns(term: Term) -> tuple[_Entry, list[str]]:
    """Automaton keys for a term: its token sequence with plural variants, or fuzzy forms."""
    key, words = term.key, term.tokens
    if term.fuzzy:
        return _fuzzy_patterns(key, words)
    variants = [words]
    if not term.phrase:
        variants += [(*words[:-1], plural) for plural in plural_forms(words[-1])]
    return (key, _SEQUENCE), [" " + " ".join(variant) + " " for variant in variants]


def _fuzzy_patterns(key: TermKey, words: tuple[str, ...]) -> tuple[_Entry, list[str]]:
    """The first token and every word one edit from it (if 6+ letters), as whole tokens.

    Indexing the edit neighbourhood (about 50 words per letter) keeps matching as cheap as for
    exact words: nothing is checked per text word. Later tokens of a fuzzy phrase are checked
    only where the first one was found.
    """
    first = words[0]
    variants = {first, *(one_edit_words(first) if _is_fuzzy_token(first) else ())}
    if len(words) == 1:
        variants.update(plural_forms(first))
    how = _SEQUENCE if len(words) == 1 else _ANCHOR
    return (key, how), [f" {variant} " for variant in variants]


def _is_fuzzy_token(word: str) -> bool:
    return len(word) >= FUZZY_MIN_LETTERS and word.isalpha()


def _automaton(patterns: dict[str, tuple[Any, ...]]) -> ahocorasick.Automaton | None:
    if not patterns:
        return None
    automaton = ahocorasick.Automaton()
    for pattern, entries in patterns.items():
        automaton.add_word(pattern, entries)
    automaton.make_automaton()
    return automaton


def _scan(
    automaton: ahocorasick.Automaton, field: str, joined: str, found: dict[TermKey, set[Occurrence]]
) -> None:
    """Record every term occurrence in one field's joined tokens."""
    for last, entries in automaton.iter(joined):
        start = last - entries[0] + 2  # the hit is " t1 ... ": `last` is its closing space
        for key, how in entries[1:]:
            end = last if how == _SEQUENCE else _fuzzy_sequence_at(joined, start, key[1])
            if end >= 0:
                found.setdefault(key, set()).add((field, start, end))


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


def _holds(node: Node, found: dict[TermKey, set[Occurrence]]) -> bool:
    if isinstance(node, Term):
        occurrences = found.get(node.key, ())
        return any(node.field in (None, field) for field, _, _ in occurrences)
    if isinstance(node, Not):
        return not _holds(node.child, found)
    results = (_holds(child, found) for child in node.children)
    return any(results) if isinstance(node, Or) else all(results)


def _shown(rule: _Rule, found: dict[TermKey, set[Occurrence]]) -> set[Occurrence]:
    """Occurrences of the rule's positive terms, in the fields each term is limited to."""
    return {o for key, only in rule.shown for o in found.get(key, ()) if only in (None, o[0])}


def _rule_hit(
    rule: _Rule,
    shown: set[Occurrence],
    spans: dict[str, dict[tuple[int, int], tuple[int, int]]],
    fields: dict[str, tuple[str, JoinedTokens]],
) -> RuleHit:
    located = {(field, *spans[field][start, end]) for field, start, end in shown}
    ordered = sorted(located, key=lambda s: (FIELDS.index(s[0]), s[1], s[2]))
    words = dict.fromkeys(fields[f][0][s:e] for f, s, e in ordered)
    return RuleHit(rule.rule_id, tuple(ordered), tuple(words))


def validate_query(text: str) -> str:
    """The normalised form of a query, or QueryError with a one-line explanation."""
    return str(parse_query(text))


def highlight(title: str, text: str, hit: RuleHit, width: int = 240) -> Highlight:
    """A snippet of about `width` characters around the hit's first span, found words in bold.

    The snippet comes from the text when the hit is there (the title is shown anyway), else
    from the title; whitespace runs become one space; "…" marks each cut end.
    """
    field = "text" if any(f == "text" for f, _, _ in hit.spans) else "title"
    source = text if field == "text" else title
    spans = sorted((s, e) for f, s, e in hit.spans if f == field)
    lo, hi = _window(source, spans[0] if spans else (0, 0), width)
    body, inside = _squeeze(source, lo, hi, spans)
    prefix = "…" if lo > 0 and body else ""
    suffix = "…" if hi < len(source.rstrip()) and body else ""
    shifted = tuple((s + len(prefix), e + len(prefix)) for s, e in inside)
    return Highlight(prefix + body + suffix, shifted)


def _window(source: str, anchor: tuple[int, int], width: int) -> tuple[int, int]:
    """[lo, hi) of about `width` chars, a third before the anchor, cut between words."""
    lo = max(0, anchor[0] - width // 3)
    while 0 < lo < anchor[0] and not source[lo - 1].isspace():
        lo += 1
    hi = min(len(source), lo + max(width, anchor[1] - lo))
    while anchor[1] < hi < len(source) and not source[hi].isspace():
        hi -= 1
    return lo, hi


def _squeeze(
    source: str, lo: int, hi: int, spans: list[tuple[int, int]]
) -> tuple[str, tuple[tuple[int, int], ...]]:
    """source[lo:hi] with whitespace runs collapsed and ends trimmed, and spans mapped into it."""
    out: list[str] = []
    where: list[int] = []  # position in `out` of each source index from lo to hi
    for char in source[lo:hi]:
        where.append(len(out))
        if not char.isspace():
            out.append(char)
        elif out and out[-1] != " ":
            out.append(" ")
    where.append(len(out))
    if out and out[-1] == " ":
        out.pop()
    visible = ((s, e) for s, e in spans if s < hi and e > lo)
    mapped = ((where[max(s, lo) - lo], min(where[min(e, hi) - lo], len(out))) for s, e in visible)
    return "".join(out), tuple((s, e) for s, e in mapped if s < e)
