"""What a watch will catch, /preview and /digest now, end to end on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from feedserver import FeedServer
from world import MEETING_A, MEETING_B, UNRELATED, Item, World, ask

from bot.core.models import AlertMessage, DigestMessage


@pytest.fixture
async def world(database_url: str) -> AsyncIterator[World]:
    with FeedServer() as server:
        w = World(server, database_url)
        await w.start()
        yield w
        await w.stop()


async def _stories_polled(world: World) -> None:
    """Two outlets report the Brussels meeting (16:00, 17:00); the bot polls at 18:30."""
    world.publish("a", MEETING_A, UNRELATED)
    world.publish("b", MEETING_B)
    await world.poll_and_deliver()


async def test_watch_shows_the_recent_story_it_matches_with_its_outlets_and_age(
    world: World,
) -> None:
    await _stories_polled(world)
    assert world.app is not None
    reply = await ask(world.app, "/watch S-400")
    first, heading, line, *rest = reply.split("\n")
    assert (first, heading) == ("Watching #1: S-400", "Recent matches:")
    assert line.startswith("• ") and "S-400" in line
    assert "Outlet A, Outlet B" in line and line.endswith("(1 h ago)")  # B's report: 17:00
    assert rest == []  # one event, one story: shown once
    nothing = await ask(world.app, "/watch Eurofighter")
    assert nothing == "Watching #2: Eurofighter\nNothing in the last 72 h yet."


async def test_watch_does_not_show_stories_older_than_the_window(world: World) -> None:
    await _stories_polled(world)
    assert world.app is not None
    world.clock.advance(hours=80)
    assert (await ask(world.app, "/watch S-400")).endswith("Nothing in the last 72 h yet.")


async def test_preview_shows_the_same_and_stores_nothing(world: World) -> None:
    await _stories_polled(world)
    assert world.app is not None
    reply = await ask(world.app, "/preview Cavusoglu")
    assert reply.startswith("Preview of Cavusoglu (not saved")
    assert "\nRecent matches:\n• " in reply and "Outlet A" in reply
    assert await ask(world.app, "/watchlist") == "No rules yet. Add one with /watch S-400."
    assert (await ask(world.app, "/preview (S-400")).startswith("Unbalanced")
    world.publish("c", Item("Cavusoglu speaks again", "Cavusoglu said more.",
                            "http://outlet-c.example/x", "c-9", world.clock.now()))  # fmt: skip
    await world.poll_and_deliver()
    assert world.notifier.delivered == []  # nothing was saved, so nothing is alerted


async def test_digest_now_sends_once_and_the_scheduled_digest_still_comes(world: World) -> None:
    assert world.app is not None
    await ask(world.app, "/watch S-400")
    await _stories_polled(world)
    assert [type(d.message) for d in world.notifier.delivered] == [AlertMessage]

    reply = await ask(world.app, "/digest now")
    assert reply.startswith("Your digest is on its way.") and "2021-03-24 08:00 UTC" in reply
    assert await ask(world.app, "/digest now") == "A digest is already on its way here."
    await world.app.deliverer.drain()
    await world.app.deliverer.drain()
    digests = [d.message for d in world.notifier.delivered if isinstance(d.message, DigestMessage)]
    assert len(digests) == 1 and "S-400" in digests[0].sections[0].items[0].headline

    world.clock.advance(hours=13, minutes=31)  # 2021-03-24 08:01 UTC: the 08:00 slot
    assert await world.app.digests.tick() == 1
    await world.app.deliverer.drain()
    digests = [d.message for d in world.notifier.delivered if isinstance(d.message, DigestMessage)]
    assert len(digests) == 2


async def test_digest_now_with_nothing_new_says_so(world: World) -> None:
    assert world.app is not None
    await ask(world.app, "/watch S-400")
    assert await ask(world.app, "/digest now") == (
        "Nothing since the last digest, so there is no digest to send now."
    )
    await world.app.deliverer.drain()
    assert world.notifier.delivered == []
