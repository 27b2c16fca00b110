"""A clean stop of the loops: running rounds finish first; one that will not is cancelled."""

from __future__ import annotations

import asyncio

from bot.scheduler import Loop, build_scheduler


async def test_stop_lets_the_running_round_finish() -> None:
    started, release, finished = asyncio.Event(), asyncio.Event(), []

    async def deliver() -> None:
        started.set()
        await release.wait()  # a platform answering slowly
        finished.append("delivered")

    async def idle() -> None:
        return None

    loops = build_scheduler([Loop("poll", idle, 60), Loop("delivery", deliver, 0.01)])
    loops.start()
    await asyncio.wait_for(started.wait(), 5)
    stopping = asyncio.create_task(loops.stop(grace=30))
    release.set()
    await asyncio.wait_for(stopping, 5)
    assert finished and not loops.scheduler.running  # the round ended by itself, not cancelled


async def test_a_round_that_outlives_the_grace_is_cancelled_and_stop_returns() -> None:
    started, cancelled = asyncio.Event(), asyncio.Event()

    async def poll() -> None:
        started.set()
        try:
            await asyncio.Event().wait()  # a fetch that never ends
        except asyncio.CancelledError:
            cancelled.set()
            raise

    async def idle() -> None:
        return None

    loops = build_scheduler([Loop("poll", poll, 60, at_start=True), Loop("digest", idle, 60)])
    loops.start()
    await asyncio.wait_for(started.wait(), 5)
    await asyncio.wait_for(loops.stop(grace=0.05), 5)
    assert cancelled.is_set()
