"""The operators' endpoint of any process (/metrics and /healthz, when metrics_port is set),
and the inbox gauges a cluster role adds: how many articles wait between the stages."""

from __future__ import annotations

import time
from collections.abc import Callable

from prometheus_client import Gauge

from bot.compose.kit import Kit
from bot.metrics.metered import Heartbeat
from bot.metrics.registry import NS, Metrics
from bot.metrics.server import MetricsServer
from bot.scheduler import Loop
from bot.services.ports import Clock
from bot.storage.health import SqlHealth
from bot.storage.store import SqlStore

GAUGE_SECONDS = 5.0  # how often the inbox is read; /healthz calls a role stalled after 60 s


class InboxGauges:
    """Reads the inbox depth into gauges; each read also shows the role is alive."""

    def __init__(self, metrics: Metrics, store: SqlStore, clock: Clock, beat: Heartbeat) -> None:
        reg = metrics.registry
        self.depth = Gauge(
            f"{NS}_inbox_articles", "Articles waiting for the story stage", registry=reg
        )
        self.age = Gauge(
            f"{NS}_inbox_oldest_seconds", "How long the oldest has waited", registry=reg
        )
        self._store, self._clock, self._beat = store, clock, beat

    async def read(self) -> None:
        self._beat.last_start["inbox"] = time.monotonic()
        count, oldest = await self._store.inbox_depth(self._clock.now())
        self.depth.set(count)
        self.age.set(oldest.total_seconds() if oldest is not None else 0.0)


def endpoint(kit: Kit, *, stories: Callable[[], int], stale_after: float) -> MetricsServer | None:
    """Add the endpoint to the kit's process when metrics_port is set: started after its
    parts, closed before the store. `stale_after`: seconds without a job before /healthz
    says 503."""
    port = kit.settings.metrics_port
    if port is None:
        return None
    health = SqlHealth(kit.store.engine)
    server = MetricsServer(
        kit.metrics, health, kit.beat, kit.clock, stories, stale_after=stale_after
    )

    async def start() -> None:
        await server.start(kit.settings.listen_host, port)

    kit.process.starters.append(start)
    kit.process.closers.append(server.stop)
    return server


def inbox_gauges(kit: Kit) -> None:
    """A cluster role's inbox gauges, read every few seconds (also its sign of life)."""
    if kit.settings.metrics_port is not None:
        gauges = InboxGauges(kit.metrics, kit.store, kit.clock, kit.beat)
        kit.process.loops.append(Loop("inbox gauges", gauges.read, GAUGE_SECONDS))
