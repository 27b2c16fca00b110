"""The ports of the cluster's fetch and story stages: the inbox between them, and the heads."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from bot.core.models import Article
from bot.services.ports import FeedReadResult, FeedRef
from bot.services.store_port import HeldFeeds, PlanReads, PollBatch, RulesPort, SeenArticles


@dataclass(frozen=True, slots=True)
class InboxItem:
    """An article a fetch worker found new, waiting for the story stage."""

    id: int
    article: Article


class Superseded(Exception):
    """The story head moved since this stage read it: another stage wrote; nothing was saved."""


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
