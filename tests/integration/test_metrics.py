"""/metrics and /healthz on metrics_port: counters move with polls and deliveries, and the
health check names the part that is down. SQLite and PostgreSQL."""

from __future__ import annotations

import io
import os
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import asyncpg
import pytest
from feedserver import FeedServer
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.engine import make_url
from support import RecordingNotifier
from test_slack_scenarios import free_port
from world import MEETING_A, MEETING_B, World, ask

from bot.compose.app import App, build_app
from bot.services.errors import RateLimited
from bot.settings import FeedConfig, Settings
from bot.storage.store import SqlStore


class Ops:
    """The bot with its operators' endpoint, and what a scrape says."""

    def __init__(self, app: App, world: World, port: int) -> None:
        self.app, self.world, self.root = app, world, f"http://127.0.0.1:{port}"

    async def get(self, path: str) -> tuple[int, str]:
        async with aiohttp.ClientSession() as session, session.get(self.root + path) as answer:
            return answer.status, await answer.text()

    async def scrape(self) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        status, text = await self.get("/metrics")
        assert status == 200
        return {
            (sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples
        }


@pytest.fixture
async def ops(database_url: str) -> AsyncIterator[Ops]:
    with FeedServer() as server:
        world = World(server, database_url)
        port = free_port()
        feeds = [FeedConfig(url=server.url(f"/{n}.xml"), name=n) for n in "abc"]
        settings = Settings(database_url=database_url, allow_private_feeds=True, feeds=feeds,
                            metrics_port=port, listen_host="127.0.0.1")  # fmt: skip
        world.notifier = RecordingNotifier()
        app = await build_app(settings, clock=world.clock, console=(io.StringIO(), io.StringIO()),
                              notifiers={"console": world.notifier})  # fmt: skip
        world.app = app
        await app.start()
        try:
            yield Ops(app, world, port)
        finally:
            await world.stop()


def _value(scraped: dict, name: str, **labels: str) -> float:  # type: ignore[type-arg]
    return scraped.get((name, tuple(sorted(labels.items()))), 0.0)


async def test_counters_move_after_a_poll_and_a_delivery(ops: Ops) -> None:
    poll, deliver, _digest = ops.app.jobs()
    await ask(ops.app, "/watch S-400")
    before = await ops.scrape()
    ops.world.publish("a", MEETING_A)
    ops.world.publish("b", MEETING_B)
    ops.world.clock.advance(minutes=30)
    ops.world.notifier.failures.append(RateLimited(7))
    await poll()
    mid = await ops.scrape()
    assert (
        _value(mid, "storywatch_feeds_polled_total")
        - _value(before, "storywatch_feeds_polled_total")
        == 3
    )
    assert _value(mid, "storywatch_articles_total") == 2
    assert _value(mid, "storywatch_stories_total") == 1  # two outlets, one story
    assert _value(mid, "storywatch_messages_planned_total", kind="alert") == 1
    assert _value(mid, "storywatch_outbox_pending", platform="console") == 1
    assert _value(mid, "storywatch_rules") == 1
    assert _value(mid, "storywatch_story_index_articles") == 2
    assert _value(mid, "storywatch_poll_cycle_seconds_count") == 1
    assert _value(mid, "process_resident_memory_bytes") > 1_000_000

    await deliver()  # the first try meets a 429 and waits
    ops.world.clock.advance(seconds=8)
    await deliver()
    after = await ops.scrape()
    assert _value(after, "storywatch_rate_limited_total", platform="console") == 1
    assert _value(after, "storywatch_retry_after_seconds_total", platform="console") == 7
    assert _value(after, "storywatch_messages_sent_total", platform="console", kind="alert") == 1
    assert _value(after, "storywatch_outbox_pending", platform="console") == 0
    assert _value(after, "storywatch_job_last_run_timestamp_seconds", job="delivery") > 0


async def test_a_rule_another_process_adds_shows_on_the_next_scrape(ops: Ops) -> None:
    assert _value(await ops.scrape(), "storywatch_rules") == 0
    other = await SqlStore.open(ops.app.settings.database_url)  # as a chat process would
    try:
        now = ops.world.clock.now()
        chat = await other.upsert_chat("telegram", "77", None, "77", now)
        await other.add_rule(chat.id, "Cavusoglu", 50, now)
    finally:
        await other.close()
    assert _value(await ops.scrape(), "storywatch_rules") == 1


async def test_healthz_is_ok_then_names_a_stalled_scheduler(ops: Ops) -> None:
    poll, _deliver, _digest = ops.app.jobs()
    assert await ops.get("/healthz") == (200, "ok\n")
    ops.app.beat.started_at -= 3600  # an hour with no job started
    status, text = await ops.get("/healthz")
    assert status == 503 and text.startswith("scheduler: no job has run for 36")
    await poll()
    assert await ops.get("/healthz") == (200, "ok\n")


async def test_healthz_turns_503_when_the_database_is_stopped(ops: Ops, tmp_path: Path) -> None:
    assert await ops.get("/healthz") == (200, "ok\n")
    url = make_url(ops.app.settings.database_url)
    async with _stopped(url, ops):
        status, text = await ops.get("/healthz")
        assert status == 503 and text.startswith("database: ")
        assert (await ops.get("/metrics"))[0] == 200  # counters still served
    assert await ops.get("/healthz") == (200, "ok\n")


class _stopped:
    """The database made unreachable for the bot, then brought back."""

    def __init__(self, url: object, ops: Ops) -> None:
        self.url, self.ops = url, ops
        self.path = Path(str(getattr(url, "database", "")))

    async def __aenter__(self) -> None:
        await self.ops.app.store.engine.dispose()  # the pool's open connections close
        if self.ops.app.store.engine.dialect.name == "sqlite":
            self.path.rename(self.path.with_suffix(".away"))
            self.path.mkdir()  # a directory where the file was: it cannot be opened
            return
        await _allow_connections(False)

    async def __aexit__(self, *exc: object) -> None:
        if self.ops.app.store.engine.dialect.name == "sqlite":
            self.path.rmdir()
            self.path.with_suffix(".away").rename(self.path)
        else:
            await _allow_connections(True)
        await self.ops.app.store.engine.dispose()


async def _allow_connections(allowed: bool) -> None:
    """Our own test database refuses (or takes again) new connections; ours are ended."""
    url = os.environ["STORYWATCH_TEST_POSTGRES_URL"]
    name = make_url(url).database
    admin = await asyncpg.connect(url.rsplit("/", 1)[0] + "/postgres")
    try:
        await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {str(allowed).lower()}')
        if not allowed:
            await admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", name
            )
    finally:
        await admin.close()
