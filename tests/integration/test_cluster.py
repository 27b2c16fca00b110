"""Scale-out on procrastinate, with real processes: `python -m bot run --role ROLE` on one
PostgreSQL, feeds on 127.0.0.1 and the fake Bot API. What a user would notice must hold
across processes: one story (one alert) however the fetch batches fall, nothing lost or sent
twice when a fetch or story process is SIGKILLed, a /watch taken by one process matched by
another, and periodic planning once per tick however many ops workers run.

Needs STORYWATCH_TEST_POSTGRES_URL and procrastinate (storywatch[cluster]); skipped otherwise.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest

pytest.importorskip("procrastinate")

from botprocess import BotProcess, Setting
from conftest import fresh_postgres_url
from fakes.telegram_api import FakeBotApi
from feedserver import FeedServer
from sqlalchemy import text
from support import Item, SavesTogether, rss
from test_slack_scenarios import free_port
from world import MEETING_A, MEETING_B

from bot.cluster.conninfo import libpq_conninfo
from bot.cluster.schema import apply_queue_schema
from bot.core.models import ChatSettings
from bot.services.poll.rulebook import RuleBook
from bot.services.poll.story_stage import StoryStage
from bot.storage.store import SqlStore
from bot.story_models import load_models

pytestmark = pytest.mark.postgres

WAIT = 40.0  # the longest one awaited event may take on a loaded machine
SETTINGS: dict[str, Setting] = {
    "allow_private_feeds": True, "log_level": "WARNING", "poll_interval_minutes": 0.5,
    "delivery_interval_seconds": 0.1, "cluster_plan_seconds": 1, "cluster_fetch_batch": 1,
    "cluster_fetch_jobs": 1, "cluster_heartbeat_seconds": 0.5,
    "cluster_fetch_lease_seconds": 30, "fetch_timeout_seconds": 30,
}  # fmt: skip
OUTLETS = ("a", "b")


def _now_item(item: Item, minutes_ago: float) -> Item:
    """The item as published `minutes_ago` (the processes run on the real clock)."""
    return replace(item, published=datetime.now(UTC) - timedelta(minutes=minutes_ago))


@dataclass
class Cluster:
    """Role processes on one database, two outlets' feeds, the fake Bot API."""

    tmp: Path
    url: str
    api: FakeBotApi
    server: FeedServer
    store: SqlStore
    settings: dict[str, Setting] = field(default_factory=lambda: dict(SETTINGS))
    processes: list[BotProcess] = field(default_factory=list)

    def start(
        self, role: str, name: str | None = None, *, also: dict[str, Setting] | None = None,
        **env: str,
    ) -> BotProcess:  # fmt: skip
        feeds = [(self.server.url(f"/{o}.xml"), f"Outlet {o.upper()}") for o in OUTLETS]
        bot_env = {"TELEGRAM_BOT_TOKEN": self.api.token, "TELEGRAM_API_BASE_URL": self.api.base_url}
        settings = self.settings | (also or {})
        process = BotProcess(self.tmp, self.url, settings, feeds, env=bot_env | env,
                             role=role, name=name or role)  # fmt: skip
        process.start()
        self.processes.append(process)
        return process

    def publish(self, outlet: str, *items: Item) -> None:
        self.server.set(f"/{outlet}.xml", rss(f"Outlet {outlet.upper()}", list(items)))

    async def watching(self, chat: int, query: str) -> int:
        """A Telegram chat with one rule and no digest (set up as /watch would)."""
        now = datetime.now(UTC)
        found = await self.store.upsert_chat("telegram", str(chat), None, str(chat), now)
        await self.store.save_settings(found.id, ChatSettings(digest_time=None))
        await self.store.add_rule(found.id, query, 50, now)
        return found.id

    async def rows(self, sql: str, **params: Any) -> list[Any]:
        async with self.store.engine.connect() as conn:
            return list((await conn.execute(text(sql), params)).all())

    async def until(self, check: Callable[[], Awaitable[bool]], what: str) -> None:
        """Re-read the database every 50 ms until `check` holds (it sends no notifications)."""
        deadline = time.monotonic() + WAIT
        while not await check():
            if time.monotonic() > deadline:
                pytest.fail(f"not within {WAIT} s: {what}")
            await asyncio.sleep(0.05)

    async def sent_to(self, chat: int, count: int) -> None:
        await self.api.wait_for(lambda: len(self.api.messages_to(chat)) >= count, WAIT)

    async def stop(self) -> None:
        await asyncio.gather(*(p.stop() for p in self.processes))

    async def stop_cleanly(self) -> None:
        """SIGTERM every process still running: each must exit 0 (a clean stop)."""
        running = [p for p in self.processes if p.process and p.process.poll() is None]
        await self.stop()
        codes = {p.log.stem: p.process.returncode for p in running if p.process}
        assert set(codes.values()) == {0}, codes


@pytest.fixture
async def cluster(tmp_path: Path) -> AsyncIterator[Cluster]:
    async with running_cluster(tmp_path) as state:
        yield state


@contextlib.asynccontextmanager
async def running_cluster(tmp_path: Path) -> AsyncIterator[Cluster]:
    """A fresh database with our schema and the queue's, the feeds and the fake Bot API."""
    url = await fresh_postgres_url()
    store = await SqlStore.open(url)  # our schema, so chats can be set up before any role runs
    await apply_queue_schema(libpq_conninfo(url))  # as `storywatch migrate --cluster` does
    async with FakeBotApi() as api:
        with FeedServer() as server:
            for outlet in OUTLETS:
                server.set(f"/{outlet}.xml", rss(f"Outlet {outlet.upper()}", []))
            state = Cluster(tmp_path, url, api, server, store)
            try:
                yield state
            finally:
                await state.stop()
                await store.close()


async def _story_ids(cluster: Cluster) -> Counter[str]:
    return Counter(r.story_id for r in await cluster.rows("SELECT story_id FROM articles"))


async def _outbox(cluster: Cluster) -> list[Any]:
    return await cluster.rows("SELECT chat_id, story_id, kind, status FROM outbox ORDER BY id")


def _edits_to(api: FakeBotApi, chat: int) -> list[str]:
    return [e.text for e in api.edits if e.chat_id == chat]


async def test_two_outlets_on_two_fetch_processes_make_one_story_one_alert_per_chat(
    cluster: Cluster,
) -> None:
    for chat, query in ((201, "S-400"), (202, "Blinken"), (203, "F-35")):
        await cluster.watching(chat, query)
    cluster.publish("a", _now_item(MEETING_A, 5))
    cluster.publish("b", _now_item(MEETING_B, 5))  # the same instant
    gates = {o: cluster.server.hold(f"/{o}.xml") for o in OUTLETS}
    for role, name in (("ops", "ops"), ("fetch", "fetch-1"), ("fetch", "fetch-2"),
                       ("stories", "stories"), ("deliver", "deliver")):  # fmt: skip
        cluster.start(role, name)

    # Each fetch process runs one job at a time: two held batches are on two processes.
    await cluster.until(_both_batches_held(cluster), "both feeds' batches running")
    workers = await cluster.rows(
        "SELECT DISTINCT worker_id FROM procrastinate_jobs "
        "WHERE task_name = 'fetch_batch' AND status = 'doing'"
    )
    assert len(workers) == 2
    gates["b"].set()
    await cluster.sent_to(201, 1)
    await cluster.sent_to(202, 1)
    gates["a"].set()
    both = lambda: all(  # noqa: E731
        any("Outlet A" in e and "Outlet B" in e for e in _edits_to(cluster.api, c))
        for c in (201, 202)
    )
    await cluster.api.wait_for(both, WAIT)

    assert list((await _story_ids(cluster)).values()) == [2]  # both reports, one story
    for chat in (201, 202):
        alerts = cluster.api.messages_to(chat)
        assert len(alerts) == 1 and "Outlet B" in alerts[0].text, alerts
    assert cluster.api.messages_to(203) == []
    assert cluster.api.calls_of("getUpdates") == []  # the deliver process only sends
    kinds = Counter(r.kind for r in await _outbox(cluster))
    assert kinds == {"alert": 2, "sources": 2}
    await cluster.stop_cleanly()


def _both_batches_held(cluster: Cluster) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        paths = {s.path for s in cluster.server.log()}
        doing = await cluster.rows(
            "SELECT id FROM procrastinate_jobs WHERE task_name = 'fetch_batch' AND status = 'doing'"
        )
        return paths >= {"/a.xml", "/b.xml"} and len(doing) == 2

    return check


async def test_a_fetch_worker_killed_mid_batch_has_its_batch_retried_after_the_sweep(
    cluster: Cluster,
) -> None:
    await cluster.watching(201, "S-400")
    cluster.publish("a", _now_item(MEETING_A, 5))
    gate = cluster.server.hold("/a.xml")
    for role in ("ops", "stories", "deliver"):
        cluster.start(role)
    doomed = cluster.start("fetch", "fetch-1")
    await asyncio.to_thread(cluster.server.wait_for_requests, "/a.xml", 1, WAIT)
    [job] = await cluster.rows(
        "SELECT id FROM procrastinate_jobs WHERE task_name = 'fetch_batch' AND status = 'doing'"
        " AND args::text LIKE '%' || :feed || '%'",
        feed=str(await _feed_id(cluster, "a")),
    )
    doomed.kill()  # mid-batch: its request for /a.xml is held by the feed server
    gate.set()
    cluster.start("fetch", "fetch-2")

    await cluster.sent_to(201, 1)
    await cluster.until(_job_done(cluster, job.id), "the killed batch to succeed on retry")
    [retried] = await cluster.rows(
        "SELECT attempts FROM procrastinate_jobs WHERE id = :id", id=job.id
    )
    assert retried.attempts == 2  # two runs: the killed one, and its retry by the sweep
    outbox = await _outbox(cluster)
    assert len(outbox) == len({(r.chat_id, r.story_id, r.kind) for r in outbox}) == 1
    [feed] = await cluster.rows(
        "SELECT next_poll_at, claimed_by FROM feeds WHERE url LIKE '%/a.xml'"
    )
    now, next_poll = datetime.now(UTC), feed.next_poll_at.replace(tzinfo=UTC)  # stored as UTC
    assert feed.claimed_by is None
    assert now < next_poll <= now + timedelta(minutes=0.5), feed  # about one interval on
    assert len(cluster.api.messages_to(201)) == 1


async def _feed_id(cluster: Cluster, outlet: str) -> int:
    rows = await cluster.rows("SELECT id FROM feeds WHERE url LIKE :u", u=f"%/{outlet}.xml")
    if rows:
        return int(rows[0].id)
    await cluster.until(lambda: _has_feed(cluster, outlet), "the ops role to add the feeds")
    return await _feed_id(cluster, outlet)


async def _has_feed(cluster: Cluster, outlet: str) -> bool:
    return bool(await cluster.rows("SELECT id FROM feeds WHERE url LIKE :u", u=f"%/{outlet}.xml"))


def _job_done(cluster: Cluster, job_id: int) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        rows = await cluster.rows("SELECT status FROM procrastinate_jobs WHERE id = :id", id=job_id)
        return rows[0].status == "succeeded"

    return check


async def _counts(cluster: Cluster) -> dict[str, int]:
    tables = ("articles", "outbox", "inbox", "stories")
    found = {
        name: (await cluster.rows(f"SELECT count(*) AS n FROM {name}"))[0].n for name in tables
    }
    found["head"] = (await cluster.rows("SELECT version FROM story_head"))[0].version
    return found


async def test_the_story_process_killed_inside_its_transaction_leaves_nothing_partial(
    cluster: Cluster,
) -> None:
    await cluster.watching(201, "S-400")
    first, second = _now_item(MEETING_A, 6), _now_item(MEETING_B, 5)
    cluster.publish("a", first)
    cluster.publish("b", second)
    marker = cluster.tmp / "paused"
    for role in ("ops", "fetch", "deliver"):
        cluster.start(role)
    paused = cluster.start("stories", STORYWATCH_TEST_PAUSE_STAGE_WRITE=str(marker))
    await cluster.until(_inbox_holds(cluster, 2), "both articles in the inbox")
    await cluster.until(lambda: asyncio.to_thread(marker.exists), "the stage inside its write")

    paused.kill()
    after_kill = await _counts(cluster)
    assert after_kill == {"articles": 0, "outbox": 0, "inbox": 2, "stories": 0, "head": 0}
    cluster.start("stories", "stories-2")
    await cluster.sent_to(201, 1)
    await cluster.until(_inbox_holds(cluster, 0), "the inbox drained")

    [first_id] = await cluster.rows("SELECT id FROM articles WHERE url LIKE '%outlet-a%'")
    assert await _story_ids(cluster) == {first_id.id: 2}  # the story of the first report
    alerts = [r for r in await _outbox(cluster) if r.kind == "alert"]
    assert len(alerts) == 1
    assert (await _counts(cluster))["head"] >= 1


def _inbox_holds(cluster: Cluster, count: int) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        done = (await cluster.rows("SELECT count(*) AS n FROM articles"))[0].n
        waiting = (await cluster.rows("SELECT count(*) AS n FROM inbox"))[0].n
        return waiting == count and (count > 0 or done > 0)

    return check


async def test_two_story_stages_at_once_the_head_makes_one_retry_and_no_story_splits(
    cluster: Cluster,
) -> None:
    chat = await cluster.watching(201, "S-400")
    cluster.publish("a", _now_item(MEETING_A, 6))
    cluster.publish("b", _now_item(MEETING_B, 5))
    cluster.start("ops")
    cluster.start("fetch")  # no stories process: the two stages below are the zombies
    await cluster.until(_inbox_holds(cluster, 2), "both articles in the inbox")
    barrier = asyncio.Barrier(2)
    stages = []
    for _ in range(2):
        store = SavesTogether(cluster.store, barrier)
        stage = StoryStage(
            store, RuleBook(store), _Clock(), window=timedelta(hours=72), models=load_models()
        )  # type: ignore[arg-type]
        await stage.restore()
        stages.append(stage)

    reports = await asyncio.wait_for(asyncio.gather(*(s.drain() for s in stages)), WAIT)

    assert sorted(r.retries for r in reports) == [0, 1]
    assert sorted(r.articles for r in reports) == [0, 2]
    assert list((await _story_ids(cluster)).values()) == [2]
    alerts = [r for r in await _outbox(cluster) if r.kind == "alert"]
    assert [r.chat_id for r in alerts] == [chat]
    assert (await _counts(cluster))["head"] == 1


class _Clock:
    def now(self) -> datetime:
        return datetime.now(UTC)


async def test_a_watch_taken_by_the_chat_process_is_matched_by_the_story_process(
    cluster: Cluster,
) -> None:
    cluster.settings["poll_interval_minutes"] = 0.05  # the feed is read again every 3 s
    for role in ("chat", "ops", "fetch", "stories", "deliver"):
        cluster.start(role)
    api = cluster.api
    api.push_message(301, "/watch Cavusoglu", user_id=301)
    api.push_message(301, "/digest off", user_id=301)
    await cluster.sent_to(301, 2)
    assert api.messages_to(301)[0].text.startswith("Watching")
    polled = cluster.server.count("/a.xml")
    cluster.publish("a", _now_item(MEETING_A, 1))
    await asyncio.to_thread(cluster.server.wait_for_requests, "/a.xml", polled + 1, WAIT)

    await cluster.sent_to(301, 3)
    alert = api.messages_to(301)[2]
    assert "Cavusoglu" in alert.text and "Outlet A" in alert.text
    await cluster.stop_cleanly()


async def test_three_ops_workers_plan_polls_once_per_tick(cluster: Cluster) -> None:
    for n in range(3):
        cluster.start("ops", f"ops-{n}")
    await cluster.until(_planned(cluster, 8), "eight plan ticks")
    await cluster.stop_cleanly()

    rows = await cluster.rows(
        "SELECT (args->>'timestamp')::bigint AS tick, count(*) AS n FROM procrastinate_jobs "
        "WHERE task_name = 'plan_polls' GROUP BY 1 ORDER BY 1"
    )
    assert all(r.n == 1 for r in rows), rows  # never twice for one tick
    ticks = [r.tick for r in rows]
    span = ticks[-1] - ticks[0] + 1
    assert len(ticks) >= 0.9 * span, ticks  # and (nearly) every tick: one was due each second
    planned = await cluster.rows(
        "SELECT args->'feed_ids' AS ids FROM procrastinate_jobs WHERE task_name = 'fetch_batch'"
    )
    feeds = [feed for row in planned for feed in row.ids]
    assert len(feeds) == len(set(feeds)) == len(OUTLETS)  # each due feed planned once


def _planned(cluster: Cluster, ticks: int) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        rows = await cluster.rows(
            "SELECT count(*) AS n FROM procrastinate_jobs "
            "WHERE task_name = 'plan_polls' AND status = 'succeeded'"
        )
        return int(rows[0].n) >= ticks

    return check


async def test_a_cluster_role_shows_the_inbox_depth_on_its_metrics(cluster: Cluster) -> None:
    cluster.publish("a", _now_item(MEETING_A, 6))
    cluster.publish("b", _now_item(MEETING_B, 5))
    port = free_port()
    cluster.start("ops")
    cluster.start("fetch", also={"metrics_port": port, "listen_host": "127.0.0.1"})
    await cluster.until(_inbox_holds(cluster, 2), "both articles in the inbox (no story stage)")

    async def shown() -> bool:
        try:
            async with (
                aiohttp.ClientSession() as http,
                http.get(f"http://127.0.0.1:{port}/metrics") as answer,
            ):
                body = await answer.text()
        except aiohttp.ClientError:
            return False  # not listening yet
        return "storywatch_inbox_articles 2.0" in body and _oldest(body) > 0

    await cluster.until(shown, "the inbox gauges on /metrics")


def _oldest(body: str) -> float:
    line = next(x for x in body.splitlines() if x.startswith("storywatch_inbox_oldest_seconds "))
    return float(line.split()[1])
