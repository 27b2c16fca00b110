"""What the poll flow asks of storage: claimed feeds, seen articles, plan reads, its writes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Protocol

from bot.core.models import WatchRule
from bot.services.ports import ActiveChats, FeedReadResult, FeedRef
from bot.services.records import InboxItem, PollBatch, StoredArticle


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


class FetchPort(HeldFeeds, Protocol):
    """What a fetch worker needs: its claimed feeds, and one write per batch."""

    async def claimed_feeds(self, ids: Sequence[int], worker: str) -> list[FeedRef]: ...
    async def put_inbox(
        self, results: Sequence[FeedReadResult], worker: str, now: datetime
    ) -> int: ...


class PlanPort(SeenArticles, PlanReads, Protocol):
    """What planning a batch of new articles reads (the poller and the story stage alike)."""


class StoryStagePort(PlanPort, RulesPort, Protocol):
    """What the one story stage needs: the inbox, the heads and its fenced write."""

    async def take_inbox(self, limit: int) -> list[InboxItem]: ...
    async def inbox_depth(self, now: datetime) -> tuple[int, timedelta | None]: ...
    async def story_head(self) -> int: ...
    async def save_stage(
        self, batch: PollBatch, now: datetime, inbox_ids: Sequence[int], head: int
    ) -> None: ...
