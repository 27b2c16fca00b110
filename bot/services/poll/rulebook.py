"""The live watchlist: every chat's rules compiled into one index, rebuilt off the event loop."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from bot.core.matcher import RuleHit, RuleIndex
from bot.core.models import WatchRule
from bot.services.poll.ports import RulesPort


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
        self._version: int | None = None  # the rules_version the index was built at
        self._lock = asyncio.Lock()

    async def refresh(self, force: bool = False) -> None:
        """Rebuild from storage in a worker thread, then swap, so matching never blocks.

        Rebuilds when the stored rules version moved (every rule change bumps it, in the same
        transaction): a /watch taken by any process is matched from the next poll.
        """
        async with self._lock:
            version = await self._store.rules_version()  # read before the rules: never misses
            if not (force or version != self._version):
                return
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
