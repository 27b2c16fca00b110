"""Counting at the edges, so the use cases stay free of metrics: a notifier wrapper per
platform, a store whose poll saves are counted, and the scheduler's jobs timed."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any

from bot.core.models import OutboundMessage, StoryKind
from bot.metrics.registry import Metrics
from bot.services.errors import DeliveryError, RateLimited
from bot.services.ports import Address, Notifier
from bot.services.records import PollBatch
from bot.storage.store import SqlStore


class MeteredNotifier:
    """A platform's notifier, counting what was sent, rate limits and failures."""

    def __init__(self, platform: str, inner: Notifier, metrics: Metrics) -> None:
        self._platform, self._inner, self._metrics = platform, inner, metrics

    async def send(self, to: Address, message: OutboundMessage) -> str:
        return await self._counted(message, self._inner.send(to, message))

    async def edit(self, to: Address, ref: str, message: OutboundMessage) -> str:
        return await self._counted(message, self._inner.edit(to, ref, message))

    async def reply(self, to: Address, parent: str, message: OutboundMessage) -> str:
        return await self._counted(message, self._inner.reply(to, parent, message))

    async def _counted(self, message: OutboundMessage, call: Awaitable[str]) -> str:
        m, platform = self._metrics, self._platform
        try:
            ref = await call
        except RateLimited as exc:
            m.rate_limited.labels(platform).inc()
            m.retry_after.labels(platform).inc(exc.retry_after)
            m.failed.labels(platform, "RateLimited").inc()
            raise
        except DeliveryError as exc:
            m.failed.labels(platform, type(exc).__name__).inc()
            raise
        except Exception:
            m.failed.labels(platform, "unexpected").inc()
            raise
        m.sent.labels(platform, _kind(message)).inc()
        return ref


def _kind(message: OutboundMessage) -> str:
    return type(message).__name__.removesuffix("Message").lower()  # alert, update, digest …


class MeteredStore:
    """A store whose poll and story-stage saves are counted (new articles, stories, planned
    messages); every other call goes straight to `inner`."""

    def __init__(self, inner: SqlStore, metrics: Metrics) -> None:
        self._inner, self._metrics = inner, metrics

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def save_poll(self, batch: PollBatch, now: datetime) -> None:
        await self._inner.save_poll(batch, now)
        self._count(batch)

    async def save_stage(
        self, batch: PollBatch, now: datetime, inbox_ids: Sequence[int], head: int
    ) -> None:
        await self._inner.save_stage(batch, now, inbox_ids, head)
        self._count(batch)

    def _count(self, batch: PollBatch) -> None:
        born = {a.story_id for a in batch.articles if a.kind is StoryKind.NEW}
        self._metrics.articles.inc(len(batch.articles))
        self._metrics.stories.inc(len(born & set(batch.stories)))  # backlog items: no story
        for planned in batch.messages:
            self._metrics.planned.labels(planned.kind.value).inc()


class Heartbeat:
    """When each scheduled job last started and finished (monotonic seconds)."""

    def __init__(self) -> None:
        self.started_at = time.monotonic()
        self.last_start: dict[str, float] = {}

    def latest(self) -> float:
        """The last moment the scheduler showed life (its start, before any job ran)."""
        return max(self.last_start.values(), default=self.started_at)


def metered_job(
    name: str, job: Callable[[], Awaitable[Any]], metrics: Metrics, beat: Heartbeat
) -> Callable[[], Awaitable[Any]]:
    """`job`, recording its start (for /healthz), its end and what it reports."""

    async def run() -> Any:
        beat.last_start[name] = start = time.monotonic()
        try:
            result = await job()
        finally:
            metrics.last_run.labels(name).set_to_current_time()
        _observe(name, result, metrics, time.monotonic() - start)
        return result

    return run


def _observe(name: str, result: Any, metrics: Metrics, seconds: float) -> None:
    if name == "poll":
        metrics.poll_seconds.observe(seconds)
        metrics.feeds_polled.inc(getattr(result, "feeds", 0))
        metrics.feed_errors.inc(getattr(result, "errors", 0))
    elif name == "digest" and isinstance(result, int):
        metrics.digests.inc(result)
