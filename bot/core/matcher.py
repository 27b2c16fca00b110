"""Matches articles against every chat's watch rules at once through one Aho-Corasick automaton.

How it works: title and text are folded and tokenized into " tok tok tok " strings (see
`JoinedTokens`), and one automaton holding every term of every rule finds the terms of all rules
in one pass over both (see `TermAutomaton`), in O(text + hits). Only queries owning a found term
are then evaluated, each distinct query once however many rules share it, and where the words
are in the original text is worked out only when a hit's spans are read (see `RuleHit`).
"""

from __future__ import annotations

import gc
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from bot.core.automaton import TEXT, TITLE, TermAutomaton
from bot.core.highlight import highlight
from bot.core.hits import ArticleView, RuleHit, Shown
from bot.core.query import Node, Not, Or, Query, QueryError, Term, parse_query
from bot.core.text import JoinedTokens

__all__ = ["RuleHit", "RuleIndex", "highlight", "validate_query"]

_FIELD_BITS = {None: TITLE | TEXT, "title": TITLE, "text": TEXT}
TermKey = tuple[str, tuple[str, ...]]


@dataclass(frozen=True, slots=True)
class _TermTest:
    term_id: int
    bits: int  # the fields the term counts in

    def holds(self, fields: dict[int, int]) -> bool:
        return bool(fields.get(self.term_id, 0) & self.bits)


@dataclass(frozen=True, slots=True)
class _NotTest:
    child: _Test

    def holds(self, fields: dict[int, int]) -> bool:
        return not self.child.holds(fields)


@dataclass(frozen=True, slots=True)
class _AllTest:
    children: tuple[_Test, ...]

    def holds(self, fields: dict[int, int]) -> bool:
        return all(child.holds(fields) for child in self.children)


@dataclass(frozen=True, slots=True)
class _AnyTest:
    children: tuple[_Test, ...]

    def holds(self, fields: dict[int, int]) -> bool:
        return any(child.holds(fields) for child in self.children)


_Test = _TermTest | _NotTest | _AllTest | _AnyTest


@dataclass(frozen=True, slots=True)
class _Plan:
    """One distinct query: how to decide it, what to show, and the rules (build positions)."""

    test: _Test
    shown: Shown  # positive terms and their fields: the words a hit shows
    rules: list[int] = field(default_factory=list)


class RuleIndex:
    """An immutable, thread-safe index of many rules; build a new one when rules change."""

    __slots__ = ("_automaton", "_plans", "_plans_by_term", "_rule_ids", "build_errors")

    def __init__(
        self,
        automaton: TermAutomaton,
        plans: list[_Plan],
        rule_ids: list[int],
        build_errors: tuple[tuple[int, str], ...],
    ) -> None:
        self._automaton = automaton
        self._plans = plans
        self._rule_ids = rule_ids  # by build position
        self._plans_by_term = _plans_by_term(plans, len(automaton))
        self.build_errors = build_errors  # (rule_id, why) of stored rules that no longer parse

    @classmethod
    def build(cls, rules: Iterable[tuple[int, str]]) -> RuleIndex:
        """Compile (rule_id, query) pairs; invalid ones are skipped and listed in build_errors."""
        with _collector_paused():
            compiler = _Compiler()
            plans, rule_ids, errors = compiler.plans(rules)
            return cls(TermAutomaton(compiler.terms), plans, rule_ids, tuple(errors))

    def __len__(self) -> int:
        return len(self._rule_ids)

    def match(self, title: str, text: str) -> list[RuleHit]:
        """Every rule matching the article, in build order; spans are located when read."""
        if not self._plans:
            return []
        tokens = (JoinedTokens.of(title), JoinedTokens.of(text))
        fields, found = self._automaton.scan(tokens[0].joined, tokens[1].joined)
        plans = self._plans
        candidates = {p for term_id in fields for p in self._plans_by_term[term_id]}
        matched = [plans[p] for p in candidates if plans[p].test.holds(fields)]
        if not matched:
            return []
        view = ArticleView((title, text), tokens, found)
        rule_ids = self._rule_ids
        if len(matched) == 1:  # one query matched: its rules are already in build order
            shown = matched[0].shown
            return [RuleHit.deferred(rule_ids[at], view, shown) for at in matched[0].rules]
        ordered = sorted((at, plan.shown) for plan in matched for at in plan.rules)
        return [RuleHit.deferred(rule_ids[at], view, shown) for at, shown in ordered]


def _plans_by_term(plans: list[_Plan], term_count: int) -> list[tuple[int, ...]]:
    """For each term id, the plans one of whose positive terms it is (only they can match)."""
    owners: dict[int, list[int]] = {}
    for index, plan in enumerate(plans):
        for term_id in dict.fromkeys(term_id for term_id, _ in plan.shown):
            owners.setdefault(term_id, []).append(index)
    return [tuple(owners.get(term_id, ())) for term_id in range(term_count)]


class _Compiler:
    """Turns queries into plans, numbering each distinct term once across all of them."""

    def __init__(self) -> None:
        self.terms: list[Term] = []  # by term id
        self._term_ids: dict[TermKey, int] = {}

    def plans(
        self, rules: Iterable[tuple[int, str]]
    ) -> tuple[list[_Plan], list[int], list[tuple[int, str]]]:
        """Plans of the distinct queries, rule ids by build position, and invalid rules."""
        plans: list[_Plan] = []
        rule_ids: list[int] = []
        errors: list[tuple[int, str]] = []
        by_text: dict[str, _Plan | QueryError] = {}  # many chats watch the same words
        for rule_id, text in rules:
            plan = by_text.get(text)
            if plan is None:
                plan = by_text[text] = self._plan(text)
                if isinstance(plan, _Plan):
                    plans.append(plan)
            if isinstance(plan, QueryError):
                errors.append((rule_id, str(plan)))
                continue
            plan.rules.append(len(rule_ids))
            rule_ids.append(rule_id)
        return plans, rule_ids, errors

    def _plan(self, text: str) -> _Plan | QueryError:
        try:
            query = parse_query(text)
        except QueryError as error:
            return error
        if isinstance(query.root, Term):  # most queries are one term: no tree to walk
            test = _TermTest(self._term_id(query.root), _FIELD_BITS[query.root.field])
            return _Plan(test, ((test.term_id, test.bits),))
        return _Plan(self._test(query.root), self._shown(query))

    def _shown(self, query: Query) -> Shown:
        terms = query.positive_terms()
        return tuple(dict.fromkeys((self._term_id(t), _FIELD_BITS[t.field]) for t in terms))

    def _test(self, node: Node) -> _Test:
        if isinstance(node, Term):
            return _TermTest(self._term_id(node), _FIELD_BITS[node.field])
        if isinstance(node, Not):
            return _NotTest(self._test(node.child))
        children = tuple(self._test(child) for child in node.children)
        return _AnyTest(children) if isinstance(node, Or) else _AllTest(children)

    def _term_id(self, term: Term) -> int:
        term_id = self._term_ids.setdefault(term.key, len(self.terms))
        if term_id == len(self.terms):
            self.terms.append(term)
        return term_id


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


def validate_query(text: str) -> str:
    """The normalised form of a query, or QueryError with a one-line explanation."""
    return str(parse_query(text))
