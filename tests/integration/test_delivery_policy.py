"""Delivery policy end to end: quiet hours fold, digest mode, mute across restarts, pause,
and new outlets reported while the alert (or its edit) is on its way."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta

import pytest
from feedserver import FeedServer
from support import Delivered, Item, RecordingNotifier
from world import DEVELOPMENT, MEETING_A, MEETING_B, T0, UNRELATED, World, ask

from bot.core.models import (
    AlertMessage,
    DigestMessage,
    NoticeMessage,
    OutboundMessage,
    UpdateMessage,
)
from bot.services.chat.ports import CommandContext
from bot.services.ports import Address


@pytest.fixture
async def world(database_url: str) -> AsyncIterator[World]:
    with FeedServer() as server:
        w = World(server, database_url)
        app = await w.start()
        await ask(app, "/watch S-400")
        await ask(app, "/watch frigate")
        yield w
        await w.stop()


async def _admin() -> bool:
    return True


async def test_alerts_in_quiet_hours_wait_and_arrive_folded_into_one_message(world: World) -> None:
    assert world.app is not None
    await ask(world.app, "/quiet 18:00-23:00")
    world.publish("a", MEETING_A, UNRELATED)
    await world.poll_and_deliver()  # 18:30: inside quiet hours
    assert world.notifier.delivered == []

    world.clock.at = T0.replace(hour=23, minute=1)
    await world.app.deliverer.drain()
    [folded] = world.notifier.delivered
    assert isinstance(folded.message, NoticeMessage)
    assert len(folded.message.stories) == 2 and "2 stories" in folded.message.text

    world.publish("c", DEVELOPMENT)
    await world.poll_and_deliver()
    replies = [d for d in world.notifier.delivered if d.action == "reply"]
    assert len(replies) == 1 and replies[0].parent == folded.ref


async def test_a_chat_in_digest_mode_gets_no_alert_and_one_digest_at_its_time(
    world: World,
) -> None:
    assert world.app is not None
    await ask(world.app, "/mode digest")
    await ask(world.app, "/timezone Europe/Istanbul")  # 08:00 there is 06:00 UTC in March
    world.publish("a", MEETING_A)
    world.publish("b", MEETING_B)
    await world.poll_and_deliver()
    assert world.notifier.delivered == []

    world.clock.at = T0.replace(day=24, hour=6, minute=0, second=30)
    assert await world.app.digests.tick() == 1
    assert await world.app.digests.tick() == 0  # the same slot never twice
    await world.app.deliverer.drain()
    [digest] = world.notifier.delivered
    assert isinstance(digest.message, DigestMessage)
    [item] = [i for s in digest.message.sections for i in s.items]
    assert "S-400" in item.headline and item.source_count == 2
    assert item.outlets == ("Outlet A", "Outlet B")  # the digest line names them


async def test_the_missed_digest_after_downtime_is_sent_once(world: World) -> None:
    assert world.app is not None
    world.publish("a", MEETING_A)
    await world.poll_and_deliver()
    await world.stop()
    world.clock.at += timedelta(days=3)  # the bot was down for three digest times
    app = await world.start()
    assert await app.digests.tick() == 1
    await world.stop()
    app = await world.start()
    assert await app.digests.tick() == 0


async def test_a_muted_story_stays_muted_across_a_restart(world: World) -> None:
    assert world.app is not None
    world.publish("a", MEETING_A)
    await world.poll_and_deliver()
    [alert] = world.notifier.delivered
    assert isinstance(alert.message, AlertMessage)
    ctx = CommandContext("console", "console", "tester", _admin)
    reply = await world.app.commands.on_button(ctx, f"mute:{alert.message.story.story_id}")
    assert reply.text.startswith("Muted")

    await world.stop()
    await world.start()
    world.publish("c", DEVELOPMENT)
    await world.poll_and_deliver()
    assert [d.action for d in world.notifier.delivered] == ["send"]


async def test_pause_holds_everything_until_resume(world: World) -> None:
    assert world.app is not None
    await ask(world.app, "/pause")
    world.publish("a", MEETING_A)
    await world.poll_and_deliver()
    assert world.notifier.delivered == []
    assert "1 held message" in await ask(world.app, "/resume")
    await world.app.deliverer.drain()
    assert [d.action for d in world.notifier.delivered] == ["send"]


class SlowToAnswer(RecordingNotifier):
    """A platform that takes a new message (or an edit), then answers only when told to."""

    def __init__(self, action: str) -> None:
        super().__init__()
        self.action, self.arrived, self.answer = action, asyncio.Event(), asyncio.Event()

    async def _slowly(self, action: str) -> None:
        if action == self.action:
            self.arrived.set()
            await self.answer.wait()

    async def send(self, to: Address, message: OutboundMessage) -> str:
        await self._slowly("send")
        return await super().send(to, message)

    async def edit(self, to: Address, ref: str, message: OutboundMessage) -> str:
        await self._slowly("edit")
        return await super().edit(to, ref, message)


async def _reported_while_on_its_way(world: World, outlet: str, *items: Item) -> None:
    """Deliver; while the platform holds the message, the next poll finds `items`."""
    assert world.app is not None and isinstance(world.notifier, SlowToAnswer)
    sending = asyncio.create_task(world.app.deliverer.deliver_once())
    await asyncio.wait_for(world.notifier.arrived.wait(), 5)  # the message is on its way
    world.publish(outlet, *items)
    world.clock.advance(seconds=1)
    await world.app.poller.poll_once()
    world.notifier.answer.set()
    await sending
    await world.app.deliverer.drain()


@pytest.fixture
async def slow_world(
    database_url: str, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> AsyncIterator[World]:
    """A chat watching S-400 on a platform slow to answer `request.param` (send or edit)."""
    monkeypatch.setenv("STORYWATCH_POLL_INTERVAL_MINUTES", "0.01")  # the next poll within seconds
    with FeedServer() as server:
        world = World(server, database_url)
        world.notifier = SlowToAnswer(request.param)
        await ask(await world.start(), "/watch S-400")
        yield world
        await world.stop()


def _sources(delivered: Delivered) -> list[str]:
    assert isinstance(delivered.message, AlertMessage | UpdateMessage), delivered
    return [source.name for source in delivered.message.story.sources]


@pytest.mark.parametrize("slow_world", ["send"], indirect=True)
async def test_a_second_outlet_reported_while_the_alert_is_sent_reaches_the_alert(
    slow_world: World,
) -> None:
    """The alert was being sent when the next poll found a second outlet: the poll used to
    rewrite the alert's stored text (as if it were still waiting), the send then marked it
    sent with the old text, and the chat never learnt of the second outlet."""
    assert slow_world.app is not None
    slow_world.publish("a", MEETING_A)
    await slow_world.app.poller.poll_once()
    await _reported_while_on_its_way(slow_world, "b", MEETING_B)
    alert, edit = slow_world.notifier.delivered
    assert (alert.action, edit.action, edit.ref) == ("send", "edit", alert.ref)
    assert _sources(edit) == ["Outlet A", "Outlet B"]


@pytest.mark.parametrize("slow_world", ["edit"], indirect=True)
async def test_a_third_outlet_reported_while_the_sources_edit_is_sent_reaches_the_alert(
    slow_world: World,
) -> None:
    """The story's one edit row was being sent (Outlet B) when the next poll re-armed it
    with Outlet C: marking the old edit sent used to overwrite the re-armed row, so the
    alert never showed Outlet C."""
    assert slow_world.app is not None
    slow_world.publish("a", MEETING_A)
    await slow_world.poll_and_deliver()
    slow_world.publish("b", MEETING_B)
    slow_world.clock.advance(seconds=1)
    await slow_world.app.poller.poll_once()
    third = replace(DEVELOPMENT, published=MEETING_B.published + timedelta(minutes=30))
    await _reported_while_on_its_way(slow_world, "c", third)
    edits = [d for d in slow_world.notifier.delivered if d.action == "edit"]
    assert _sources(edits[-1]) == ["Outlet A", "Outlet B", "Outlet C"]
