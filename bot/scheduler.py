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
    jobs = (  # name, job, every (seconds), also run at start
        ("poll", poll, settings.poll_tick_seconds, True),  # each feed keeps its own cadence
        ("delivery", deliver, settings.delivery_interval_seconds, False),
        ("digest", digests, settings.digest_check_seconds, True),
    )
    for name, job, seconds, at_start in jobs:
        # next_run_time=None would pause the job, so it is only passed to start at once.
        start = {"next_run_time": _now()} if at_start else {}
        scheduler.add_job(
            _guarded(name, job), "interval", seconds=seconds, id=name, max_instances=1,
            coalesce=True, misfire_grace_time=None, **start,
        )  # fmt: skip
    return scheduler


def _now() -> datetime:
    return datetime.now(UTC)
