"""The digest service on the in-memory store: one digest per slot at the chat's local time,
across a daylight saving change, and what an empty slot does."""

from __future__ import annotations

from datetime import UTC, datetime

from fakes.memory_store import MemoryStore
from fakes.notifier import ScriptedNotifier
from support import SettableClock

from bot.core.alerts import NewMatch
from bot.core.models import Chat, ChatSettings, DigestMessage, Source, StoryView
from bot.services.outbound.delivery import Deliverer
from bot.services.outbound.digests import DigestService
from bot.services.records import PollBatch, StoryRecord

BERLIN = ChatSettings(timezone="Europe/Berlin", digest_time="08:00")
# Europe/Berlin moves from UTC+1 to UTC+2 at 01:00 UTC on Sunday 28 March 2021.
FRIDAY = datetime(2021, 3, 26, 12, 0, tzinfo=UTC)


async def matched(store: MemoryStore, chat: Chat, headline: str, at: datetime) -> None:
    """A story the chat's rule matched at `at`, written as a poll writes it."""
    story_id = headline.lower().replace(" ", "-")
    view = StoryView(story_id, headline, f"http://a.example/{story_id}", "Summary.",
                     (Source("Outlet A", f"http://a.example/{story_id}"),))  # fmt: skip
    batch = PollBatch(
        stories={story_id: StoryRecord(view, at, at)},
        matches=[NewMatch(chat.id, story_id, "S-400")],
    )
    await store.save_poll(batch, at)


def digest_items(notifier: ScriptedNotifier) -> list[tuple[str, list[str]]]:
    """Each delivered digest's title and headlines."""
    found = []
    for call in notifier.delivered():
        assert isinstance(call.message, DigestMessage)
        found.append(
            (call.message.title, [i.headline for s in call.message.sections for i in s.items])
        )
    return found


def setup() -> tuple[MemoryStore, SettableClock, ScriptedNotifier, DigestService, Deliverer, Chat]:
    store, clock, notifier = MemoryStore(), SettableClock(FRIDAY), ScriptedNotifier()
    chat = store.add_chat("g1", clock.now(), settings=BERLIN)
    digests = DigestService(store, clock)
    return store, clock, notifier, digests, Deliverer(store, {"console": notifier}, clock), chat


async def test_one_digest_per_slot_at_eight_local_before_and_after_the_clocks_change() -> None:
    store, clock, notifier, digests, deliverer, chat = setup()
    await matched(store, chat, "Blinken presses Turkey on S-400", FRIDAY.replace(hour=13))

    clock.at = datetime(2021, 3, 27, 6, 59, tzinfo=UTC)  # 07:59 in Berlin (UTC+1)
    assert await digests.tick() == 0
    clock.at = datetime(2021, 3, 27, 7, 0, tzinfo=UTC)  # 08:00 in Berlin
    assert await digests.tick() == 1
    clock.advance(minutes=1)
    assert await digests.tick() == 0  # the same slot never twice
    await deliverer.drain()
    assert digest_items(notifier) == [
        ("Your storywatch digest — Sat 27 Mar", ["Blinken presses Turkey on S-400"])
    ]

    await matched(store, chat, "Turkey keeps its S-400", datetime(2021, 3, 27, 12, tzinfo=UTC))
    clock.at = datetime(2021, 3, 28, 5, 59, tzinfo=UTC)  # 07:59 in Berlin, now UTC+2
    assert await digests.tick() == 0
    clock.at = datetime(2021, 3, 28, 6, 0, tzinfo=UTC)  # 08:00 in Berlin
    assert await digests.tick() == 1
    clock.at = datetime(2021, 3, 28, 7, 0, tzinfo=UTC)  # where a fixed UTC offset would put it
    assert await digests.tick() == 0
    await deliverer.drain()
    assert digest_items(notifier)[1:] == [
        ("Your storywatch digest — Sun 28 Mar", ["Turkey keeps its S-400"])
    ]


async def test_an_empty_slot_sends_nothing_and_later_stories_wait_for_the_next_slot() -> None:
    store, clock, notifier, digests, deliverer, chat = setup()
    clock.at = datetime(2021, 3, 27, 7, 0, tzinfo=UTC)  # 08:00 in Berlin, nothing matched yet
    assert await digests.tick() == 0
    await deliverer.drain()
    assert notifier.calls == []

    await matched(store, chat, "Blinken presses Turkey on S-400", clock.now().replace(hour=9))
    clock.at = datetime(2021, 3, 27, 10, 0, tzinfo=UTC)
    assert await digests.tick() == 0  # the empty slot was this morning's digest: no late one
    clock.at = datetime(2021, 3, 28, 6, 0, tzinfo=UTC)
    assert await digests.tick() == 1
    await deliverer.drain()
    assert digest_items(notifier) == [
        ("Your storywatch digest — Sun 28 Mar", ["Blinken presses Turkey on S-400"])
    ]


async def test_a_chat_subscribed_after_todays_slot_gets_its_first_digest_tomorrow() -> None:
    store, clock, _, digests, _, chat = setup()  # subscribed Friday 13:00 Berlin
    await matched(store, chat, "Blinken presses Turkey on S-400", FRIDAY.replace(hour=13))
    assert await digests.tick() == 0  # Friday's 08:00 was before it subscribed
    clock.at = datetime(2021, 3, 27, 7, 0, tzinfo=UTC)
    assert await digests.tick() == 1
