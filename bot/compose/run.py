"""`storywatch run [--role ROLE]`: build the role's process, run it until SIGINT/SIGTERM."""

from __future__ import annotations

import asyncio
import logging
import signal

from bot.compose.basics import SystemClock
from bot.compose.process import Process
from bot.settings import Settings

log = logging.getLogger(__name__)


async def run(settings: Settings, role: str = "all") -> None:
    """Run `role` until SIGINT/SIGTERM; `all` never imports the cluster's queue."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    process, what = await _build(settings, role)
    try:
        await process.start()
        log.info("storywatch running: %s", what)
        await process.wait(stop)
    finally:
        await process.stop()


async def _build(settings: Settings, role: str) -> tuple[Process, str]:
    """The process, and what it runs in words for the log."""
    if role == "all":
        from bot.compose.app import build_app

        app = await build_app(settings)
        return app.kit.process, ", ".join(app.runtimes)
    from bot.compose.roles import build_role

    return await build_role(settings, role, SystemClock()), f"role {role}"
