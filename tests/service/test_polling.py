"""The poller on the in-memory store with a scripted feed reader: what a chat is sent when
a matching article arrives, arrives again, is reported by a second outlet, or a feed fails."""

from __future__ import annotations

from datetime import datetime, timedelta

from fakes.memory_store import MemoryStore
from fakes.notifier import ScriptedNotifier
from support import SettableClock
from world import MEETING_A, MEETING_B, T0, UNRELATED, Item

from bot.core.models import Article, Chat, MessageKind
from bot.core.outbox import OutboxStatus
from bot.services.outbound.delivery import Deliverer
from bot.services.outbound.digests import DigestService
from bot.services.poll.polling import Poller
from bot.services.poll.rulebook import RuleBook
from bot.services.ports import FeedReadResult, FeedRef
from bot.story_models import load_models

NEXT_POLL = timedelta(minutes=5)


class ScriptedReader:
    """Each feed answers its scripted results in order, then "not modified"; records reads."""

    def __init__(self) -> None:
        self.script: dict[int, list[FeedReadResult]] = {}
        self.reads: list[FeedRef] = []

    def publish(self, feed_id: int, now: datetime, *items: Item, source: str = "") -> None:
        articles = tuple(article(i, feed_id, source) for i in items)
        result = FeedReadResult(feed_id, now + NEXT_POLL, articles, title=source, etag="e1")
        self.script.setdefault(feed_id, []).append(result)

    def fail(self, feed_id: int, error: str, retry_at: datetime) -> None:
        self.script.setdefault(feed_id, []).append(FeedReadResult(feed_id, retry_at, error=error))

    async def read(self, feed: FeedRef, now: datetime) -> FeedReadResult:
        self.reads.append(feed)
        queued = self.script.get(feed.id)
        if queued:
            return queued.pop(0)
        return FeedReadResult(feed.id, now + NEXT_POLL, not_modified=True)


def article(item: Item, feed_id: int, source: str) -> Article:
    return Article(item.guid, feed_id, item.link, item.title, item.text, item.published, source)


class Bot:
    """The poller and the deliverer on one in-memory store, as `storywatch run` wires them."""

    def __init__(self) -> None:
        self.clock = SettableClock(T0.replace(hour=18))
        self.store, self.reader, self.notifier = MemoryStore(), ScriptedReader(), ScriptedNotifier()
        self.chat = self.store.add_chat("g1", self.clock.now())
        self.store.add_rule(self.chat, "S-400")
        now = self.clock.now()
        self.a = self.store.add_feed("http://a.example/rss", "Outlet A", now).id
        self.b = self.store.add_feed("http://b.example/rss", "Outlet B", now).id
        self.poller = self.new_poller()
        self.deliverer = Deliverer(self.store, {"console": self.notifier}, self.clock)

    def new_poller(self) -> Poller:
        rules = RuleBook(self.store)
        return Poller(
            self.store,
            self.reader,
            rules,
            self.clock,
            window=timedelta(hours=72),
            models=load_models(),
        )

    async def poll_and_deliver(self) -> None:
        await self.poller.poll_once()
        await self.deliverer.drain()

    def received(self, chat: Chat | None = None) -> list[tuple[str, str, int]]:
        """(action, headline, number of outlets) of each message the chat got."""
        to = (chat or self.chat).platform_id
        return [(c.action, c.message.story.headline, len(c.message.story.sources))  # type: ignore[union-attr]
                for c in self.notifier.delivered(to)]  # fmt: skip


async def test_a_matching_article_is_alerted_once_to_the_chat_whose_rule_matched() -> None:
    bot = Bot()
    other = bot.store.add_chat("g2", bot.clock.now())
    bot.store.add_rule(other, "frigate")
    bot.reader.publish(bot.a, bot.clock.now(), MEETING_A, source="Outlet A")
    report = await bot.poller.poll_once()
    assert (report.feeds, report.articles, report.messages) == (2, 1, 1)
    await bot.deliverer.drain()
    assert bot.received() == [("send", MEETING_A.title, 1)]
    assert bot.received(other) == []


async def test_an_article_seen_again_is_not_alerted_again_even_after_a_restart() -> None:
    bot = Bot()
    bot.reader.publish(bot.a, bot.clock.now(), MEETING_A, source="Outlet A")
    await bot.poll_and_deliver()
    bot.clock.advance(minutes=5)
    bot.reader.publish(bot.a, bot.clock.now(), MEETING_A, source="Outlet A")
    assert (await bot.poller.poll_once()).messages == 0
    bot.poller = bot.new_poller()  # a restarted bot: its story index is rebuilt from storage
    await bot.poller.restore()
    bot.clock.advance(minutes=5)
    bot.reader.publish(bot.a, bot.clock.now(), MEETING_A, source="Outlet A")
    assert (await bot.poller.poll_once()).messages == 0
    await bot.deliverer.drain()
    assert bot.received() == [("send", MEETING_A.title, 1)]
    assert len(bot.store.rows_of(bot.chat)) == 1


async def test_a_second_outlet_on_the_same_story_edits_the_alert_instead_of_a_new_alert() -> None:
    bot = Bot()
    bot.reader.publish(bot.a, bot.clock.now(), MEETING_A, UNRELATED, source="Outlet A")
    await bot.poll_and_deliver()
    bot.clock.advance(minutes=5)
    bot.reader.publish(bot.b, bot.clock.now(), MEETING_B, source="Outlet B")
    await bot.poll_and_deliver()
    assert bot.received() == [("send", MEETING_A.title, 1), ("edit", MEETING_A.title, 2)]
    [alert, edit] = bot.notifier.delivered("g1")
    assert edit.parent == alert.ref
    assert [r.kind for r in bot.store.rows_of(bot.chat)] == [MessageKind.ALERT, MessageKind.SOURCES]


async def test_a_second_outlet_while_the_alert_waits_for_quiet_hours_goes_into_the_alert() -> None:
    bot = Bot()
    bot.store.set_settings(bot.chat, quiet_start="18:00", quiet_end="23:00")
    bot.reader.publish(bot.a, bot.clock.now(), MEETING_A, source="Outlet A")
    await bot.poll_and_deliver()
    bot.clock.advance(minutes=5)
    bot.reader.publish(bot.b, bot.clock.now(), MEETING_B, source="Outlet B")
    await bot.poll_and_deliver()
    assert bot.received() == []
    bot.clock.at = bot.clock.at.replace(hour=23, minute=1)
    await bot.deliverer.drain()
    assert bot.received() == [("send", MEETING_A.title, 2)]  # one message, both outlets


async def test_a_failing_feed_keeps_its_error_and_is_not_read_again_before_its_backoff() -> None:
    bot = Bot()
    retry_at = bot.clock.now() + timedelta(minutes=10)
    bot.reader.fail(bot.a, "HTTP 503 Service Unavailable", retry_at)
    assert (await bot.poller.poll_once()).errors == 1
    feed = bot.store.feeds[bot.a]
    assert (feed.error_count, feed.last_error) == (1, "HTTP 503 Service Unavailable")

    bot.clock.at = retry_at - timedelta(seconds=1)
    await bot.poller.poll_once()
    assert [f.id for f in bot.reader.reads].count(bot.a) == 1  # not hammered while failing
    bot.clock.at = retry_at
    bot.reader.publish(bot.a, bot.clock.now(), MEETING_A, source="Outlet A")
    await bot.poll_and_deliver()
    [*_, last_read] = [f for f in bot.reader.reads if f.id == bot.a]
    assert last_read.error_count == 1  # the reader sees the count, to back off further
    assert (feed.error_count, feed.last_error, feed.etag) == (0, None, "e1")
    assert bot.received() == [("send", MEETING_A.title, 1)]


async def test_a_feed_only_another_chat_added_alerts_only_that_chat() -> None:
    bot = Bot()
    reader_chat = bot.store.add_chat("g2", bot.clock.now())
    bot.store.add_rule(reader_chat, "S-400")
    own = bot.store.add_feed(
        "http://own.example/rss", "Own", bot.clock.now(), readers=(reader_chat,)
    )
    bot.reader.publish(own.id, bot.clock.now(), MEETING_A, source="Own")
    await bot.poll_and_deliver()
    assert bot.received(reader_chat) == [("send", MEETING_A.title, 1)]
    assert bot.received() == []
    assert {r.status for r in bot.store.rows_of(reader_chat)} == {OutboxStatus.SENT}


async def test_an_article_read_again_does_not_bring_its_story_back_into_the_next_digest() -> None:
    bot = Bot()
    digests = DigestService(bot.store, bot.clock)
    bot.clock.advance(minutes=1)  # the chat subscribed a minute before the story came
    bot.reader.publish(bot.a, bot.clock.now(), MEETING_A, source="Outlet A")
    await bot.poll_and_deliver()
    bot.clock.at = T0.replace(day=24, hour=8)  # the chat's digest time (08:00 UTC)
    assert await digests.tick() == 1
    bot.clock.advance(hours=1)
    bot.reader.publish(bot.a, bot.clock.now(), MEETING_A, source="Outlet A")  # still listed
    await bot.poll_and_deliver()
    bot.clock.at = T0.replace(day=25, hour=8)
    assert await digests.tick() == 0  # nothing new since yesterday's digest
