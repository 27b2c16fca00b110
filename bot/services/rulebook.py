"""The live watchlist: every chat's rules compiled into one index, rebuilt off the event loop."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from bot.core.matcher import RuleHit, RuleIndex
from bot.core.models import WatchRule
from bot.services.store_port import RulesPort


@dataclass(frozen=True, slots=True)
class ChatHit:
    """A rule of a chat matched an article."""

    chat_id: int
    rule: WatchRule
    hit: RuleHit

    def plus(self, other: RuleHit) -> ChatHit:
        """The same chat's hit, also showing `other`'s words."""
        spans = tuple(dict.fromkeys(self.hit.spans + other.spans))
        terms = tuple(dict.fromkeys(self.hit.terms + other.terms))
        return ChatHit(self.chat_id, self.rule, RuleHit(self.hit.rule_id, spans, terms))


class RuleBook:
    """A cache of the rules table; the database stays the truth, so any process can rebuild it."""

    def __init__(self, store: RulesPort) -> None:
        self._store = store
        self._index = RuleIndex.build(())
        self._rules: dict[int, WatchRule] = {}
        self._stale = True
        self._version: int | None = None  # the rules_version the index was built at
        self._lock = asyncio.Lock()

    def mark_stale(self) -> None:
        """Rules changed: the next `refresh` rebuilds the index."""
        self._stale = True

    async def refresh(self, force: bool = False) -> None:
        """Rebuild from storage in a worker thread, then swap, so matching never blocks.

        Rebuilds when this process changed the rules, or when any process did (the stored
        rules version moved): a /watch taken by another process is matched from its next poll.
        """
        async with self._lock:
            version = await self._store.rules_version()  # read before the rules: never misses
            if not (self._stale or force or version != self._version):
                return
            self._stale = False  # a change made while building marks it stale again
            rules = await self._store.all_rules()
            pairs = [(r.id, r.query) for r in rules]
            self._index = await asyncio.to_thread(RuleIndex.build, pairs)
            self._rules, self._version = {r.id: r for r in rules}, version

    def match(self, title: str, text: str) -> list[ChatHit]:
        """Which chats' rules match: one hit per chat, named after its first matching rule,
        carrying the words of all its matching rules (so all of them show in bold)."""
        found: dict[int, ChatHit] = {}
        for hit in self._index.match(title, text):
            rule = self._rules.get(hit.rule_id)
            if rule is None:
                continue
            seen = found.get(rule.chat_id)
            found[rule.chat_id] = (
                ChatHit(rule.chat_id, rule, hit) if seen is None else seen.plus(hit)
            )
        return list(found.values())

    def __len__(self) -> int:
        return len(self._rules)
