"""Role `all`: every role's loops in one process (polling in-process, no queue), as an App
the tests, the demo and the benches drive."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, TextIO

from bot.compose.basics import SystemClock
from bot.compose.kit import Kit, chat_part, deliver_part, open_kit, poll_part
from bot.compose.ops import endpoint
from bot.feeds.reader import HttpFeedReader
from bot.metrics.metered import Heartbeat
from bot.metrics.registry import Metrics
from bot.services.chat.commands import CommandService
from bot.services.outbound.delivery import Deliverer
from bot.services.outbound.digests import DigestService
from bot.services.poll.polling import Poller
from bot.services.poll.rulebook import RuleBook
from bot.services.poll.websub import WebSubService
from bot.services.ports import Clock, Notifier, Runtime
from bot.settings import Settings
from bot.storage.store import SqlStore

log = logging.getLogger(__name__)

Job = Callable[[], Awaitable[Any]]


@dataclass
class App:
    """Everything role `all` built, ready to run."""

    kit: Kit
    reader: HttpFeedReader
    rules: RuleBook
    poller: Poller
    deliverer: Deliverer
    digests: DigestService
    commands: CommandService
    runtimes: dict[str, Runtime]
    websub: WebSubService | None = None  # WebSub push, when public_base_url is set

    @property
    def settings(self) -> Settings:
        return self.kit.settings

    @property
    def clock(self) -> Clock:
        return self.kit.clock

    @property
    def store(self) -> SqlStore:
        return self.kit.store

    @property
    def metrics(self) -> Metrics:
        return self.kit.metrics

    @property
    def beat(self) -> Heartbeat:
        return self.kit.beat

    def jobs(self) -> tuple[Job, ...]:
        """The poll, delivery and digest jobs, timed and counted as the loops run them."""
        return self.job("poll"), self.job("delivery"), self.job("digest")

    def job(self, name: str) -> Job:
        """The job of loop `name` (poll, delivery, digest, pacing, websub), as it runs."""
        return next(loop.job for loop in self.kit.process.loops if loop.name == name)

    async def start(self) -> None:
        """Connect the platforms and the endpoint; no loop runs (see `run`)."""
        await self.kit.process.start_parts()

    async def close(self) -> None:
        await self.kit.process.stop()


async def build_app(
    settings: Settings,
    *,
    clock: Clock | None = None,
    console: tuple[TextIO, TextIO] | None = None,
    notifiers: Mapping[str, Notifier] | None = None,
) -> App:
    """Build role `all`; a console chat runs when asked for or when no platform token is set.
    `notifiers` replace a platform's own (a test's recording notifier)."""
    kit = await open_kit(settings, clock or SystemClock(), "all", console)
    await kit.store.sync_default_feeds([(f.url, f.name) for f in settings.feeds], kit.clock.now())
    reader, rules, polls, websub = await poll_part(kit)
    shared, deliver, digest = deliver_part(kit, notifiers)
    service, runtimes = chat_part(kit, shared)
    stale = max(60.0, 10 * settings.delivery_interval_seconds)
    endpoint(kit, stories=lambda: len(polls.stories), stale_after=stale)
    return App(kit, reader, rules, polls, deliver, digest, service, runtimes, websub)
