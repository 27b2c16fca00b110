"""One process of any role: its loops on the one loop runner, long-running services (a queue
worker), what starts before them and what closes after; a clean stop on SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from bot.scheduler import STOP_GRACE_SECONDS, Loop, Loops, build_scheduler

log = logging.getLogger(__name__)

Step = Callable[[], Awaitable[Any]]
Service = Callable[[asyncio.Event], Coroutine[Any, Any, None]]  # runs until the event is set


@dataclass
class Process:
    """What one process runs; `start` returns once running, `stop` undoes it all."""

    role: str
    loops: list[Loop] = field(default_factory=list)
    services: list[Service] = field(default_factory=list)
    starters: list[Step] = field(default_factory=list)  # connections, listeners, a wake-up
    closers: list[Step] = field(default_factory=list)  # run in reverse order at stop
    _runner: Loops | None = None
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)
    _stopping: asyncio.Event = field(default_factory=asyncio.Event)

    async def start_parts(self) -> None:
        """Connect and listen; no loop runs yet (tests drive the jobs themselves)."""
        for starter in self.starters:
            await starter()

    async def start(self) -> None:
        await self.start_parts()
        self._runner = build_scheduler(self.loops)
        self._runner.start()
        self._tasks = [asyncio.create_task(service(self._stopping)) for service in self.services]

    async def wait(self, stop: asyncio.Event) -> None:
        """Until `stop` is set, or a service ends by itself (its database gone: fatal)."""
        waits = [asyncio.create_task(stop.wait()), *self._tasks]
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        waits[0].cancel()
        ended = [task for task in self._tasks if task.done()]
        if ended and not stop.is_set():
            raise RuntimeError(f"the {self.role} worker stopped: {ended[0].exception()}")

    async def stop(self) -> None:
        """Take no new round or job; give running ones the grace, then cancel; close all."""
        self._stopping.set()
        if self._runner is not None:
            await self._runner.stop()  # rounds finish (or are cancelled) before the store closes
        if self._tasks:  # a worker takes its own grace for running jobs, then aborts them
            await asyncio.wait(self._tasks, timeout=2 * STOP_GRACE_SECONDS + 1)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for close in reversed(self.closers):
            with contextlib.suppress(Exception):
                await close()
