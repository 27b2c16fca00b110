"""The ports of the cluster's fetch and story stages: the inbox between them, and the heads."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from bot.core.models import Article, Chat, WatchRule
from bot.services.ports import FeedReadResult, FeedRef
from bot.services.store_port import PollBatch, StoredArticle


@dataclass(frozen=True, slots=True)
class InboxItem:
    """An article a fetch worker found new, waiting for the story stage."""

    id: int
    article: Article


class Superseded(Exception):
    """The story head moved since this stage read it: another stage wrote; nothing was saved."""


class FetchPort(Protocol):
    """What a fetch worker needs: its claimed feeds, and one write per batch."""

    async def claimed_feeds(self, ids: Sequence[int], worker: str) -> list[FeedRef]: ...
    async def renew_feed_claims(self, ids: Sequence[int], worker: str, until: datetime) -> None: ...
    async def release_feeds(self, ids: Sequence[int], worker: str) -> None: ...
    async def put_inbox(
        self, results: Sequence[FeedReadResult], worker: str, now: datetime
    ) -> int: ...


class PlanPort(Protocol):
    """What planning a batch of new articles reads (the poller and the story stage alike)."""

    async def known_articles(self, ids: Sequence[str], urls: Sequence[str]) -> set[str]: ...
    async def recent_articles(self, since: datetime) -> list[StoredArticle]: ...
    async def followers(self, story_ids: Sequence[str]) -> dict[str, dict[int, bool]]: ...
    async def feed_audience(self, feed_ids: Sequence[int]) -> dict[int, frozenset[int] | None]: ...
    async def active_chats(self) -> list[Chat]: ...


class StoryStagePort(PlanPort, Protocol):
    """What the one story stage needs: the inbox, the heads and its fenced write."""

    async def take_inbox(self, limit: int) -> list[InboxItem]: ...
    async def inbox_depth(self, now: datetime) -> tuple[int, timedelta | None]: ...
    async def story_head(self) -> int: ...
    async def rules_version(self) -> int: ...
    async def all_rules(self) -> list[WatchRule]: ...
    async def save_stage(
        self, batch: PollBatch, now: datetime, inbox_ids: Sequence[int], head: int
    ) -> None: ...
