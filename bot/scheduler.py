"""APScheduler drives the loops; it only decides *when* polls, deliveries and digests run."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.settings import Settings

log = logging.getLogger(__name__)


def _guarded(name: str, job: Callable[[], Awaitable[Any]]) -> Callable[[], Awaitable[None]]:
    async def run() -> None:
        try:
            await job()
        except Exception:  # a failed round is logged and retried next tick, never fatal
            log.exception("%s round failed", name)

    return run


def build_scheduler(
    settings: Settings,
    poll: Callable[[], Awaitable[Any]],
    deliver: Callable[[], Awaitable[Any]],
    digests: Callable[[], Awaitable[Any]],
) -> AsyncIOScheduler:
    """A scheduler with the three loops; each job never overlaps itself."""
    scheduler = AsyncIOScheduler(timezone="UTC")
    options: dict[str, Any] = {"max_instances": 1, "coalesce": True, "misfire_grace_time": None}
    scheduler.add_job(
        _guarded("poll", poll),
        "interval",
        seconds=settings.poll_tick_seconds,  # each feed still keeps its own cadence
        id="poll",
        next_run_time=_now(),
        **options,
    )
    scheduler.add_job(
        _guarded("delivery", deliver),
        "interval",
        seconds=settings.delivery_interval_seconds,
        id="delivery",
        **options,
    )
    scheduler.add_job(
        _guarded("digest", digests),
        "interval",
        seconds=settings.digest_check_seconds,
        id="digest",
        next_run_time=_now(),
        **options,
    )
    return scheduler


def _now() -> datetime:
    return datetime.now(UTC)
