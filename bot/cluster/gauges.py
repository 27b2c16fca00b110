"""/metrics and /healthz for a cluster role (when metrics_port is set), with the inbox gauges:
how many articles wait between the fetch and story stages, and for how long."""

from __future__ import annotations

import time
from collections.abc import Callable

from prometheus_client import Gauge

from bot.cluster.node import Node
from bot.metrics.metered import Heartbeat
from bot.metrics.registry import NS, Metrics
from bot.metrics.server import MetricsServer
from bot.services.ports import Clock
from bot.settings import Settings
from bot.storage.health import SqlHealth
from bot.storage.store import SqlStore

GAUGE_SECONDS = 5.0  # how often the inbox is read; /healthz calls a role stalled after 60 s


class InboxGauges:
    """Reads the inbox depth into gauges; each read also shows the role is alive."""

    def __init__(self, metrics: Metrics, store: SqlStore, clock: Clock, beat: Heartbeat) -> None:
        reg = metrics.registry
        self.depth = Gauge(f"{NS}_inbox_articles", "Articles waiting for the story stage",
                           registry=reg)  # fmt: skip
        self.age = Gauge(f"{NS}_inbox_oldest_seconds", "How long the oldest has waited",
                         registry=reg)  # fmt: skip
        self._store, self._clock, self._beat = store, clock, beat

    async def read(self) -> None:
        self._beat.last_start["inbox"] = time.monotonic()
        count, oldest = await self._store.inbox_depth(self._clock.now())
        self.depth.set(count)
        self.age.set(oldest.total_seconds() if oldest is not None else 0.0)


def serve_metrics(
    node: Node, settings: Settings, store: SqlStore, clock: Clock,
    sizes: Callable[[], tuple[int, int]] = lambda: (0, 0),
) -> None:  # fmt: skip
    """Add the endpoint to `node` when metrics_port is set; `sizes`: (rules, index articles)."""
    port = settings.metrics_port
    if port is None:
        return
    metrics, beat = Metrics(), Heartbeat()
    gauges = InboxGauges(metrics, store, clock, beat)
    server = MetricsServer(metrics, SqlHealth(store.engine), beat, clock, sizes, stale_after=60)
    node.loops.append(("inbox gauges", gauges.read, GAUGE_SECONDS))

    async def start() -> None:
        await server.start(settings.listen_host, port)

    node.starters.append(start)
    node.closers.append(server.stop)  # closed before the store
