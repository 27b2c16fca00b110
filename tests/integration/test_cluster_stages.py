"""The cluster's fetch and story stages on SQLite and PostgreSQL, in one process: the inbox
between them, one story across outlets, the story-head fence, and watches from elsewhere."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from support import SavesTogether, SettableClock

from bot.core.models import Article, MessageKind
from bot.core.stories import Assignment, StoryIndex
from bot.services.errors import Superseded
from bot.services.poll.fetch_stage import FetchStage
from bot.services.poll.rulebook import RuleBook
from bot.services.poll.story_stage import StoryStage
from bot.services.ports import FeedReadResult, FeedRef
from bot.services.records import PollBatch
from bot.storage import tables as t
from bot.storage.store import SqlStore
from bot.story_models import load_models

WINDOW = timedelta(hours=48)
LEASE = timedelta(seconds=30)


class ScriptedReader:
    """A FeedReader that answers each feed with the articles the test gave it."""

    def __init__(self, clock: SettableClock) -> None:
        self.clock, self.items = clock, dict[int, list[Article]]()

    async def read(self, feed: FeedRef, now: object) -> FeedReadResult:
        articles = tuple(self.items.get(feed.id, []))
        return FeedReadResult(feed.id, self.clock.now() + timedelta(minutes=5), articles, "T")


def _article(feed_id: int, outlet: str, key: str, title: str, clock: SettableClock) -> Article:
    text = f"{title}. The meeting in Brussels was the first between the two ministers."
    return Article(f"{outlet}-{key}", feed_id, f"http://{outlet}.test/{key}", title, text,
                   clock.now(), outlet)  # fmt: skip


async def _feeds(store: SqlStore, clock: SettableClock, *names: str) -> list[int]:
    await store.sync_default_feeds([(f"http://{n}.test/rss", n) for n in names], clock.now())
    return [f.id for f in await store.due_feeds(clock.now(), 100, worker="setup", lease=LEASE)]


async def _watching(store: SqlStore, clock: SettableClock, query: str, chat: str = "1") -> int:
    chat_id = (await store.upsert_chat("console", chat, None, "u", clock.now())).id
    await store.add_rule(chat_id, query, 50, clock.now())
    return chat_id


def _stage(store: SqlStore, clock: SettableClock) -> StoryStage:
    return StoryStage(store, RuleBook(store), clock, window=WINDOW, models=load_models())


async def _outbox(store: SqlStore) -> list[tuple[int, str, str]]:
    o = t.outbox.c
    query = select(o.chat_id, o.story_id, o.kind).order_by(o.id)
    async with store.engine.connect() as conn:
        return [tuple(r) for r in (await conn.execute(query)).all()]  # type: ignore[misc]


async def _fetch_all(store: SqlStore, reader: ScriptedReader, clock: SettableClock,
                     ids: Sequence[int], worker: str = "setup") -> int:  # fmt: skip
    stage = FetchStage(store, reader, clock, lease=LEASE)
    return (await stage.run(ids, worker)).queued


async def _publish_and_drain(
    store: SqlStore, stage: StoryStage, clock: SettableClock, feed: int, title: str
) -> None:
    """One new article on `feed`, fetched into the inbox, then one drain of `stage`."""
    reader = ScriptedReader(clock)
    reader.items[feed] = [_article(feed, "alpha", "1", title, clock)]
    await _fetch_all(store, reader, clock, [feed])
    await stage.drain()


async def test_two_outlets_queued_by_two_fetch_batches_become_one_alert_naming_both(
    store: SqlStore,
) -> None:
    clock = SettableClock()
    a, b = await _feeds(store, clock, "alpha", "beta")
    chat = await _watching(store, clock, "S-400")
    reader = ScriptedReader(clock)
    title = "Blinken presses Cavusoglu to drop the Russian S-400 missile system"
    reader.items[a] = [_article(a, "alpha", "1", title, clock)]
    reader.items[b] = [_article(b, "beta", "1", title.replace("presses", "urges"), clock)]
    assert await _fetch_all(store, reader, clock, [a]) == 1  # two fetch batches
    assert await _fetch_all(store, reader, clock, [b]) == 1
    assert (await store.inbox_depth(clock.now()))[0] == 2

    report = await _stage(store, clock).drain()

    assert report.articles == 2
    rows = await _outbox(store)
    kinds = [kind for _, _, kind in rows]
    assert kinds.count(MessageKind.ALERT.value) == 1, rows
    assert len({story for _, story, _ in rows}) == 1  # one story, its edit on the same story
    assert {c for c, _, _ in rows} == {chat}
    async with store.engine.connect() as conn:
        payload = await conn.scalar(select(t.outbox.c.payload))
    assert "alpha" in str(payload) and "beta" in str(payload)  # the unsent alert lists both
    assert await store.inbox_depth(clock.now()) == (0, None)
    assert await store.story_head() == 1


async def test_fetch_queues_only_unseen_articles_and_ends_the_claims(store: SqlStore) -> None:
    clock = SettableClock()
    (a,) = await _feeds(store, clock, "alpha")
    reader = ScriptedReader(clock)
    first = _article(a, "alpha", "1", "First headline about the port strike", clock)
    reader.items[a] = [first, first]
    assert await _fetch_all(store, reader, clock, [a]) == 1
    # Fetched again (claimed anew): queued already, so not twice; then stored, still not.
    await store.due_feeds(clock.now() + timedelta(minutes=6), 10, worker="w2", lease=LEASE)
    assert await _fetch_all(store, reader, clock, [a], worker="w2") == 0
    await _stage(store, clock).drain()
    await store.due_feeds(clock.now() + timedelta(minutes=12), 10, worker="w3", lease=LEASE)
    assert await _fetch_all(store, reader, clock, [a], worker="w3") == 0
    async with store.engine.connect() as conn:
        claimed = await conn.scalar(select(t.feeds.c.claimed_by).where(t.feeds.c.id == a))
        stored = await conn.scalar(select(func.count()).select_from(t.articles))
    assert claimed is None and stored == 1


async def test_a_batch_whose_claim_went_to_another_worker_writes_nothing(store: SqlStore) -> None:
    clock = SettableClock()
    (a,) = await _feeds(store, clock, "alpha")  # claimed by "setup"
    reader = ScriptedReader(clock)
    reader.items[a] = [_article(a, "alpha", "1", "Dockers strike at the main port", clock)]
    assert await _fetch_all(store, reader, clock, [a], worker="someone-else") == 0
    assert (await store.inbox_depth(clock.now()))[0] == 0


async def test_a_superseded_stage_writes_nothing_and_retries_on_the_new_head(
    store: SqlStore,
) -> None:
    """Two stage bodies at once (the lock bypassed): both plan on head 0; the second save is
    refused by the compare-and-set, it rebuilds from storage and finds nothing left to do."""
    clock = SettableClock()
    a, b = await _feeds(store, clock, "alpha", "beta")
    await _watching(store, clock, "S-400")
    reader = ScriptedReader(clock)
    title = "Blinken presses Cavusoglu to drop the Russian S-400 missile system"
    reader.items[a] = [_article(a, "alpha", "1", title, clock)]
    await _fetch_all(store, reader, clock, [a])
    both_planned = asyncio.Barrier(2)  # neither saves before both have planned on head 0
    first, second = (
        StoryStage(
            SavesTogether(store, both_planned),
            RuleBook(store),
            clock,
            window=WINDOW,
            models=load_models(),
        )
        for _ in range(2)
    )
    both = await asyncio.gather(first.drain(), second.drain())
    assert sorted(r.retries for r in both) == [0, 1]
    # The loser's index was rebuilt from storage: the next outlet joins the same story.
    reader.items[b] = [_article(b, "beta", "1", title.replace("presses", "urges"), clock)]
    await _fetch_all(store, reader, clock, [b])
    loser = first if both[0].retries else second
    await loser.drain()
    rows = await _outbox(store)
    assert [k for _, _, k in rows].count(MessageKind.ALERT.value) == 1, rows
    assert len({s for _, s, _ in rows}) == 1
    assert await store.story_head() == 2


async def test_save_stage_refuses_a_stale_head(store: SqlStore) -> None:
    clock = SettableClock()
    await store.save_stage(PollBatch(), clock.now(), [], 0)
    with pytest.raises(Superseded):
        await store.save_stage(PollBatch(), clock.now(), [], 0)
    assert await store.story_head() == 1


async def test_a_watch_added_through_another_process_matches_the_next_chunk(
    database_url: str, store: SqlStore
) -> None:
    clock = SettableClock()
    (a,) = await _feeds(store, clock, "alpha")
    stage = _stage(store, clock)
    await stage.drain()  # the stage has built its automaton: no rules yet
    chat_process = await SqlStore.open(database_url)
    try:
        chat = await _watching(chat_process, clock, "Zorblax")
    finally:
        await chat_process.close()
    await _publish_and_drain(store, stage, clock, a, "Zorblax unveils a new reactor")
    assert [(c, k) for c, _, k in await _outbox(store)] == [(chat, MessageKind.ALERT.value)]


async def test_every_change_to_the_rule_set_moves_the_rules_version(store: SqlStore) -> None:
    clock = SettableClock()
    seen = [await store.rules_version()]
    chat = await _watching(store, clock, "Zorblax")  # a new chat, then its rule
    seen.append(await store.rules_version())
    await store.add_rule(chat, "Quuxite", 50, clock.now())  # a second rule, same chat
    seen.append(await store.rules_version())
    await store.remove_rule(chat, "1")
    seen.append(await store.rules_version())
    await store.deactivate_chat(chat, "blocked")
    seen.append(await store.rules_version())
    await store.upsert_chat("console", "1", None, "u", clock.now())  # back: its rules count
    seen.append(await store.rules_version())
    await store.delete_chat(chat)
    seen.append(await store.rules_version())
    assert seen == sorted(set(seen)), seen  # strictly increasing


async def test_an_article_the_story_index_fails_on_is_alerted_alone_and_the_batch_is_saved(
    store: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = SettableClock()
    a, b = await _feeds(store, clock, "alpha", "beta")
    chat = await _watching(store, clock, "Zorblax")
    reader = ScriptedReader(clock)
    reader.items[a] = [_article(a, "alpha", "1", "Zorblax poisons the story index", clock)]
    reader.items[b] = [_article(b, "beta", "1", "Zorblax opens a second reactor", clock)]
    await _fetch_all(store, reader, clock, [a, b])
    real = StoryIndex.assign

    def failing(index: StoryIndex, article: Article) -> Assignment:
        if "poisons" in article.title:
            raise ValueError("an index bug")
        return real(index, article)

    monkeypatch.setattr(StoryIndex, "assign", failing)
    await _stage(store, clock).drain()
    rows = await _outbox(store)
    assert sorted(s for _, s, k in rows if k == MessageKind.ALERT.value) == sorted(
        {"alpha-1", *(s for _, s, _ in rows if s != "alpha-1")}
    )
    assert len(rows) == 2 and {c for c, _, _ in rows} == {chat}
    assert await store.inbox_depth(clock.now()) == (0, None)


async def test_a_second_watch_of_a_known_chat_reaches_the_story_stage(
    database_url: str, store: SqlStore
) -> None:
    """The chat already existed (no new chat to move the rules version): the rule alone must."""
    clock = SettableClock()
    (a,) = await _feeds(store, clock, "alpha")
    chat = await _watching(store, clock, "Zorblax")
    stage = _stage(store, clock)
    await stage.drain()  # automaton built with the first rule only
    chat_process = await SqlStore.open(database_url)
    try:
        await chat_process.add_rule(chat, "Quuxite", 50, clock.now())
    finally:
        await chat_process.close()
    await _publish_and_drain(store, stage, clock, a, "Quuxite mine reopens after the flood")
    assert [(c, k) for c, _, k in await _outbox(store)] == [(chat, MessageKind.ALERT.value)]
