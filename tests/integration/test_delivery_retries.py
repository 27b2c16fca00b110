"""The retry / back-off / give-up path, one test per outcome, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from support import RecordingNotifier, SettableClock

from bot.core.alerts import PlannedMessage
from bot.core.models import AlertMessage, Highlight, MessageKind, Source, StoryView, UpdateMessage
from bot.core.outbox import RetryPolicy
from bot.services.errors import (
    DeliveryError,
    DestinationGone,
    MessageGone,
    MessageRejected,
    RateLimited,
)
from bot.services.errors import TransientError as Transient
from bot.services.outbound.delivery import Deliverer
from bot.services.records import PollBatch
from bot.storage.store import SqlStore

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
CAP = timedelta(minutes=5)


def _view(story: str) -> StoryView:
    return StoryView(story, f"headline {story}", f"http://x/{story}", "", ())


def _alert(chat_id: int, story: str) -> PlannedMessage:
    message = AlertMessage(_view(story), Highlight(""))
    return PlannedMessage(chat_id, story, MessageKind.ALERT, "", message, NOW)


def _update(chat_id: int, story: str) -> PlannedMessage:
    message = UpdateMessage(_view(story), f"news on {story}", Source("Outlet", "http://x/"))
    return PlannedMessage(chat_id, story, MessageKind.UPDATE, "u1", message, NOW)


class Bench:
    """A store with chats, a recording notifier that fails as told, and a hand-moved clock."""

    def __init__(self, store: SqlStore, max_attempts: int = 50) -> None:
        self.store, self.clock = store, SettableClock(NOW)
        self.notifier = RecordingNotifier()
        policy = RetryPolicy(max_attempts=max_attempts, max_backoff=CAP)
        self.deliverer = Deliverer(
            store, {"console": self.notifier}, self.clock, policy=policy, lease_seconds=60
        )

    async def chat(self, name: str) -> int:
        return (await self.store.upsert_chat("console", name, None, "u", NOW)).id

    async def queue(self, *messages: PlannedMessage) -> None:
        await self.store.save_poll(PollBatch(messages=list(messages)), self.clock.now())

    def fail(self, *errors: DeliveryError) -> None:
        self.notifier.failures.extend(errors)

    def headlines(self) -> list[str]:
        return [d.message.story.headline for d in self.notifier.delivered]  # type: ignore[union-attr]

    async def round_after(self, wait: timedelta) -> None:
        self.clock.at += wait
        await self.deliverer.deliver_once()


async def test_429s_never_count_so_four_then_a_502_is_still_delivered(store: SqlStore) -> None:
    bench = Bench(store, max_attempts=5)
    chat = await bench.chat("a")
    await bench.queue(_alert(chat, "s1"))
    bench.fail(*[RateLimited(1)] * 4, Transient("HTTP 502 Bad Gateway"))

    report = await bench.deliverer.deliver_once()
    for _ in range(4):  # three more 429s, then the 502
        await bench.round_after(timedelta(seconds=1))
    assert (report.retried, bench.notifier.delivered) == (1, [])
    await bench.round_after(timedelta(seconds=5))  # the 502's first back-off

    assert bench.headlines() == ["headline s1"]


async def test_a_rate_limit_keeps_the_message_first_in_its_chat(store: SqlStore) -> None:
    bench = Bench(store, max_attempts=2)
    chat = await bench.chat("a")
    await bench.queue(_alert(chat, "s1"), _alert(chat, "s2"))
    bench.fail(*[RateLimited(30)] * 25)

    for _ in range(25):
        await bench.deliverer.deliver_once()
        assert bench.notifier.delivered == []  # nothing overtakes the waiting head
        bench.clock.at += timedelta(seconds=30)
    await bench.deliverer.drain()

    assert bench.headlines() == ["headline s1", "headline s2"]


async def test_a_transient_error_backs_off_but_never_longer_than_the_cap(store: SqlStore) -> None:
    bench = Bench(store)
    chat = await bench.chat("a")
    await bench.queue(_alert(chat, "s1"), _alert(chat, "s2"))
    bench.fail(*[Transient("timed out")] * 12)  # uncapped, the 12th wait would be 2.8 hours

    await bench.deliverer.deliver_once()
    for _ in range(11):
        await bench.round_after(CAP)  # each retry is due at most CAP after the last failure
    assert bench.notifier.delivered == []
    await bench.round_after(CAP)
    await bench.round_after(timedelta(0))

    assert bench.headlines() == ["headline s1", "headline s2"]


async def test_a_transient_error_waits_its_back_off_before_the_retry(store: SqlStore) -> None:
    bench = Bench(store)
    chat = await bench.chat("a")
    await bench.queue(_alert(chat, "s1"))
    bench.fail(Transient("HTTP 503"), Transient("HTTP 503"))

    await bench.deliverer.deliver_once()
    await bench.round_after(timedelta(seconds=4))  # the first back-off is 5 s
    assert len(bench.notifier.failures) == 1
    await bench.round_after(timedelta(seconds=1))  # retried, fails again: now 10 s
    await bench.round_after(timedelta(seconds=9))
    assert bench.notifier.delivered == []
    await bench.round_after(timedelta(seconds=1))

    assert bench.headlines() == ["headline s1"]


async def test_after_n_real_failures_the_message_is_given_up_and_the_queue_moves_on(
    store: SqlStore,
) -> None:
    bench = Bench(store, max_attempts=3)
    chat = await bench.chat("a")
    await bench.queue(_alert(chat, "poison"), _alert(chat, "s2"))
    bench.fail(Transient("500"), RateLimited(1), Transient("500"), Transient("500"))

    await bench.deliverer.deliver_once()  # real failure 1
    await bench.round_after(CAP)  # a 429: not counted
    await bench.round_after(CAP)  # real failure 2
    bench.clock.at += CAP
    report = await bench.deliverer.deliver_once()  # real failure 3: given up
    await bench.round_after(timedelta(0))
    await bench.round_after(CAP)

    assert report.failed == 1
    assert bench.headlines() == ["headline s2"]
    assert (await store.chat_status(chat)).pending == 0


async def test_a_blocked_bot_deactivates_the_chat_and_cancels_only_its_queue(
    store: SqlStore,
) -> None:
    bench = Bench(store)
    gone, other = await bench.chat("gone"), await bench.chat("other")
    await bench.queue(_alert(gone, "s1"), _alert(gone, "s2"), _alert(other, "s3"))
    bench.fail(DestinationGone("Forbidden: bot was blocked by the user"))

    report = await bench.deliverer.drain()

    assert report.deactivated == 1
    assert bench.headlines() == ["headline s3"]
    assert [c.platform_id for c in await store.active_chats()] == ["other"]
    assert (await store.chat_status(gone)).pending == 0


async def test_an_update_whose_alert_was_deleted_is_sent_as_a_new_message(
    store: SqlStore,
) -> None:
    bench = Bench(store)
    chat = await bench.chat("a")
    await bench.queue(_alert(chat, "s1"))
    await bench.deliverer.drain()
    await bench.queue(_update(chat, "s1"))
    bench.fail(MessageGone("Bad Request: message to be replied not found"))

    report = await bench.deliverer.drain()

    assert report.sent == 1
    assert bench.notifier.actions() == ["send", "send"]


async def test_a_message_the_platform_refuses_is_given_up_after_three_tries(
    store: SqlStore,
) -> None:
    bench = Bench(store)  # 50 attempts for transient errors; a refusal gets three
    chat = await bench.chat("a")
    await bench.queue(_alert(chat, "malformed"), _alert(chat, "s2"))
    bench.fail(*[MessageRejected("Bad Request: can't parse entities")] * 3)

    await bench.deliverer.deliver_once()
    await bench.round_after(timedelta(seconds=5))
    bench.clock.at += timedelta(seconds=10)
    report = await bench.deliverer.deliver_once()
    await bench.round_after(timedelta(0))

    assert report.failed == 1
    assert bench.headlines() == ["headline s2"]  # 15 s behind the refused one, not hours
