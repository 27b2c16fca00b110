"""End to end over real HTTP on 127.0.0.1: poll -> outbox -> delivery, SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from feedserver import FeedServer
from support import rss
from world import DEVELOPMENT, MEETING_A, MEETING_B, T0, UNRELATED, Item, World, ask

from bot.core.models import AlertMessage, UpdateMessage
from bot.services.chat.ports import CommandContext
from bot.services.errors import DestinationGone, RateLimited


@pytest.fixture
async def world(database_url: str, tmp_path: Path) -> AsyncIterator[World]:
    with FeedServer() as server:
        w = World(server, database_url)
        app = await w.start()
        assert (await ask(app, "/watch S-400")).startswith("Watching #1")
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
    feeds = await ask(world.app, "/feeds")
    assert "entit" in feeds.lower() and "error" in feeds.lower()


async def test_a_feeds_old_backlog_is_remembered_but_never_alerted(world: World) -> None:
    old = Item(
        "S-400 deal signed",
        "Turkey signs the S-400 deal with Russia.",
        "http://outlet-a.example/2017/s400-deal",
        "a-2017",
        T0.replace(year=2017),
    )
    world.publish("a", old)
    await world.poll_and_deliver()
    world.publish("a", old, MEETING_A)
    await world.poll_and_deliver()
    [alert] = world.notifier.delivered
    assert isinstance(alert.message, AlertMessage)
    assert alert.message.story.headline == MEETING_A.title


async def test_a_feed_added_by_one_chat_alerts_only_that_chat(world: World) -> None:
    assert world.app is not None
    other = CommandContext("console", "other-chat", "bob", _yes)
    assert "Watching" in (await world.app.commands.handle(other, "/watch S-400")).text
    world.server.set("/own.xml", rss("Own Outlet", []))
    reply = await ask(world.app, f"/addfeed {world.server.url('/own.xml')}")
    assert reply.startswith("Added feed") and "Own Outlet" in reply

    world.server.set("/own.xml", rss("Own Outlet", [MEETING_A]))
    await world.poll_and_deliver()
    assert {d.to.platform_id for d in world.notifier.delivered} == {"console"}
    assert "Own Outlet (added here)" in await ask(world.app, "/feeds")


async def test_addfeed_refuses_a_page_that_is_not_a_feed(world: World) -> None:
    assert world.app is not None
    world.server.set("/page.html", b"<!doctype html><html><body>Hello</body></html>")
    reply = await ask(world.app, f"/addfeed {world.server.url('/page.html')}")
    assert reply.startswith("Could not add that feed:") and "HTML" in reply


async def _yes() -> bool:
    return True
