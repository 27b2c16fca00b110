"""The ops role's periodic work: plan polls into fetch jobs, retry stalled jobs, clean up.

Each is a procrastinate periodic task: every ops worker's deferrer offers the tick, the
database keeps one job per (task, tick), and `queueing_lock` skips a tick while the last one
still waits. None holds `lock`: a sweep holding a lock could be the stalled job itself.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import Protocol

import procrastinate
from procrastinate.exceptions import UniqueViolation
from procrastinate.jobs import Status
from procrastinate.manager import JobManager

from bot.cluster.queue import OPS_QUEUE, defer_assign_stories, defer_fetch_batch
from bot.services.ports import Clock, FeedRef

log = logging.getLogger(__name__)

PLAN_POLLS, SWEEP_STALLED, CLEAN_JOBS = "plan_polls", "sweep_stalled", "clean_jobs"
# After a tick deferred this many jobs, the jobs table's statistics are refreshed: stale ones
# after a bulk enqueue made procrastinate fetch ~20 jobs/s instead of hundreds.
ANALYZE_AFTER_JOBS = 20


class PlanningStore(Protocol):
    """What planning polls needs of storage."""

    async def due_feeds(
        self, now: datetime, limit: int, *, worker: str = "", lease: timedelta = ...
    ) -> list[FeedRef]: ...
    async def release_feeds(self, ids: Sequence[int], worker: str) -> None: ...
    async def inbox_depth(self, now: datetime) -> tuple[int, timedelta | None]: ...


DeferFetch = Callable[[Sequence[int], str], Awaitable[None]]


class PollPlanner:
    """Claims due feeds in batches, one fetch job per batch (never one job per feed)."""

    def __init__(
        self,
        store: PlanningStore,
        clock: Clock,
        defer: DeferFetch,
        *,
        batch: int,
        max_batches: int,
        lease: timedelta,
    ) -> None:
        self._store, self._clock, self._defer = store, clock, defer
        self._batch, self._max_batches, self._lease = batch, max_batches, lease

    async def plan(self) -> int:
        """Defer fetch jobs for the feeds due now; returns how many jobs."""
        planned = 0
        while planned < self._max_batches:
            # A claim per batch: a batch retried or gone stale never touches another's feeds.
            claim = uuid.uuid4().hex
            feeds = await self._store.due_feeds(
                self._clock.now(), self._batch, worker=claim, lease=self._lease
            )
            if not feeds:
                break
            await self._hand_over([f.id for f in feeds], claim)
            planned += 1
            if len(feeds) < self._batch:
                break
        return planned

    async def _hand_over(self, ids: list[int], claim: str) -> None:
        try:
            await self._defer(ids, claim)
        except BaseException:
            await self._store.release_feeds(ids, claim)  # the next tick plans them again
            raise


async def analyze_after_bulk(app: procrastinate.App, jobs: int) -> bool:
    """ANALYZE the jobs table when this tick deferred many jobs; True when it did."""
    if jobs < ANALYZE_AFTER_JOBS:
        return False
    await app.connector.execute_query_async("ANALYZE procrastinate_jobs")
    return True


async def sweep_stalled(manager: JobManager, stale_seconds: float) -> int:
    """Retry the jobs whose worker stopped beating (SIGKILL, power cut); how many."""
    stalled = list(await manager.get_stalled_jobs(seconds_since_heartbeat=stale_seconds))
    for job in stalled:
        log.warning("retrying job %s (%s): its worker stopped", job.id, job.task_name)
        try:
            await manager.retry_job(job)
        except UniqueViolation:
            # A newer copy with its queueing lock already waits (a wake-up deferred since):
            # that copy does this one's work, and this one must give up its `lock`.
            await manager.finish_job(job, Status.FAILED, delete_job=False)
    return len(stalled)


def register_ops(
    app: procrastinate.App,
    planner: PollPlanner,
    store: PlanningStore,
    clock: Clock,
    *,
    every_seconds: int,
    stale_seconds: float,
    keep_hours: int,
) -> None:
    """The three periodic tasks, on the ops queue."""
    tick = f"* * * * * */{every_seconds}"  # the sixth cron field is seconds

    @app.periodic(cron=tick, periodic_id=PLAN_POLLS)
    @app.task(name=PLAN_POLLS, queue=OPS_QUEUE, queueing_lock=PLAN_POLLS)
    async def plan_polls(timestamp: int) -> None:
        jobs = await planner.plan()
        await analyze_after_bulk(app, jobs)
        waiting, _ = await store.inbox_depth(clock.now())
        if waiting:  # a fetch worker killed between its write and its wake-up call
            await defer_assign_stories(app)
        log.debug("tick %s: %s fetch jobs", timestamp, jobs)

    _register_upkeep(app, tick, stale_seconds, keep_hours)


def _register_upkeep(
    app: procrastinate.App, tick: str, stale_seconds: float, keep_hours: int
) -> None:
    """The stalled-job sweep every tick, and the hourly clean-up of finished jobs."""

    @app.periodic(cron=tick, periodic_id=SWEEP_STALLED)
    @app.task(name=SWEEP_STALLED, queue=OPS_QUEUE, queueing_lock=SWEEP_STALLED)
    async def sweep(timestamp: int) -> None:
        await sweep_stalled(app.job_manager, stale_seconds)

    @app.periodic(cron="7 * * * *", periodic_id=CLEAN_JOBS)  # hourly
    @app.task(name=CLEAN_JOBS, queue=OPS_QUEUE, queueing_lock=CLEAN_JOBS)
    async def clean_jobs(timestamp: int) -> None:
        await app.job_manager.delete_old_jobs(
            nb_hours=keep_hours, include_failed=True, include_cancelled=True, include_aborted=True
        )  # failed ones too: the sweep fails a stalled copy of a job already waiting again


def fetch_deferrer(app: procrastinate.App) -> DeferFetch:
    async def defer(ids: Sequence[int], claim: str) -> None:
        await defer_fetch_batch(app, ids, claim)

    return defer
