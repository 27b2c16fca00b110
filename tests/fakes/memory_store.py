"""An in-memory store for service tests: the ports the poller, delivery, digests and the
watchlist index use (PollingPort, DeliveryPort, DigestPort, RulesPort), over plain dicts.

It keeps the semantics of bot/storage (leases, attempts, statuses, deactivation, followers,
digest slots) so a service test fails where the service would misbehave on a real database.
What it does not model: concurrent transactions (every method runs alone, as if serialised)
and the chat commands (CommandStore); command tests use SqlStore on SQLite.

Set-up goes through `add_chat`, `add_rule` and `add_feed`; what happened is in `rows`
(every outbox row with its status, attempts and error), `events` (claims and outcomes in
order), `saved` (every poll batch) and `chats[...].deactivated_reason`.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from bot.core.models import Chat, ChatSettings, MessageKind, WatchRule
from bot.core.outbox import OutboxStatus
from bot.services.records import PollBatch, StoredArticle
from fakes.memory_outbox import MemoryOutbox, StoredChat, StoredRow, StoredStory
from fakes.memory_polls import MemoryPolls, StoredFeed


class MemoryStore(MemoryOutbox, MemoryPolls):
    """PollingPort, DeliveryPort, DigestPort and RulesPort in memory."""

    def __init__(self) -> None:
        self.chats: dict[int, StoredChat] = {}
        self.rules: dict[int, WatchRule] = {}
        self.feeds: dict[int, StoredFeed] = {}
        self.rows: dict[int, StoredRow] = {}
        self.articles: dict[str, StoredArticle] = {}
        self.stories: dict[str, StoredStory] = {}
        self.matches: dict[tuple[int, str], tuple[str, datetime]] = {}
        self.mutes: set[tuple[int, str]] = set()
        self.events: list[tuple[str, int]] = []
        self.saved: list[PollBatch] = []
        self._next_row = 0
        self.version = 0  # the rules version: moved by every change to the rule set

    # --- set-up, as the chat commands would leave it ------------------------------------------
    def add_chat(
        self, platform_id: str, now: datetime, *, platform: str = "console",
        settings: ChatSettings | None = None, user: str = "owner",
    ) -> Chat:  # fmt: skip
        """A subscribed chat; like /start, its first digest waits for the next slot."""
        chat = Chat(len(self.chats) + 1, platform, platform_id, settings=settings or ChatSettings())
        self.chats[chat.id] = StoredChat(chat, user, last_digest_at=now)
        self.version += 1
        return chat

    def add_rule(self, chat: Chat, query: str) -> WatchRule:
        number = 1 + sum(1 for r in self.rules.values() if r.chat_id == chat.id)
        rule = WatchRule(len(self.rules) + 1, chat.id, number, query)
        self.rules[rule.id] = rule
        self.version += 1
        return rule

    def add_feed(
        self, url: str, title: str, now: datetime, *, readers: tuple[Chat, ...] = ()
    ) -> StoredFeed:
        """A default feed (every chat reads it), or one added by `readers` only."""
        feed = StoredFeed(len(self.feeds) + 1, url, title, not readers, now,
                          {c.id for c in readers})  # fmt: skip
        self.feeds[feed.id] = feed
        return feed

    def add_mute(self, chat: Chat, story_id: str) -> None:
        self.mutes.add((chat.id, story_id))

    def set_settings(self, chat: Chat, **changes: object) -> Chat:
        stored = self.chats[chat.id]
        settings = replace(stored.chat.settings, **changes)  # type: ignore[arg-type]
        stored.chat = replace(stored.chat, settings=settings)
        return stored.chat

    # --- what happened ------------------------------------------------------------------------
    def rows_of(self, chat: Chat, kind: MessageKind | None = None) -> list[StoredRow]:
        """The chat's outbox rows (of `kind`), oldest first."""
        return [r for r in sorted(self.rows.values(), key=lambda r: r.id)
                if r.chat_id == chat.id and kind in (None, r.kind)]  # fmt: skip

    def waiting(self, chat: Chat) -> list[StoredRow]:
        return [r for r in self.rows_of(chat) if r.status is OutboxStatus.PENDING]

    def chat(self, chat_id: int) -> Chat:
        return self.chats[chat_id].chat

    # --- ActiveChats and RulesPort ------------------------------------------------------------
    async def active_chats(self) -> list[Chat]:
        return [s.chat for s in self.chats.values() if s.chat.active]

    async def rules_version(self) -> int:
        return self.version

    async def all_rules(self) -> list[WatchRule]:
        """The rules of active chats (a deactivated chat's rules stay, unused)."""
        return [r for r in self.rules.values() if self.chats[r.chat_id].chat.active]
