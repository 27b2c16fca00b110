"""The cluster roles (`storywatch run --role ROLE`), each a list of parts on one Process:

fetch    procrastinate worker on `fetch`: fetch_batch jobs (conditional GET, parse, inbox)
stories  procrastinate worker on `stories`, one job at a time: the story stage
deliver  the outbox delivery and digest loops; the platforms' senders only
chat     the platforms' command runtimes; no poll, delivery or story work
ops      procrastinate worker on `ops`: plan polls, the stalled-job sweep, clean-up
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta

import procrastinate

from bot.cluster.conninfo import libpq_conninfo
from bot.cluster.ops import PollPlanner, fetch_deferrer, register_ops
from bot.cluster.pause import pause_stage_writes
from bot.cluster.queue import FETCH_QUEUE, OPS_QUEUE, STORIES_QUEUE, defer_assign_stories
from bot.cluster.queue import queue_app as make_queue_app
from bot.cluster.schema import apply_queue_schema
from bot.cluster.tasks import register_fetch, register_stories
from bot.cluster.worker import WorkerSpec, worker_service
from bot.compose.kit import Kit, chat_part, deliver_part, open_kit, reading_part
from bot.compose.ops import endpoint, inbox_gauges
from bot.compose.parts import fetch_stage, rule_book, story_stage
from bot.compose.process import Process
from bot.compose.push import inbox_sink, push_aware, push_service, take_pushes
from bot.core.models import Article
from bot.services.ports import Clock
from bot.settings import Settings

OPS_JOBS = 3  # plan, sweep and clean-up may run at once
STALE_AFTER = 60.0  # seconds without a loop round before /healthz says 503

Sizes = Callable[[], int]


async def _open_queue(kit: Kit) -> procrastinate.App:
    """The queue, opened first and closed last."""
    conninfo = libpq_conninfo(kit.settings.database_url)
    await apply_queue_schema(conninfo)
    queue = make_queue_app(conninfo)
    kit.process.starters.insert(0, queue.open_async)
    kit.process.closers.insert(0, queue.close_async)
    return queue


async def _queue(kit: Kit, queue_name: str, jobs: int) -> procrastinate.App:
    """The queue, and this role's worker on `queue_name`."""
    queue = await _open_queue(kit)
    spec = WorkerSpec([queue_name], jobs, kit.settings.cluster_heartbeat_seconds)
    kit.process.services.append(worker_service(queue, spec, kit.process.role))
    return queue


async def fetch_role(kit: Kit) -> Sizes:
    queue = await _queue(kit, FETCH_QUEUE, kit.settings.cluster_fetch_jobs)
    reader = reading_part(kit)
    websub = push_service(kit, inbox_sink(kit))  # offers hubs, slows pushed feeds' polls
    polled = push_aware(kit.settings, reader, websub)
    register_fetch(queue, fetch_stage(kit.settings, kit.store, polled, kit.clock))
    return lambda: 0


async def stories_role(kit: Kit) -> Sizes:
    queue = await _queue(kit, STORIES_QUEUE, 1)
    pause_stage_writes(kit.store.engine)  # a test hook; nothing unless its variable is set
    rules = await rule_book(kit.store)
    stage = await story_stage(kit.settings, kit.metered(), rules, kit.clock)
    register_stories(queue, stage)

    async def wake() -> None:  # articles may have waited while no story stage ran
        await defer_assign_stories(queue)

    kit.process.starters.append(wake)
    return lambda: len(stage.planner.stories)


async def ops_role(kit: Kit) -> Sizes:
    s = kit.settings
    await kit.store.sync_default_feeds([(f.url, f.name) for f in s.feeds], kit.clock.now())
    queue = await _queue(kit, OPS_QUEUE, OPS_JOBS)
    lease = timedelta(seconds=s.cluster_fetch_lease_seconds)
    planner = PollPlanner(
        kit.store,
        kit.clock,
        fetch_deferrer(queue),
        batch=s.cluster_fetch_batch,
        max_batches=s.cluster_max_batches_per_tick,
        lease=lease,
    )
    register_ops(
        queue,
        planner,
        kit.store,
        kit.clock,
        every_seconds=s.cluster_plan_seconds,
        stale_seconds=3 * s.cluster_heartbeat_seconds,
        keep_hours=s.cluster_keep_jobs_hours,
    )
    return lambda: 0


async def deliver_role(kit: Kit) -> Sizes:
    deliver_part(kit)
    return lambda: 0


async def chat_role(kit: Kit) -> Sizes:
    """The commands, and the hubs' callbacks (the role that listens): pushes to the inbox,
    the story stage woken at once (not at the ops role's next plan, up to a tick later)."""
    chat_part(kit)
    if kit.settings.pushes():
        queue = await _open_queue(kit)
        queued = inbox_sink(kit)

        async def sink(articles: Sequence[Article]) -> int:
            taken = await queued(articles)
            if taken:
                await defer_assign_stories(queue)
            return taken

        websub = push_service(kit, sink)
        if websub is not None:
            take_pushes(kit, websub)
    return lambda: 0


ROLES: dict[str, Callable[[Kit], Awaitable[Sizes]]] = {
    "fetch": fetch_role,
    "stories": stories_role,
    "deliver": deliver_role,
    "chat": chat_role,
    "ops": ops_role,
}


async def build_role(settings: Settings, role: str, clock: Clock) -> Process:
    """The process of `role`, with its endpoint and inbox gauges when metrics_port is set."""
    kit = await open_kit(settings, clock, role)
    stories = await ROLES[role](kit)
    inbox_gauges(kit)
    endpoint(kit, stories=stories, stale_after=STALE_AFTER)
    return kit.process
