"""Poll leases: a crashed or failed poll holds its feeds for at most one poll tick.

The real bot runs as a subprocess, is SIGKILLed while a fetch is in flight, and is restarted;
a database error inside a poll gives its feeds back at once. SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from botprocess import BotProcess
from feedserver import FeedServer
from sqlalchemy import select, text
from support import Item, SettableClock, rss

from bot.compose.app import build_app
from bot.settings import FeedConfig, Settings
from bot.storage import tables as t
from bot.storage.store import SqlStore, make_engine

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
TICK = 1.0  # seconds: the restarted bot must poll the feed again within about this


async def test_a_claim_is_renewed_while_held_and_ends_with_the_save_or_a_release(
    store: SqlStore,
) -> None:
    await store.sync_default_feeds([("http://feeds.example/a.xml", "A")], NOW)
    lease = timedelta(seconds=30)
    (feed,) = await store.due_feeds(NOW, 10, worker="w1", lease=lease)
    assert await store.due_feeds(NOW, 10, worker="w2", lease=lease) == []
    await store.renew_feed_claims([feed.id], "w1", NOW + timedelta(minutes=2))
    assert await store.due_feeds(NOW + lease, 10, worker="w2", lease=lease) == []  # renewed
    await store.renew_feed_claims([feed.id], "w2", NOW + timedelta(hours=1))  # not its claim
    later = NOW + timedelta(minutes=2)
    assert len(await store.due_feeds(later, 10, worker="w2", lease=lease)) == 1  # w1 is gone
    await store.release_feeds([feed.id], "w1")  # too late: w2 holds it now
    assert await store.due_feeds(later, 10, worker="w3", lease=lease) == []
    await store.release_feeds([feed.id], "w2")
    assert len(await store.due_feeds(later, 10, worker="w3", lease=lease)) == 1


async def test_a_database_error_mid_poll_gives_the_feeds_back_at_once(
    database_url: str,
) -> None:
    with FeedServer() as server:
        item = Item("Dam opens", "The dam opened.", "http://a.example/dam", "a-1", NOW)
        server.set("/a.xml", rss("Outlet A", [item]))
        settings = Settings(
            database_url=database_url, allow_private_feeds=True,
            feeds=[FeedConfig(url=server.url("/a.xml"), name="A")], poll_tick_seconds=300,
        )  # fmt: skip
        app = await build_app(settings, clock=SettableClock(NOW), console=(io.StringIO(),) * 2)
        try:
            async with app.store.engine.begin() as conn:  # a real database error at save time
                await conn.execute(text("ALTER TABLE story_matches RENAME TO gone"))
                await conn.execute(text("ALTER TABLE articles RENAME TO story_matches"))
            with pytest.raises(Exception, match=r"(?i)articles|column|relation"):
                await app.poller.poll_once()
            # Nothing waits for the 300 s lease: another worker may poll the feed right now.
            again = await app.store.due_feeds(NOW, 10, worker="next", lease=timedelta(minutes=5))
            assert [f.url for f in again] == [server.url("/a.xml")]
        finally:
            await app.close()


def lease_bot(tmp: Path, database_url: str, feed_url: str) -> BotProcess:
    """The bot polling one feed every tick (a console chat: no platform token)."""
    settings = {
        "allow_private_feeds": True, "poll_tick_seconds": TICK, "poll_interval_minutes": 0.01,
        "fetch_timeout_seconds": 120, "log_level": "WARNING",
    }  # fmt: skip
    return BotProcess(tmp, database_url, settings, [(feed_url, "A")])


@pytest.fixture
def hanging_feed() -> Iterator[FeedServer]:
    with FeedServer() as server:
        server.hang("/a.xml")
        yield server


async def test_a_bot_killed_mid_poll_polls_again_within_a_tick_of_restarting(
    database_url: str, hanging_feed: FeedServer, tmp_path: Path
) -> None:
    url = database_url.replace("+aiosqlite", "").replace("+asyncpg", "")
    bot = lease_bot(tmp_path, url, hanging_feed.url("/a.xml"))
    wait = hanging_feed.wait_for_requests
    try:
        bot.start()
        assert await asyncio.to_thread(wait, "/a.xml", 1, 60), "the bot never polled"
        bot.kill()  # SIGKILL while the fetch is in flight: the feed is claimed
        killed_at = datetime.now(UTC)
        claimed_until = await _claimed_until(database_url)
        assert claimed_until is not None and claimed_until <= killed_at + timedelta(seconds=TICK)
        hanging_feed.set("/a.xml", rss("Outlet A", []))
        bot.start()
        restarted = time.monotonic()
        assert await asyncio.to_thread(wait, "/a.xml", 2, 60), "the restarted bot never polled"
        # Start-up (imports, migrations) plus at most one tick; the old lease was 5 minutes.
        assert time.monotonic() - restarted < 30
    finally:
        await bot.stop()


async def _claimed_until(database_url: str) -> datetime | None:
    engine = make_engine(database_url)
    try:
        async with engine.connect() as conn:
            value: datetime | None = await conn.scalar(select(t.feeds.c.claimed_until))
            return value
    finally:
        await engine.dispose()
