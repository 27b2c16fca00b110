"""The composition of each cluster role (`storywatch run --role ROLE`, ROLE other than `all`).

fetch    procrastinate worker on `fetch`: fetch_batch jobs (conditional GET, parse, inbox)
stories  procrastinate worker on `stories`, one job at a time: the story stage
deliver  the outbox delivery and digest loops; platforms send only, take no updates
chat     the platforms' command runtimes; no poll, delivery or story work
ops      procrastinate worker on `ops`: plan polls, the stalled-job sweep, clean-up
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any

import procrastinate

from bot.app import (
    Parts,
    Runtime,
    SystemClock,
    build_runtimes,
    feed_check,
    feed_reader,
    retry_policy,
)
from bot.assembly import everyday_commands
from bot.cluster.conninfo import libpq_conninfo
from bot.cluster.gauges import serve_metrics
from bot.cluster.node import Node, WorkerSpec
from bot.cluster.ops import PollPlanner, fetch_deferrer, register_ops
from bot.cluster.pause import pause_stage_writes
from bot.cluster.queue import FETCH_QUEUE, OPS_QUEUE, STORIES_QUEUE, defer_assign_stories
from bot.cluster.queue import queue_app as make_queue_app
from bot.cluster.schema import apply_queue_schema
from bot.cluster.tasks import register_fetch, register_stories
from bot.services.chat.commands import CommandService
from bot.services.chat.feed_checks import FeedChecks
from bot.services.outbound.delivery import Deliverer
from bot.services.outbound.digests import DigestService
from bot.services.poll.fetch_stage import FetchStage
from bot.services.poll.rulebook import RuleBook
from bot.services.poll.story_stage import StoryStage
from bot.services.ports import Clock
from bot.settings import Settings
from bot.storage.digest_now import SqlExtraDigests
from bot.storage.store import SqlStore
from bot.story_models import load_models

log = logging.getLogger(__name__)

OPS_JOBS = 3  # plan, sweep and clean-up may run at once


async def run_role(settings: Settings, role: str) -> None:
    """Run `role` until SIGINT/SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    node = await BUILDERS[role](settings, SystemClock())
    try:
        await node.start()
        log.info("storywatch %s running", role)
        await node.wait(stop)
    finally:
        await node.stop()


async def _store(settings: Settings, node: Node) -> SqlStore:
    store = await SqlStore.open(settings.database_url)  # our migrations, under their lock
    node.closers.append(store.close)
    return store


async def _queue(settings: Settings, node: Node) -> procrastinate.App:
    conninfo = libpq_conninfo(settings.database_url)
    await apply_queue_schema(conninfo)
    node.queue = make_queue_app(conninfo)
    return node.queue


def _spec(settings: Settings, queue: str, jobs: int) -> WorkerSpec:
    return WorkerSpec([queue], jobs, settings.cluster_heartbeat_seconds)


async def fetch_role(settings: Settings, clock: Clock) -> Node:
    node = Node("fetch", worker=_spec(settings, FETCH_QUEUE, settings.cluster_fetch_jobs))
    store = await _store(settings, node)
    queue = await _queue(settings, node)
    reader = feed_reader(settings)
    node.closers.append(reader.aclose)
    lease = timedelta(seconds=settings.cluster_fetch_lease_seconds)
    stage = FetchStage(store, reader, clock, lease=lease, concurrency=settings.poll_concurrency)
    register_fetch(queue, stage)
    serve_metrics(node, settings, store, clock)
    return node


async def stories_role(settings: Settings, clock: Clock) -> Node:
    node = Node("stories", worker=_spec(settings, STORIES_QUEUE, 1))
    store = await _store(settings, node)
    queue = await _queue(settings, node)
    pause_stage_writes(store.engine)  # a test hook; nothing unless its variable is set
    rules = RuleBook(store)
    await rules.refresh(force=True)
    window = timedelta(hours=settings.story_window_hours)
    stage = StoryStage(
        store, rules, clock, window=window, models=load_models(),
        chunk=settings.cluster_story_chunk,
    )  # fmt: skip
    await stage.restore()
    register_stories(queue, stage)

    async def wake() -> None:  # articles may have waited while no story stage ran
        await defer_assign_stories(queue)

    node.starters.append(wake)
    serve_metrics(node, settings, store, clock, lambda: (len(rules), len(stage.planner.stories)))
    return node


async def ops_role(settings: Settings, clock: Clock) -> Node:
    node = Node("ops", worker=_spec(settings, OPS_QUEUE, OPS_JOBS))
    store = await _store(settings, node)
    await store.sync_default_feeds([(f.url, f.name) for f in settings.feeds], clock.now())
    queue = await _queue(settings, node)
    planner = PollPlanner(
        store, clock, fetch_deferrer(queue), batch=settings.cluster_fetch_batch,
        max_batches=settings.cluster_max_batches_per_tick,
        lease=timedelta(seconds=settings.cluster_fetch_lease_seconds),
    )  # fmt: skip
    register_ops(
        queue, planner, store, clock, every_seconds=settings.cluster_plan_seconds,
        stale_seconds=3 * settings.cluster_heartbeat_seconds,
        keep_hours=settings.cluster_keep_jobs_hours,
    )  # fmt: skip
    serve_metrics(node, settings, store, clock)
    return node


def _commands(settings: Settings, store: SqlStore, rules: RuleBook, clock: Clock) -> CommandService:
    check, checks = feed_check(settings, clock), FeedChecks(settings.max_feed_checks_per_chat)
    digests = DigestService(store, clock, extra=SqlExtraDigests(store.engine))
    return CommandService(
        store, clock, check, max_rules=settings.max_rules_per_chat, feed_checks=checks,
        everyday=everyday_commands(settings, store.engine, clock, check, checks, digests),
    )  # fmt: skip


async def chat_role(settings: Settings, clock: Clock) -> Node:
    node = Node("chat")
    store = await _store(settings, node)
    rules = RuleBook(store)
    await rules.refresh(force=True)
    commands = _commands(settings, store, rules, clock)
    runtimes = build_runtimes(settings, commands, None, Parts(store.engine, clock))
    node.closers.append(commands.aclose)  # closed first: no answer into a stopped platform
    for runtime in runtimes.values():
        node.starters.append(runtime.start)
        node.closers.insert(1, runtime.stop)
    serve_metrics(node, settings, store, clock, lambda: (len(rules), 0))
    return node


async def deliver_role(settings: Settings, clock: Clock) -> Node:
    node = Node("deliver")
    store = await _store(settings, node)
    # The platforms are built as in `all` mode, for their notifiers; they take no updates.
    commands = _commands(settings, store, RuleBook(store), clock)
    runtimes: dict[str, Runtime] = build_runtimes(
        settings, commands, None, Parts(store.engine, clock)
    )
    for runtime in runtimes.values():
        node.starters.append(runtime.start_sending)
        node.closers.insert(1, runtime.stop)
    notifiers = {name: runtime.notifier for name, runtime in runtimes.items()}
    deliverer = Deliverer(store, notifiers, clock, policy=retry_policy(settings),
                          lease_seconds=settings.delivery_lease_seconds)  # fmt: skip
    digests = DigestService(store, clock, extra=SqlExtraDigests(store.engine))
    node.loops += [("delivery", deliverer.drain, settings.delivery_interval_seconds),
                   ("digest", digests.tick, settings.digest_check_seconds)]  # fmt: skip
    serve_metrics(node, settings, store, clock)
    return node


Builder = Callable[[Settings, Clock], Coroutine[Any, Any, Node]]
BUILDERS: dict[str, Builder] = {
    "fetch": fetch_role,
    "stories": stories_role,
    "deliver": deliver_role,
    "chat": chat_role,
    "ops": ops_role,
}
