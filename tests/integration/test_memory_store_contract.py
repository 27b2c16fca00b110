"""The in-memory store of the service tests answers as SqlStore does, on SQLite and PostgreSQL:
the same calls through the ports (delivery, digests, polling, rules) give the same transcript,
so a service test on the fake fails where the service would misbehave on a real database."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from fakes.memory_store import MemoryStore
from sqlalchemy import select

from bot.core.alerts import NewMatch, PlannedMessage
from bot.core.codec import to_payload
from bot.core.digest import DigestEntry
from bot.core.models import (
    AlertMessage,
    Article,
    Chat,
    DigestMessage,
    Highlight,
    MessageKind,
    Source,
    StoryKind,
    StoryView,
)
from bot.services.ports import FeedReadResult, FeedRef
from bot.services.records import OutboxRow, PollBatch, StoredArticle, StoryRecord
from bot.storage.store import SqlStore
from bot.storage.tables import feeds

T = datetime(2021, 3, 23, 18, 0, tzinfo=UTC)
Store = MemoryStore | SqlStore


def at(**delta: float) -> datetime:
    return T + timedelta(**delta)


class Seed:
    """Set-up outside the ports under test, done as each store does it (commands, config)."""

    def __init__(self, store: Store) -> None:
        self.store, self.defaults = store, list[tuple[str, str]]()

    async def chat(self, name: str) -> Chat:
        if isinstance(self.store, MemoryStore):
            return self.store.add_chat(name, T)
        return await self.store.upsert_chat("console", name, None, "owner", T)

    async def feed(self, url: str, reader: Chat | None = None) -> int:
        if isinstance(self.store, MemoryStore):
            return self.store.add_feed(url, url, T, readers=(reader,) if reader else ()).id
        if reader is not None:
            return (await self.store.add_chat_feed(reader.id, url, url, T)).id
        self.defaults.append((url, url))
        await self.store.sync_default_feeds(self.defaults, T)
        async with self.store.engine.connect() as conn:
            return int(await conn.scalar(select(feeds.c.id).where(feeds.c.url == url)))

    async def rule(self, chat: Chat, query: str) -> None:
        if isinstance(self.store, MemoryStore):
            self.store.add_rule(chat, query)
        else:
            await self.store.add_rule(chat.id, query, 50, T)

    async def mute(self, chat: Chat, story_id: str) -> None:
        if isinstance(self.store, MemoryStore):
            self.store.add_mute(chat, story_id)
        else:
            await self.store.mute(chat.id, story_id)


def view(n: int, outlets: int = 1) -> StoryView:
    sources = tuple(Source(f"Outlet {i}", f"http://o{i}.example/{n}") for i in range(outlets))
    return StoryView(f"s{n}", f"Headline {n}", f"http://o0.example/{n}", "Summary.", sources)


def planned(
    chat: Chat, n: int, when: datetime, kind: MessageKind = MessageKind.ALERT, *,
    outlets: int = 1, held: bool = False, deferred: bool = False,
) -> PlannedMessage:  # fmt: skip
    message = AlertMessage(view(n, outlets), Highlight(f"snippet {n}"))
    return PlannedMessage(chat.id, f"s{n}", kind, "", message, when, held, deferred)


def seen(rows: list[OutboxRow]) -> list[tuple[object, ...]]:
    return [(r.chat.platform_id, r.story_id, r.kind.value, r.attempts, r.deferred,
             len(r.payload.get("story", {}).get("sources", ()))) for r in rows]  # fmt: skip


async def outbox_transcript(store: Store, seed: Seed) -> list[object]:
    out: list[object] = []

    async def claim(when: datetime) -> list[OutboxRow]:
        rows = await store.claim_due(when, 10, 60)
        out.append(seen(rows))
        return rows

    g1, g2 = await seed.chat("g1"), await seed.chat("g2")
    await store.save_poll(PollBatch(messages=[
        planned(g1, 1, T), planned(g1, 2, T), planned(g2, 3, T),
        planned(g1, 4, at(hours=1), deferred=True), planned(g1, 5, at(hours=1), deferred=True),
    ]), T)  # fmt: skip
    s1, s3 = await claim(T)
    await claim(T)  # leased
    await store.mark_retry(s1.id, at(seconds=30), "429", counts_attempt=False)
    await store.mark_sent(s3.id, "m3", T)
    await claim(at(seconds=10))  # s2 waits behind s1
    [s1] = await claim(at(seconds=30))
    await store.mark_retry(s1.id, at(seconds=40), "timeout")
    [s1] = await claim(at(seconds=40))
    await store.mark_failed(s1.id, "400 rejected")
    [s2] = await claim(at(seconds=40))
    await store.mark_sent(s2.id, "m2", at(seconds=41))
    out.append([await store.alert_ref(g1.id, s) for s in ("s1", "s2", "s3")])
    [s4] = await claim(at(hours=1))
    [s5] = await store.take_deferred_alerts(g1.id, at(hours=1), 60)
    out.append(seen([s5]))
    for row in (s4, s5):
        await store.mark_sent(row.id, "m4", at(hours=1), folded=True)
    out.append(await store.alert_ref(g1.id, "s5"))
    # A sent alert gets a queued edit; a held alert is rewritten in place.
    await store.save_poll(PollBatch(messages=[
        planned(g1, 2, at(hours=2), MessageKind.SOURCES, outlets=2),
        planned(g2, 6, at(hours=2), held=True),
    ]), at(hours=2))  # fmt: skip
    await store.save_poll(PollBatch(messages=[
        planned(g2, 6, at(hours=2), MessageKind.SOURCES, outlets=3, held=True)
    ]), at(hours=2))  # fmt: skip
    await claim(at(hours=2))
    out.append(await store.release_held(g2.id))
    await claim(at(hours=2))
    await store.deactivate_chat(g2.id, "blocked")
    out.append([c.platform_id for c in await store.active_chats()])
    await claim(at(hours=3))
    return out


def entries(found: list[DigestEntry]) -> list[tuple[object, ...]]:
    return [(e.rule_label, e.story_id, e.outlets, e.developments, e.last_seen) for e in found]


async def digest_transcript(store: Store, seed: Seed) -> list[object]:
    g1 = await seed.chat("g1")
    out: list[object] = [await store.last_digest_at(g1.id)]
    batch = PollBatch(stories={"s1": StoryRecord(view(1), at(hours=1), at(hours=1))},
                      matches=[NewMatch(g1.id, "s1", "S-400")])  # fmt: skip
    await store.save_poll(batch, at(hours=1))
    out.append(entries(await store.digest_entries(g1.id, T)))
    slot, payload = at(hours=14), to_payload(DigestMessage("Your digest", ()))
    out += [await store.enqueue_digest(g1.id, slot, payload, slot) for _ in range(2)]
    out.append(await store.last_digest_at(g1.id))
    out.append(seen(await store.claim_due(slot, 10, 60)))
    out.append(await store.enqueue_digest(g1.id, at(hours=38), None, at(hours=38)))
    out.append(await store.last_digest_at(g1.id))
    out.append(entries(await store.digest_entries(g1.id, slot)))
    grown = PollBatch(stories={"s1": StoryRecord(view(1, 2), at(hours=1), at(hours=39), 1)})
    await store.save_poll(grown, at(hours=39))
    out.append(entries(await store.digest_entries(g1.id, at(hours=38))))
    return out


def refs(feeds: list[FeedRef]) -> list[tuple[object, ...]]:
    return sorted((f.id, f.url, f.etag, f.error_count) for f in feeds)


async def poll_transcript(store: Store, seed: Seed) -> list[object]:
    g1, g2 = await seed.chat("g1"), await seed.chat("g2")
    await seed.rule(g1, "S-400")
    await seed.rule(g2, "frigate")
    a = await seed.feed("http://a.example/rss")
    b = await seed.feed("http://b.example/rss", reader=g1)
    lease = timedelta(seconds=30)

    async def due(when: datetime, worker: str) -> list[tuple[object, ...]]:
        return refs(await store.due_feeds(when, 10, worker=worker, lease=lease))

    out: list[object] = [await due(T, "w1"), await due(T, "w2")]
    await store.release_feeds([a], "w2")  # not its claim: nothing changes
    out.append(await due(T, "w2"))
    await store.release_feeds([a], "w1")
    out.append(await due(T, "w2"))
    await store.renew_feed_claims([a, b], "w2", at(minutes=1))
    out += [await due(at(seconds=31), "w3"), await store.feed_audience([a, b])]
    article = Article("x-1", b, "http://b.example/1", "S-400 talks", "Text.", T, "B")
    await store.save_poll(PollBatch(
        feed_results=[FeedReadResult(a, at(minutes=10), error="HTTP 503"),
                      FeedReadResult(b, at(minutes=5), etag="e1", title="B")],
        articles=[StoredArticle(article, "s1", StoryKind.NEW)],
        stories={"s1": StoryRecord(view(1), T, at(minutes=1))},
        matches=[NewMatch(g1.id, "s1", "S-400")],
    ), at(minutes=1))  # fmt: skip
    out += [await due(at(minutes=5), "w4"), await due(at(minutes=10), "w5")]
    out.append(await store.known_articles(["x-1", "x-2"], ["http://b.example/1", "http://no"]))
    out.append([(s.article.id, s.story_id) for s in await store.recent_articles(at(days=-1))])
    out.append(await store.followers(["s1", "s2"]))
    await seed.mute(g1, "s1")
    await store.deactivate_chat(g1.id, "blocked")
    out.append(await store.followers(["s1"]))
    out.append([(r.chat_id, r.number, r.query) for r in await store.all_rules()])
    return out


Transcript = Callable[[Store, Seed], Awaitable[list[object]]]


async def both(database_url: str, transcript: Transcript) -> tuple[list[object], list[object]]:
    sql = await SqlStore.open(database_url)
    try:
        real = await transcript(sql, Seed(sql))
    finally:
        await sql.close()
    memory = MemoryStore()
    return real, await transcript(memory, Seed(memory))


async def test_the_outbox_answers_as_sqlstore_does(database_url: str) -> None:
    real, fake = await both(database_url, outbox_transcript)
    assert fake == real
    assert real[0] == [("g1", "s1", "alert", 0, False, 1), ("g2", "s3", "alert", 0, False, 1)]


async def test_digest_slots_and_entries_answer_as_sqlstore_does(database_url: str) -> None:
    real, fake = await both(database_url, digest_transcript)
    assert fake == real
    assert real[2:4] == [True, False]  # one digest per slot


async def test_feed_claims_and_the_story_stage_answer_as_sqlstore_does(database_url: str) -> None:
    real, fake = await both(database_url, poll_transcript)
    assert fake == real
    assert real[1] == []  # claimed feeds are not handed to a second worker
