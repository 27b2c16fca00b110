"""One builder per part, from Settings: store, reader, rule book, poller and stages, digests,
commands, deliverer. The roles (bot.compose.roles) pick the parts they run."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.compose.basics import ensure_sqlite_dir, retry_policy
from bot.core.pacing import PaceLimits, Pacer
from bot.feeds.parsing import ParsePool, default_workers
from bot.feeds.reader import CheckResult, HttpFeedReader, check_feed
from bot.opml import ListparserOpml
from bot.services.chat.commands import CommandService
from bot.services.chat.everyday_commands import EverydayCommands
from bot.services.chat.feed_checks import FeedCheck, FeedChecks, FeedProbe
from bot.services.chat.opml_import import OpmlLimits, OpmlService
from bot.services.chat.recent import RecentMatches
from bot.services.outbound.delivery import Deliverer
from bot.services.outbound.digests import DigestService
from bot.services.poll.fetch_stage import FetchStage
from bot.services.poll.polling import Poller
from bot.services.poll.ports import PollingPort, StoryStagePort
from bot.services.poll.rulebook import RuleBook
from bot.services.poll.story_stage import StoryStage
from bot.services.ports import Clock, FeedReader, Notifier
from bot.settings import Settings
from bot.storage.digest_now import SqlExtraDigests
from bot.storage.feed_lists import SqlFeedLists
from bot.storage.recent import SqlRecentArticles
from bot.storage.store import SqlStore
from bot.story_models import load_models

log = logging.getLogger(__name__)


async def open_store(settings: Settings) -> SqlStore:
    """The database, migrated (under the migrations' lock, so processes may race to it)."""
    ensure_sqlite_dir(settings.database_url)
    return await SqlStore.open(settings.database_url)


def pacer(settings: Settings) -> Pacer | None:
    """Each feed's interval from its own publishing rate, when paced_polling is on."""
    if not settings.paced_polling:
        return None
    if not settings.poll_floor_minutes < settings.poll_interval_minutes:
        log.warning("paced_polling has no effect: poll_interval_minutes is not above the floor")
    minutes = (
        settings.poll_interval_minutes,
        settings.poll_floor_minutes,
        settings.poll_ceiling_minutes,
    )
    return Pacer(PaceLimits(*(timedelta(minutes=m) for m in minutes)))


def feed_reader(settings: Settings, paced: Pacer | None = None) -> HttpFeedReader:
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
        pacer=paced,
    )


async def rule_book(store: SqlStore) -> RuleBook:
    """Every active chat's rules, compiled; kept current by the stored rules version."""
    rules = RuleBook(store)
    await rules.refresh(force=True)
    return rules


async def poller(
    settings: Settings, store: PollingPort, reader: FeedReader, rules: RuleBook, clock: Clock
) -> Poller:
    """The in-process poller, with its story index rebuilt from the stored window."""
    # A lease of one tick: a bot restarted after a crash polls again within one tick.
    built = Poller(
        store,
        reader,
        rules,
        clock,
        window=_window(settings),
        models=load_models(),
        concurrency=settings.poll_concurrency,
        lease=timedelta(seconds=settings.poll_tick_seconds),
        max_articles_per_save=settings.max_articles_per_transaction,
    )
    await built.restore()
    return built


async def story_stage(
    settings: Settings, store: StoryStagePort, rules: RuleBook, clock: Clock
) -> StoryStage:
    """The cluster's one story stage, with its index rebuilt from the stored window."""
    stage = StoryStage(
        store,
        rules,
        clock,
        window=_window(settings),
        models=load_models(),
        chunk=settings.cluster_story_chunk,
    )
    await stage.restore()
    return stage


def fetch_stage(
    settings: Settings, store: SqlStore, reader: FeedReader, clock: Clock
) -> FetchStage:
    lease = timedelta(seconds=settings.cluster_fetch_lease_seconds)
    return FetchStage(store, reader, clock, lease=lease, concurrency=settings.poll_concurrency)


def digests(store: SqlStore, clock: Clock) -> DigestService:
    return DigestService(store, clock, extra=SqlExtraDigests(store.engine))


def deliverer(
    settings: Settings, store: SqlStore, notifiers: Mapping[str, Notifier], clock: Clock
) -> Deliverer:
    return Deliverer(
        store,
        notifiers,
        clock,
        policy=retry_policy(settings),
        lease_seconds=settings.delivery_lease_seconds,
    )


def commands(settings: Settings, store: SqlStore, clock: Clock) -> CommandService:
    """Every chat command, with /preview, /digest now, /import and /export."""
    check, checks = feed_check(settings, clock), FeedChecks(settings.max_feed_checks_per_chat)
    opml = opml_service(settings, store.engine, clock, check, checks)
    recent = RecentMatches(SqlRecentArticles(store.engine), clock, _window(settings))
    return CommandService(
        store,
        clock,
        check,
        max_rules=settings.max_rules_per_chat,
        feed_checks=checks,
        everyday=EverydayCommands(recent, digests(store, clock), opml),
    )


def opml_service(
    settings: Settings, engine: AsyncEngine, clock: Clock, check: FeedCheck, checks: FeedChecks
) -> OpmlService:
    """/import and /export (and `storywatch opml`), with the configured limits."""
    limits = OpmlLimits(settings.max_opml_bytes, settings.max_opml_feeds)
    return OpmlService(SqlFeedLists(engine), ListparserOpml(), check, clock, checks, limits)


def feed_check(settings: Settings, clock: Clock) -> FeedCheck:
    """/addfeed's check: one fetch and parse with every safety rule."""

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


def probe_of(result: CheckResult) -> FeedProbe:
    """What a chat is told about a checked feed: title, item count, newest headline."""
    if result.error is not None:
        return FeedProbe(error=result.error)
    newest = max(result.articles, key=lambda a: a.published, default=None)
    return FeedProbe(result.title, None, len(result.articles), newest.title if newest else None)


def _window(settings: Settings) -> timedelta:
    return timedelta(hours=settings.story_window_hours)
