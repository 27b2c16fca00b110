"""What every process is built on (settings, clock, store, metrics, its Process), and the
parts that more than one role runs: polling in-process, delivery with digests, the chat."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TextIO, cast

from bot.compose.parts import (
    commands,
    deliverer,
    digests,
    feed_reader,
    open_store,
    pacer,
    poller,
    rule_book,
)
from bot.compose.platforms import CONSOLE, PLATFORMS, Parts, runtimes, senders
from bot.compose.process import Process
from bot.compose.push import push_aware, push_service, take_pushes
from bot.core.models import Article
from bot.feeds.reader import HttpFeedReader
from bot.metrics.metered import Heartbeat, MeteredNotifier, MeteredStore, metered_job
from bot.metrics.registry import Metrics
from bot.scheduler import Loop
from bot.services.chat.commands import CommandService
from bot.services.outbound.delivery import Deliverer
from bot.services.outbound.digests import DigestService
from bot.services.poll.pacing import recalibrate
from bot.services.poll.polling import Poller
from bot.services.poll.ports import PollingPort
from bot.services.poll.push_saves import GroupedSaves
from bot.services.poll.rulebook import RuleBook
from bot.services.poll.websub import WebSubService
from bot.services.ports import Clock, Notifier, Runtime, Sender
from bot.settings import Settings
from bot.storage.store import SqlStore

RECALIBRATE_SECONDS = 300.0


def _metrics() -> Metrics:
    return Metrics(platforms=[*PLATFORMS, CONSOLE])


@dataclass
class Kit:
    """One process's common parts; the role builders add theirs to `process`."""

    settings: Settings
    clock: Clock
    store: SqlStore
    process: Process
    console: tuple[TextIO, TextIO] | None = None
    metrics: Metrics = field(default_factory=_metrics)
    beat: Heartbeat = field(default_factory=Heartbeat)

    @property
    def parts(self) -> Parts:
        return Parts(self.store.engine, self.clock, self.console)

    def metered(self) -> Any:
        """The store with its saves counted (typed as whichever port the caller needs)."""
        return MeteredStore(self.store, self.metrics)

    def loop(
        self, name: str, job: Callable[[], Awaitable[Any]], seconds: float, at_start: bool = False
    ) -> None:
        """A loop of this process, timed and counted, its starts shown to /healthz."""
        timed = metered_job(name, job, self.metrics, self.beat)
        self.process.loops.append(Loop(name, timed, seconds, at_start))


async def open_kit(
    settings: Settings, clock: Clock, role: str, console: tuple[TextIO, TextIO] | None = None
) -> Kit:
    store = await open_store(settings)
    process = Process(role)
    process.closers.append(store.close)  # the last thing closed
    return Kit(settings, clock, store, process, console)


async def poll_part(
    kit: Kit,
) -> tuple[HttpFeedReader, RuleBook, Poller, WebSubService | None]:
    """Fetch, story assignment and alert planning in this process (role `all`), and the
    pushes of WebSub hubs saved as polls are, when push is on."""
    reader = reading_part(kit)
    rules = await rule_book(kit.store)
    built: list[Poller] = []  # the pushes' sink needs the poller, the poller their reader

    async def save(articles: Sequence[Article]) -> int:
        return await built[0].save_pushed(articles)

    grouped = GroupedSaves(save, max_articles=kit.settings.max_articles_per_transaction)
    websub = push_service(kit, grouped)
    polled = push_aware(kit.settings, reader, websub)
    store = cast(PollingPort, kit.metered())
    built.append(await poller(kit.settings, store, polled, rules, kit.clock))
    kit.loop("poll", built[0].poll_once, kit.settings.poll_tick_seconds, at_start=True)
    if websub is not None:
        take_pushes(kit, websub)
    return reader, rules, built[0], websub


def reading_part(kit: Kit) -> HttpFeedReader:
    """The feed reader of a polling process; when polling is paced, its budget scale is
    recomputed from every feed's stored rate at start and every few minutes (each process
    computes the same scale from the same rows, so a cluster keeps the fixed budget too)."""
    paced = pacer(kit.settings)
    reader = feed_reader(kit.settings, paced)
    kit.process.closers.append(reader.aclose)
    if paced is not None:

        async def calibrate() -> None:
            await recalibrate(kit.store, paced)

        kit.loop("pacing", calibrate, RECALIBRATE_SECONDS, at_start=True)
    return reader


def deliver_part(
    kit: Kit, extra: Mapping[str, Notifier] | None = None
) -> tuple[dict[str, Sender], Deliverer, DigestService]:
    """The outbox delivered and the digests queued; the platforms' senders only."""
    built = senders(kit.settings, kit.parts)
    for sender in built.values():
        kit.process.starters.append(sender.start)
        kit.process.closers.append(sender.stop)
    plain = {name: sender.notifier for name, sender in built.items()} | dict(extra or {})
    counted = {name: MeteredNotifier(name, n, kit.metrics) for name, n in plain.items()}
    deliver = deliverer(kit.settings, kit.store, counted, kit.clock)
    digest = digests(kit.store, kit.clock)
    kit.loop("delivery", deliver.drain, kit.settings.delivery_interval_seconds)
    kit.loop("digest", digest.tick, kit.settings.digest_check_seconds, at_start=True)
    return built, deliver, digest


def chat_part(
    kit: Kit, shared: Mapping[str, Sender] | None = None
) -> tuple[CommandService, dict[str, Runtime]]:
    """The platforms' command runtimes, on this process's senders when it has them."""
    service = commands(kit.settings, kit.store, kit.clock)
    built = runtimes(kit.settings, service, kit.parts, shared or {})
    for runtime in built.values():
        kit.process.starters.append(runtime.start)
        kit.process.closers.append(runtime.stop)
    kit.process.closers.append(service.aclose)  # closed first: no answer into a closed bot
    return service, built
