"""One cluster process: an optional procrastinate worker, interval loops, platforms; a clean
stop on SIGTERM (running jobs get the same grace as `all` mode's rounds)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import procrastinate

from bot.scheduler import STOP_GRACE_SECONDS

log = logging.getLogger(__name__)

Job = Callable[[], Awaitable[Any]]
Closer = Callable[[], Awaitable[Any]]


@dataclass(frozen=True)
class WorkerSpec:
    """Which queues a process works, how many jobs at once, how often it beats."""

    queues: list[str]
    concurrency: int
    heartbeat_seconds: float


@dataclass
class Node:
    """What one role runs; `start` returns once running, `stop` undoes it all."""

    role: str
    queue: procrastinate.App | None = None
    worker: WorkerSpec | None = None
    loops: list[tuple[str, Job, float]] = field(default_factory=list)
    starters: list[Job] = field(default_factory=list)  # platforms, a first wake-up, ...
    closers: list[Closer] = field(default_factory=list)  # run in reverse order at stop
    _tasks: list[asyncio.Task[Any]] = field(default_factory=list)
    _stopping: asyncio.Event = field(default_factory=asyncio.Event)

    async def start(self) -> None:
        if self.queue is not None:
            await self.queue.open_async()
            self.closers.insert(0, self.queue.close_async)
        for starter in self.starters:
            await starter()
        if self.worker is not None and self.queue is not None:
            self._tasks.append(asyncio.create_task(self._work(self.queue, self.worker)))
        for name, job, seconds in self.loops:
            self._tasks.append(asyncio.create_task(self._every(name, job, seconds)))

    async def wait(self, stop: asyncio.Event) -> None:
        """Until `stop` is set, or the worker ends by itself (its database gone: fatal)."""
        waits = [asyncio.create_task(stop.wait()), *self._tasks[:1]]
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        waits[0].cancel()
        if self._tasks and self._tasks[0].done() and not stop.is_set():
            raise RuntimeError(f"the {self.role} worker stopped: {self._tasks[0].exception()}")

    async def stop(self) -> None:
        """Take no new job or round; give running ones the grace, then cancel; close all."""
        self._stopping.set()
        if self._tasks:
            # The worker may take its own grace for running jobs, then abort them.
            await asyncio.wait(self._tasks, timeout=2 * STOP_GRACE_SECONDS + 1)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for close in reversed(self.closers):
            with contextlib.suppress(Exception):
                await close()

    async def _work(self, queue: procrastinate.App, spec: WorkerSpec) -> None:
        worker = asyncio.create_task(queue.run_worker_async(
            queues=spec.queues, concurrency=spec.concurrency,
            name=f"storywatch-{self.role}-{os.getpid()}", install_signal_handlers=False,
            update_heartbeat_interval=spec.heartbeat_seconds,
            stalled_worker_timeout=3 * spec.heartbeat_seconds,
            shutdown_graceful_timeout=STOP_GRACE_SECONDS,
        ))  # fmt: skip
        stopping = asyncio.create_task(self._stopping.wait())
        await asyncio.wait([worker, stopping], return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        if not worker.done():
            worker.cancel()  # procrastinate's graceful stop: running jobs finish or abort
        with contextlib.suppress(asyncio.CancelledError):
            await worker

    async def _every(self, name: str, job: Job, seconds: float) -> None:
        while not self._stopping.is_set():
            try:
                await job()
            except Exception:  # a failed round is logged and retried next time, never fatal
                log.exception("%s round failed", name)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), seconds)
