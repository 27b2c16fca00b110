"""APScheduler drives every loop of a process; it only decides *when* each job runs."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler

log = logging.getLogger(__name__)


# How long a clean stop lets running rounds finish: a delivery marks what it sent (else the
# message goes out again after a restart), a poll saves what it read. Under the 10 s most
# hosts wait between SIGTERM and SIGKILL.
STOP_GRACE_SECONDS = 5.0


class Loops:
    """A process's loops on one scheduler, and the rounds running now."""

    def __init__(self, scheduler: AsyncIOScheduler, running: set[asyncio.Task[Any]]) -> None:
        self.scheduler, self._running = scheduler, running

    def start(self) -> None:
        self.scheduler.start()

    async def stop(self, grace: float = STOP_GRACE_SECONDS) -> None:
        """Start no new round; give the running ones `grace` seconds, then cancel them.

        Returns once they have ended, so nothing still uses the store when it is closed
        (closing it under a round being cancelled could hang the process for good).
        """
        if not self.scheduler.running:
            return
        self.scheduler.pause()
        await self._wait(grace)
        self.scheduler.shutdown(wait=False)  # cancels the rounds still running
        await self._wait(grace)

    async def _wait(self, grace: float) -> None:
        if self._running:
            await asyncio.wait(set(self._running), timeout=grace)


def _guarded(
    name: str, job: Callable[[], Awaitable[Any]], running: set[asyncio.Task[Any]]
) -> Callable[[], Awaitable[None]]:
    async def run() -> None:
        task = asyncio.current_task()
        assert task is not None
        running.add(task)
        try:
            await job()
        except Exception:  # a failed round is logged and retried next tick, never fatal
            log.exception("%s round failed", name)
        finally:
            running.discard(task)

    return run


@dataclass(frozen=True, slots=True)
class Loop:
    """A job run every `seconds`, never overlapping itself; `at_start`: once at start too."""

    name: str
    job: Callable[[], Awaitable[Any]]
    seconds: float
    at_start: bool = False


def build_scheduler(loops: Sequence[Loop]) -> Loops:
    """One scheduler for every loop of a process, whatever its role."""
    scheduler = AsyncIOScheduler(timezone="UTC")
    running: set[asyncio.Task[Any]] = set()
    for loop in loops:
        # next_run_time=None would pause the job, so it is only passed to start at once.
        start = {"next_run_time": _now()} if loop.at_start else {}
        scheduler.add_job(
            _guarded(loop.name, loop.job, running),
            "interval",
            seconds=loop.seconds,
            id=loop.name,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,
            **start,
        )
    return Loops(scheduler, running)


def _now() -> datetime:
    return datetime.now(UTC)
