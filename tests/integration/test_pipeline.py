"""End to end over real HTTP on 127.0.0.1: poll -> outbox -> delivery, SQLite and PostgreSQL."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from feedserver import FeedServer
from support import Item, RecordingNotifier, SettableClock, rss

from bot.app import App, build_app
from bot.core.models import AlertMessage, UpdateMessage
from bot.services.ports import CommandContext, DestinationGone, RateLimited
from bot.settings import FeedConfig, Settings

T0 = datetime(2021, 3, 23, 16, 0, tzinfo=UTC)

MEETING_A = Item(
    "Blinken and Cavusoglu clash over S-400 at NATO meeting in Brussels",
    "US Secretary of State Antony Blinken pressed Turkish Foreign Minister Mevlut Cavusoglu in "
    "Brussels to drop the Russian S-400 air defense system. Turkey says the purchase is final.",
    "http://outlet-a.example/s400-brussels?utm_source=rss",
    "a-1",
    T0,
)
MEETING_B = Item(
    "Blinken tells Turkey to give up Russian S-400 system",
    "Antony Blinken told Mevlut Cavusoglu at the NATO meeting in Brussels that Turkey should not "
    "keep the Russian S-400 air defense system, the State Department said.",
    "http://outlet-b.example/blinken-s400",
    "b-1",
    T0.replace(hour=17),
)
DEVELOPMENT = Item(
    "Cavusoglu rejects Blinken's S-400 demand, says second battery talks near end",
    "Mevlut Cavusoglu said Turkey will keep the Russian S-400 air defense system despite Antony "
    'Blinken\'s demand in Brussels. "Talks on a second S-400 battery are in their final stage," '
    "Cavusoglu said, adding that a contract is expected within 60 days.",
    "http://outlet-c.example/second-battery",
    "c-1",
    T0.replace(day=24, hour=8),
)
UNRELATED = Item(
    "Dutch navy commissions a new frigate",
    "The frigate joins the fleet at Den Helder on Tuesday.",
    "http://outlet-a.example/frigate",
    "a-0",
    T0,
)


async def _ask(app: App, text: str) -> str:
    async def admin() -> bool:
        return True

    ctx = CommandContext("console", "console", "tester", admin)
    return (await app.commands.handle(ctx, text)).text


class World:
    """Three outlets on a local feed server, the bot, and what the chat received."""

    def __init__(self, server: FeedServer, database_url: str, tmp: Path) -> None:
        self.server, self.database_url = server, database_url
        self.clock = SettableClock(T0.replace(hour=18))
        self.notifier = RecordingNotifier()
        self.app: App | None = None
        for name in ("a", "b", "c"):
            server.set(f"/{name}.xml", rss(f"Outlet {name.upper()}", []))

    async def start(self) -> App:
        feeds = [FeedConfig(url=self.server.url(f"/{n}.xml"), name=n) for n in "abc"]
        settings = Settings(database_url=self.database_url, allow_private_feeds=True, feeds=feeds)
        console = (io.StringIO(), io.StringIO())
        self.app = await build_app(
            settings, clock=self.clock, console=console, notifiers={"console": self.notifier}
        )
        return self.app

    async def stop(self) -> None:
        if self.app is not None:
            await self.app.close()
            self.app = None

    def publish(self, outlet: str, *items: Item) -> None:
        self.server.set(f"/{outlet}.xml", rss(f"Outlet {outlet.upper()}", list(items)))

    async def poll_and_deliver(self) -> None:
        assert self.app is not None
        self.clock.advance(minutes=30)
        await self.app.poller.poll_once()
        await self.app.deliverer.drain()


@pytest.fixture
async def world(database_url: str, tmp_path: Path) -> AsyncIterator[World]:
    with FeedServer() as server:
        w = World(server, database_url, tmp_path)
        app = await w.start()
        assert (await _ask(app, "/watch S-400")).startswith("Watching #1")
        yield w
        await w.stop()


async def test_two_outlets_one_alert_then_development_threads_under_it(world: World) -> None:
    world.publish("a", MEETING_A, UNRELATED)
    world.publish("b", MEETING_B)
    await world.poll_and_deliver()

    [alert] = world.notifier.delivered
    assert alert.action == "send" and isinstance(alert.message, AlertMessage)
    assert [s.name for s in alert.message.story.sources] == ["Outlet A", "Outlet B"]
    assert "utm_source" not in alert.message.story.url

    world.publish("c", DEVELOPMENT)
    await world.poll_and_deliver()
    actions = world.notifier.delivered[1:]
    update = next(d for d in actions if d.action == "reply")
    assert update.parent == alert.ref and isinstance(update.message, UpdateMessage)
    assert "60 days" in update.message.whats_new or "second" in update.message.whats_new
    edit = next(d for d in actions if d.action == "edit")
    assert edit.parent == alert.ref and len(edit.message.story.sources) == 3  # type: ignore[union-attr]


async def test_an_item_seen_again_with_edited_title_is_not_alerted_twice(world: World) -> None:
    world.publish("a", MEETING_A)
    await world.poll_and_deliver()
    edited = Item(
        "UPDATED: " + MEETING_A.title,
        MEETING_A.text,
        MEETING_A.link,
        MEETING_A.guid,
        T0.replace(day=25),
    )
    world.publish("a", edited)
    await world.poll_and_deliver()
    assert world.notifier.actions() == ["send"]


async def test_a_crash_between_polling_and_sending_loses_nothing(world: World) -> None:
    world.publish("a", MEETING_A)
    assert world.app is not None
    world.clock.advance(minutes=30)
    await world.app.poller.poll_once()
    await world.stop()  # "crash": planned but never delivered

    await world.start()
    assert world.app is not None
    await world.app.deliverer.drain()
    await world.poll_and_deliver()
    assert world.notifier.actions() == ["send"]


async def test_a_restarted_bot_continues_the_same_story(world: World) -> None:
    world.publish("a", MEETING_A)
    await world.poll_and_deliver()
    await world.stop()
    await world.start()
    world.publish("c", DEVELOPMENT)
    await world.poll_and_deliver()
    assert "reply" in world.notifier.actions()
    assert all(d.action != "send" for d in world.notifier.delivered[1:])


async def test_rate_limit_waits_and_keeps_order(world: World) -> None:
    world.notifier.failures = [RateLimited(30)]
    world.publish("a", MEETING_A)
    await world.poll_and_deliver()
    assert world.notifier.delivered == []
    world.publish("c", DEVELOPMENT)
    await world.poll_and_deliver()  # 30 minutes later: the alert goes first, then the update
    assert world.notifier.actions()[0] == "send"
    assert "reply" in world.notifier.actions()


async def test_a_blocked_chat_is_deactivated_and_gets_nothing_more(world: World) -> None:
    world.notifier.failures = [DestinationGone("bot was blocked by the user")]
    world.publish("a", MEETING_A)
    await world.poll_and_deliver()
    world.publish("c", DEVELOPMENT)
    await world.poll_and_deliver()
    assert world.notifier.delivered == []
    assert world.app is not None
    assert await world.app.store.active_chats() == []


async def test_a_hostile_feed_is_an_error_the_chat_can_see_and_others_still_work(
    world: World,
) -> None:
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]><rss><channel><title>&b;</title>'
        b"</channel></rss>"
    )
    world.server.set("/b.xml", bomb)
    world.publish("a", MEETING_A)
    await world.poll_and_deliver()
    assert world.notifier.actions() == ["send"]
    assert world.app is not None
    feeds = await _ask(world.app, "/feeds")
    assert "entit" in feeds.lower() and "error" in feeds.lower()
