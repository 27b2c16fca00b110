"""The persistence ports, one per role: what the use cases ask of storage, and its records."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from bot.core.alerts import NewMatch, PlannedMessage
from bot.core.digest import DigestEntry
from bot.core.models import (
    Article,
    Chat,
    ChatSettings,
    MessageKind,
    StoryKind,
    StoryView,
    WatchRule,
)
from bot.core.outbox import SentAlert
from bot.services.ports import FeedReadResult, FeedRef


class RuleLimitReached(Exception):
    """The chat already has as many rules as allowed."""


class StorageUnavailable(Exception):
    """The database cannot be reached or written (disk full, read-only, down, locked too long).

    The storage adapter raises this instead of its driver's errors, so the services can tell
    the user to try again later without knowing which database is behind the port.
    """


@dataclass(frozen=True, slots=True)
class FeedInfo:
    """A feed as a chat sees it in /feeds and /status."""

    id: int
    url: str
    title: str
    is_default: bool
    error_count: int
    last_error: str | None
    last_ok_at: datetime | None
    pushed: bool = False  # a WebSub hub pushes it (verified, lease running)


@dataclass(frozen=True, slots=True)
class StoredArticle:
    """An article with the story it was assigned to."""

    article: Article
    story_id: str
    kind: StoryKind


@dataclass(frozen=True, slots=True)
class StoryRecord:
    """A story's current view, written with the poll."""

    view: StoryView
    first_seen: datetime
    last_seen: datetime
    new_developments: int = 0  # added to the stored count


@dataclass(slots=True)
class PollBatch:
    """Everything one poll cycle writes, in ONE transaction."""

    feed_results: list[FeedReadResult] = field(default_factory=list)
    articles: list[StoredArticle] = field(default_factory=list)
    stories: dict[str, StoryRecord] = field(default_factory=dict)
    messages: list[PlannedMessage] = field(default_factory=list)
    matches: list[NewMatch] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class OutboxRow:
    """A claimed outbox message, ready to deliver."""

    id: int
    chat: Chat
    story_id: str
    kind: MessageKind
    payload: dict[str, Any]
    attempts: int
    deferred: bool = False


@dataclass(frozen=True, slots=True)
class ChatStatus:
    """What /status shows besides rules and feeds."""

    last_alert_at: datetime | None
    pending: int
    held: int


# The ports below mirror the storage classes (bot.storage: FeedStore, RuleStore, OutboxStore,
# PollStore, SqlStore) cut by role, so a process running one role (see issue 13's roles:
# fetch, stories, deliver, chat) depends on the operations that role performs and no more.
# Every method is one transaction.


class HeldFeeds(Protocol):
    """Claims on feeds being read: renewed while the work goes on, given back if it fails."""

    async def renew_feed_claims(self, ids: Sequence[int], worker: str, until: datetime) -> None: ...
    async def release_feeds(self, ids: Sequence[int], worker: str) -> None: ...


class FeedClaims(HeldFeeds, Protocol):
    """Due feeds claimed with a lease, renewed while polled, given back when a poll fails."""

    async def due_feeds(
        self, now: datetime, limit: int, *, worker: str = "", lease: timedelta = ...
    ) -> list[FeedRef]: ...


class SeenArticles(Protocol):
    """Which fetched articles are stored already (by id or url)."""

    async def known_articles(self, ids: Sequence[str], urls: Sequence[str]) -> set[str]: ...


class ActiveChats(Protocol):
    """The chats that still receive messages."""

    async def active_chats(self) -> list[Chat]: ...


class PlanReads(ActiveChats, Protocol):
    """What assigning stories and planning alerts reads (the poller and the story stage)."""

    async def recent_articles(self, since: datetime) -> list[StoredArticle]: ...
    async def followers(self, story_ids: Sequence[str]) -> dict[str, dict[int, bool]]: ...
    async def feed_audience(self, feed_ids: Sequence[int]) -> dict[int, frozenset[int] | None]: ...


class PollingPort(FeedClaims, SeenArticles, PlanReads, Protocol):
    """The in-process poller (role `all`): fetch and plan together, one write per batch."""

    async def save_poll(self, batch: PollBatch, now: datetime) -> None: ...


class RulesPort(Protocol):
    """Every chat's rules, for the watchlist index (RuleBook)."""

    async def all_rules(self) -> list[WatchRule]: ...
    async def rules_version(self) -> int: ...


class DeliveryPort(Protocol):
    """Outbox rows claimed with a lease and marked with their outcome."""

    async def claim_due(
        self, now: datetime, limit: int, lease_seconds: float
    ) -> list[OutboxRow]: ...
    async def alert_ref(self, chat_id: int, story_id: str) -> SentAlert | None: ...
    async def take_deferred_alerts(
        self, chat_id: int, now: datetime, lease_seconds: float
    ) -> list[OutboxRow]: ...
    async def mark_sent(
        self, row_id: int, ref: str, now: datetime, *, folded: bool = False
    ) -> None: ...
    async def mark_retry(
        self, row_id: int, at: datetime, error: str, *, counts_attempt: bool = True
    ) -> None: ...
    async def mark_failed(self, row_id: int, error: str) -> None: ...
    async def deactivate_chat(self, chat_id: int, reason: str) -> None: ...


class DigestPort(ActiveChats, Protocol):
    """Each chat's digest slot, claimed once, and what came since the last one."""

    async def digest_entries(self, chat_id: int, since: datetime) -> list[DigestEntry]: ...
    async def enqueue_digest(
        self, chat_id: int, slot: datetime, payload: dict[str, Any] | None, now: datetime
    ) -> bool: ...
    async def last_digest_at(self, chat_id: int) -> datetime | None: ...


class FeedAdding(Protocol):
    """/addfeed's one write."""

    async def add_chat_feed(
        self, chat_id: int, url: str, title: str, now: datetime
    ) -> FeedInfo: ...


class ChatsPort(Protocol):
    """Chats as the command layer finds, subscribes, configures and removes them."""

    async def chat_by_platform(self, platform: str, platform_id: str) -> Chat | None: ...
    async def chat_creator(self, chat_id: int) -> str: ...
    async def upsert_chat(
        self, platform: str, platform_id: str, thread_id: str | None, user_id: str, now: datetime
    ) -> Chat: ...
    async def save_settings(self, chat_id: int, settings: ChatSettings) -> None: ...
    async def delete_chat(self, chat_id: int) -> None: ...
    async def migrate_chat(self, platform: str, old_id: str, new_id: str) -> None: ...


class CommandStore(ChatsPort, FeedAdding, Protocol):
    """Everything the chat commands read and change (role `chat`)."""

    async def remove_chat_feed(self, chat_id: int, key: str) -> FeedInfo | None: ...
    async def chat_feeds(self, chat_id: int) -> list[FeedInfo]: ...
    async def add_rule(self, chat_id: int, query: str, limit: int, now: datetime) -> WatchRule: ...
    async def remove_rule(self, chat_id: int, key: str) -> WatchRule | None: ...
    async def chat_rules(self, chat_id: int) -> list[WatchRule]: ...
    async def mute(self, chat_id: int, story_id: str) -> bool: ...
    async def story_sources(self, story_id: str) -> StoryView | None: ...
    async def release_held(self, chat_id: int) -> int: ...
    async def chat_status(self, chat_id: int) -> ChatStatus: ...


class Store(PollingPort, RulesPort, DeliveryPort, DigestPort, CommandStore, Protocol):
    """All of storage, for the composition root and anything that runs every role."""

    async def sync_default_feeds(self, feeds: Sequence[tuple[str, str]], now: datetime) -> None: ...
