"""`storywatch run [--role ROLE]`: build the role's process, run it until SIGINT/SIGTERM."""

from __future__ import annotations

import asyncio
import logging
import signal

from sqlalchemy.exc import OperationalError

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
    try:
        process, running = await _build(settings, role)
    except (OSError, OperationalError) as exc:
        raise StartupError(f"cannot start: {_reason(exc)}") from exc
    try:
        if not stop.is_set():  # a signal during a slow build: nothing starts
            await _start(process)
            log.info("%s", running)
            await process.wait(stop)
    finally:
        await process.stop()


class StartupError(Exception):
    """The bot could not start (a port in use, the database unreachable): one clear line."""


async def _start(process: Process) -> None:
    try:
        await process.start()
    except OSError as exc:  # a listener's port in use, a host name that does not resolve
        raise StartupError(f"cannot start: {_reason(exc)}") from exc


def _reason(exc: BaseException) -> str:
    """The first line of what went wrong, without the driver's wrapping."""
    inner = getattr(exc, "orig", None) or exc
    return (str(inner).strip().splitlines() or [type(inner).__name__])[0]


async def _build(settings: Settings, role: str) -> tuple[Process, str]:
    """The process, and the log line that says it runs."""
    if role == "all":
        from bot.compose.app import build_app

        app = await build_app(settings)
        return app.kit.process, "storywatch running: " + ", ".join(app.runtimes)
    from bot.compose.roles import build_role

    return await build_role(settings, role, SystemClock()), f"storywatch {role} running"
