"""Composition root: builds every part from Settings; the one place that knows all adapters."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol, TextIO

from pydantic import SecretStr
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.assembly import everyday_commands, ops_server, probe_of, slack_oauth, workspaces
from bot.console.app import ConsoleRuntime
from bot.core.outbox import RetryPolicy
from bot.feeds.parsing import ParsePool, default_workers
from bot.feeds.reader import HttpFeedReader, check_feed
from bot.logs import setup_logging
from bot.metrics.metered import Heartbeat, MeteredNotifier, MeteredStore, metered_job
from bot.metrics.registry import Metrics
from bot.metrics.server import MetricsServer
from bot.scheduler import build_scheduler
from bot.services.chat.commands import CommandService
from bot.services.chat.feed_checks import FeedCheck, FeedChecks, FeedProbe
from bot.services.chat.ports import CommandPort
from bot.services.outbound.delivery import Deliverer
from bot.services.outbound.digests import DigestService
from bot.services.poll.polling import Poller
from bot.services.poll.rulebook import RuleBook
from bot.services.ports import Clock, Notifier
from bot.settings import Settings
from bot.storage.digest_now import SqlExtraDigests
from bot.storage.store import SqlStore
from bot.story_models import load_models

log = logging.getLogger(__name__)


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class Runtime(Protocol):
    """A running chat platform: it owns a notifier and is started and stopped with the bot."""

    @property
    def notifier(self) -> Notifier: ...

    async def start(self) -> None: ...

    async def start_sending(self) -> None:
        """Connect to send only (a cluster's deliver role): no updates, no listener."""

    async def stop(self) -> None: ...


def configure_logging(settings: Settings) -> None:
    """Logging for a run: the configured level, every secret kept out (see bot.logs)."""
    setup_logging(settings.log_level, secrets=secret_values(settings))


def secret_values(settings: Settings) -> list[str]:
    """Every configured secret: tokens, signing and webhook secrets, the database password."""
    fields = (getattr(settings, name) for name in type(settings).model_fields)
    values = [value.get_secret_value() for value in fields if isinstance(value, SecretStr)]
    try:
        password = make_url(settings.database_url).password
    except ArgumentError:
        password = None
    return values + ([str(password)] if password else [])


def _secret(value: object) -> str:
    return value.get_secret_value() if hasattr(value, "get_secret_value") else str(value)


@dataclass(frozen=True)
class Parts:
    """What a platform's runtime may need besides its settings and the commands."""

    engine: AsyncEngine
    clock: Clock


def _telegram(settings: Settings, commands: CommandPort, parts: Parts) -> Runtime:
    from bot.telegram.app import TelegramRuntime

    secret = settings.telegram_webhook_secret
    return TelegramRuntime(
        _secret(settings.telegram_bot_token),
        commands,
        base_url=settings.telegram_api_base_url,
        webhook_url=settings.telegram_webhook_url,
        webhook_secret=_secret(secret) if secret else None,
        listen=settings.listen_host,
        port=settings.telegram_webhook_port,
    )


def _slack(settings: Settings, commands: CommandPort, parts: Parts) -> Runtime:
    from bot.slack.app import SlackRuntime

    app_token, signing = settings.slack_app_token, settings.slack_signing_secret
    token = settings.slack_bot_token
    return SlackRuntime(
        _secret(token) if token else None,
        commands,
        app_token=_secret(app_token) if app_token else None,
        signing_secret=_secret(signing) if signing else None,
        base_url=settings.slack_api_base_url,
        host=settings.listen_host,
        port=settings.slack_http_port,
        oauth=slack_oauth(settings, parts.engine),
        workspaces=workspaces(parts.engine, parts.clock),
    )


# The platform registry: which platforms run, and how each is built. No if-chains elsewhere.
PLATFORMS: dict[
    str, tuple[Callable[[Settings], bool], Callable[[Settings, CommandPort, Parts], Runtime]]
] = {
    "telegram": (lambda s: s.telegram_bot_token is not None, _telegram),
    "slack": (lambda s: s.runs_slack(), _slack),
}


@dataclass
class App:
    """Everything built, ready to run."""

    settings: Settings
    clock: Clock
    store: SqlStore
    reader: HttpFeedReader
    rules: RuleBook
    poller: Poller
    deliverer: Deliverer
    digests: DigestService
    commands: CommandService
    runtimes: dict[str, Runtime] = field(default_factory=dict)
    metrics: Metrics = field(default_factory=Metrics)
    beat: Heartbeat = field(default_factory=Heartbeat)
    ops: MetricsServer | None = None  # /metrics and /healthz, when metrics_port is set

    def jobs(self) -> tuple[Job, Job, Job]:
        """The scheduler's poll, delivery and digest jobs, timed and counted."""
        named = (("poll", self.poller.poll_once), ("delivery", self.deliverer.drain),
                 ("digest", self.digests.tick))  # fmt: skip
        poll, deliver, digest = (metered_job(n, job, self.metrics, self.beat) for n, job in named)
        return poll, deliver, digest

    async def start(self) -> None:
        for runtime in self.runtimes.values():
            await runtime.start()
        if self.settings.metrics_port is not None:
            sizes = lambda: (len(self.rules), len(self.poller.stories))  # noqa: E731
            self.ops = ops_server(self.settings, self.metrics, self.store.engine, self.beat,
                                  self.clock, sizes)  # fmt: skip
            await self.ops.start(self.settings.listen_host, self.settings.metrics_port)

    async def close(self) -> None:
        if self.ops is not None:
            await self.ops.stop()
        await self.commands.aclose()  # before the platforms stop: no answer into a closed bot
        for runtime in self.runtimes.values():
            with contextlib.suppress(Exception):
                await runtime.stop()
        await self.reader.aclose()
        await self.store.close()


Job = Callable[[], Awaitable[Any]]


def ensure_sqlite_dir(url: str) -> None:
    """Create the folder of a SQLite file so the default `./data/` works on a fresh clone."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)


def retry_policy(settings: Settings) -> RetryPolicy:
    """How hard delivery tries, from the settings."""
    return RetryPolicy(
        max_attempts=settings.max_delivery_attempts,
        max_backoff=timedelta(seconds=settings.max_delivery_backoff_seconds),
    )


def feed_reader(settings: Settings) -> HttpFeedReader:
    """The feed reader with its parser processes, from the settings (every polling role)."""
    workers = settings.parse_workers
    workers = default_workers() if workers is None else workers
    return HttpFeedReader(
        allow_private=settings.allow_private_feeds,
        timeout=settings.fetch_timeout_seconds,
        max_bytes=settings.max_feed_bytes,
        per_host=settings.per_host_concurrency,
        max_redirects=settings.max_redirects,
        interval=timedelta(minutes=settings.poll_interval_minutes),
        max_connections=settings.poll_concurrency,
        max_items=settings.max_items_per_feed,
        parse_pool=ParsePool(workers) if workers > 0 else None,
    )


async def build_app(
    settings: Settings,
    *,
    clock: Clock | None = None,
    console: tuple[TextIO, TextIO] | None = None,
    notifiers: Mapping[str, Notifier] | None = None,
) -> App:
    """Build everything; a console chat runs when asked for or when no platform token is set."""
    clock = clock or SystemClock()
    ensure_sqlite_dir(settings.database_url)
    metrics = Metrics(platforms=[*PLATFORMS, "console"])
    store = await MeteredStore.open(settings.database_url)
    store.metrics = metrics
    await store.sync_default_feeds([(f.url, f.name) for f in settings.feeds], clock.now())
    reader = feed_reader(settings)
    rules = RuleBook(store)
    await rules.refresh(force=True)
    poller = await _poller(settings, store, reader, rules, clock)
    digests = DigestService(store, clock, extra=SqlExtraDigests(store.engine))
    check, checks = feed_check(settings, clock), FeedChecks(settings.max_feed_checks_per_chat)
    commands = CommandService(
        store, clock, check, max_rules=settings.max_rules_per_chat, feed_checks=checks,
        everyday=everyday_commands(settings, store.engine, clock, check, checks, digests),
    )  # fmt: skip
    runtimes = build_runtimes(settings, commands, console, Parts(store.engine, clock))
    plain = {name: r.notifier for name, r in runtimes.items()} | dict(notifiers or {})
    registry = {name: MeteredNotifier(name, n, metrics) for name, n in plain.items()}
    deliverer = Deliverer(
        store, registry, clock, policy=retry_policy(settings),
        lease_seconds=settings.delivery_lease_seconds,
    )  # fmt: skip
    return App(settings, clock, store, reader, rules, poller, deliverer, digests, commands,
               runtimes, metrics)  # fmt: skip


async def _poller(
    settings: Settings, store: SqlStore, reader: HttpFeedReader, rules: RuleBook, clock: Clock
) -> Poller:
    """The poller, with its story index rebuilt from the stored window."""
    window = timedelta(hours=settings.story_window_hours)
    # A lease of one tick: a bot restarted after a crash polls again within one tick.
    poller = Poller(store, reader, rules, clock, window=window, models=load_models(),
                    concurrency=settings.poll_concurrency,
                    lease=timedelta(seconds=settings.poll_tick_seconds),
                    max_articles_per_save=settings.max_articles_per_transaction)  # fmt: skip
    await poller.restore()
    return poller


def build_runtimes(
    settings: Settings, commands: CommandService, console: tuple[TextIO, TextIO] | None,
    parts: Parts,
) -> dict[str, Runtime]:  # fmt: skip
    """The configured chat platforms (a console when none is, or when asked for)."""
    runtimes = {
        name: build(settings, commands, parts)
        for name, (wanted, build) in PLATFORMS.items()
        if wanted(settings)
    }
    if console is not None or not runtimes:
        inp, out = console or (sys.stdin, sys.stdout)
        runtimes["console"] = ConsoleRuntime(commands, inp, out)
    return runtimes


def feed_check(settings: Settings, clock: Clock) -> FeedCheck:
    async def check(url: str) -> FeedProbe:
        result = await check_feed(
            url,
            allow_private=settings.allow_private_feeds,
            now=clock.now(),
            fetch_timeout=settings.fetch_timeout_seconds,
            max_bytes=settings.max_feed_bytes,
            max_items=settings.max_items_per_feed,
        )
        return probe_of(result)

    return check


async def run(settings: Settings) -> None:
    """Run until SIGINT/SIGTERM: platforms, then the poll, delivery and digest loops."""
    app = await build_app(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    loops = build_scheduler(settings, *app.jobs())
    try:
        await app.start()
        loops.start()
        log.info("storywatch running: %s", ", ".join(app.runtimes))
        await stop.wait()
    finally:
        await loops.stop()  # running rounds finish (or are cancelled) before the store closes
        await app.close()
