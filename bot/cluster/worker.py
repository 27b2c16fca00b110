"""A procrastinate worker as a process service: runs until asked to stop, then lets running
jobs finish within the grace (procrastinate's own graceful stop)."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

import procrastinate

from bot.scheduler import STOP_GRACE_SECONDS


@dataclass(frozen=True)
class WorkerSpec:
    """Which queues a process works, how many jobs at once, how often it beats."""

    queues: list[str]
    concurrency: int
    heartbeat_seconds: float


def worker_service(
    queue: procrastinate.App, spec: WorkerSpec, role: str
) -> Callable[[asyncio.Event], Coroutine[Any, Any, None]]:
    """The worker of `role` on `queue`, as a service of its process."""

    async def run(stopping: asyncio.Event) -> None:
        worker = asyncio.create_task(
            queue.run_worker_async(
                queues=spec.queues,
                concurrency=spec.concurrency,
                name=f"storywatch-{role}-{os.getpid()}",
                install_signal_handlers=False,
                update_heartbeat_interval=spec.heartbeat_seconds,
                stalled_worker_timeout=3 * spec.heartbeat_seconds,
                shutdown_graceful_timeout=STOP_GRACE_SECONDS,
            )
        )
        stop = asyncio.create_task(stopping.wait())
        await asyncio.wait([worker, stop], return_when=asyncio.FIRST_COMPLETED)
        stop.cancel()
        if not worker.done():
            worker.cancel()  # procrastinate's graceful stop: running jobs finish or abort
        with contextlib.suppress(asyncio.CancelledError):
            await worker

    return run
