"""The operators' endpoint: /metrics (Prometheus text format) and /healthz, on metrics_port.

/healthz is 200 "ok" only when the database answers and the scheduler ran a job recently;
otherwise 503 with one line per unhealthy part ("database: OperationalError").
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from bot.metrics.metered import Heartbeat
from bot.metrics.registry import Metrics
from bot.services.ports import Clock
from bot.services.records import OpsSnapshot

log = logging.getLogger(__name__)


class Health(Protocol):
    """The database side of health and gauges."""

    async def ping(self) -> str | None: ...

    async def snapshot(self, now: datetime) -> OpsSnapshot: ...


class MetricsServer:
    """Serves /metrics and /healthz; `stories` gives the size of this process's story index
    (0 where none is kept); everything else is counted here or read from the database."""

    def __init__(
        self,
        metrics: Metrics,
        health: Health,
        beat: Heartbeat,
        clock: Clock,
        stories: Callable[[], int],
        *,
        stale_after: float,
    ) -> None:
        self._metrics, self._health, self._beat, self._clock = metrics, health, beat, clock
        self._stories, self._stale_after = stories, stale_after
        self._runner: web.AppRunner | None = None

    @property
    def port(self) -> int | None:
        if self._runner is None or not self._runner.addresses:
            return None
        return int(self._runner.addresses[0][1])

    async def start(self, host: str, port: int) -> None:
        app = web.Application()
        app.router.add_get("/metrics", self._scrape)
        app.router.add_get("/healthz", self._healthz)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, host, port).start()
        log.info("metrics and health on %s:%s (/metrics, /healthz)", host, self.port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _scrape(self, request: web.Request) -> web.Response:
        try:
            snapshot = await self._health.snapshot(self._clock.now())
        except Exception as exc:  # counters are still worth serving without the database
            log.warning("metrics: database gauges unavailable: %s", type(exc).__name__)
        else:
            self._metrics.show(snapshot, self._stories())
        body = generate_latest(self._metrics.registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def _healthz(self, request: web.Request) -> web.Response:
        problems = []
        database = await self._health.ping()
        if database is not None:
            problems.append(f"database: {database}")
        silent = time.monotonic() - self._beat.latest()
        if silent > self._stale_after:
            problems.append(f"scheduler: no job has run for {silent:.0f} s")
        if problems:
            return web.Response(status=503, text="\n".join(problems) + "\n")
        return web.Response(text="ok\n")
