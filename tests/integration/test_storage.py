"""The store on SQLite and PostgreSQL: ordering, leases, uniqueness, limits, digests once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.core.alerts import NewMatch, PlannedMessage
from bot.core.codec import from_payload
from bot.core.models import AlertMessage, Highlight, MessageKind, StoryView
from bot.services.errors import RuleLimitReached
from bot.services.records import PollBatch
from bot.storage.migrate import migrate
from bot.storage.store import SqlStore

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def _alert(
    chat_id: int, story: str, kind: MessageKind = MessageKind.ALERT, key: str = ""
) -> PlannedMessage:
    view = StoryView(story, f"headline {story}", "http://x/", "", ())
    return PlannedMessage(chat_id, story, kind, key, AlertMessage(view, Highlight("")), NOW)


async def _chat(store: SqlStore, platform_id: str = "1") -> int:
    return (await store.upsert_chat("console", platform_id, None, "u", NOW)).id


async def test_migrations_are_idempotent(store: SqlStore) -> None:
    await migrate(store.engine)  # a second start on the same database changes nothing
    assert await store.active_chats() == []


async def test_the_same_planned_message_is_stored_once(store: SqlStore) -> None:
    chat = await _chat(store)
    batch = PollBatch(messages=[_alert(chat, "s1"), _alert(chat, "s1")])
    await store.save_poll(batch, NOW)
    await store.save_poll(batch, NOW)
    claimed = await store.claim_due(NOW, 10, 60)
    assert [(r.story_id, r.kind) for r in claimed] == [("s1", MessageKind.ALERT)]
    assert await store.claim_due(NOW, 10, 60) == []  # leased: not handed out twice


async def test_each_chat_receives_in_order_and_a_waiting_row_blocks_only_its_chat(
    store: SqlStore,
) -> None:
    first, second = await _chat(store, "1"), await _chat(store, "2")
    msgs = [_alert(first, "s1"), _alert(first, "s2"), _alert(second, "s3")]
    await store.save_poll(PollBatch(messages=msgs), NOW)
    rows = await store.claim_due(NOW, 10, 60)
    assert sorted(r.story_id for r in rows) == ["s1", "s3"]
    head = next(r for r in rows if r.story_id == "s1")
    other = next(r for r in rows if r.story_id == "s3")
    await store.mark_sent(other.id, "m0", NOW)
    await store.mark_retry(head.id, NOW + timedelta(seconds=100), "429")
    # s1 waits for its Retry-After and s2 must not overtake it.
    assert await store.claim_due(NOW + timedelta(seconds=61), 10, 60) == []
    later = await store.claim_due(NOW + timedelta(seconds=101), 10, 60)
    assert [r.story_id for r in later] == ["s1"]
    await store.mark_sent(later[0].id, "m1", NOW)
    after = await store.claim_due(NOW + timedelta(seconds=102), 10, 60)
    assert [r.story_id for r in after] == ["s2"]


async def test_a_crashed_workers_claim_expires(store: SqlStore) -> None:
    chat = await _chat(store)
    await store.save_poll(PollBatch(messages=[_alert(chat, "s1")]), NOW)
    assert len(await store.claim_due(NOW, 10, 60)) == 1
    assert len(await store.claim_due(NOW + timedelta(seconds=61), 10, 60)) == 1


async def test_sources_edit_before_the_alert_went_out_updates_the_alert_instead(
    store: SqlStore,
) -> None:
    chat = await _chat(store)
    await store.save_poll(PollBatch(messages=[_alert(chat, "s1")]), NOW)
    edit = _alert(chat, "s1", MessageKind.SOURCES)
    await store.save_poll(PollBatch(messages=[edit]), NOW)
    rows = await store.claim_due(NOW, 10, 60)
    assert [r.kind for r in rows] == [MessageKind.ALERT]
    assert from_payload(rows[0].payload) == edit.message


async def test_rule_numbers_are_per_chat_and_the_limit_holds(store: SqlStore) -> None:
    a, b = await _chat(store, "a"), await _chat(store, "b")
    assert (await store.add_rule(a, "S-400", 2, NOW)).number == 1
    assert (await store.add_rule(b, "F-35", 2, NOW)).number == 1
    assert (await store.add_rule(a, "F-35", 2, NOW)).number == 2
    with pytest.raises(RuleLimitReached):
        await store.add_rule(a, "Cavusoglu", 2, NOW)
    removed = await store.remove_rule(a, "S-400")
    assert removed is not None and removed.number == 1
    assert [r.query for r in await store.chat_rules(a)] == ["F-35"]


async def test_a_digest_slot_is_queued_once_even_when_asked_twice(store: SqlStore) -> None:
    chat = await _chat(store)
    slot = NOW + timedelta(hours=20)
    payload = {"type": "digest", "title": "t", "sections": [], "more": 0}
    assert await store.enqueue_digest(chat, slot, payload, slot) is True
    assert await store.enqueue_digest(chat, slot, payload, slot) is False
    assert await store.last_digest_at(chat) == slot


async def test_a_deactivated_chat_has_its_queue_cancelled(store: SqlStore) -> None:
    chat = await _chat(store)
    batch = PollBatch(messages=[_alert(chat, "s1")], matches=[NewMatch(chat, "s1", "S-400")])
    await store.save_poll(batch, NOW)
    await store.deactivate_chat(chat, "blocked")
    assert await store.claim_due(NOW, 10, 60) == []
    assert (await store.chat_status(chat)).pending == 0


async def test_a_migrated_group_keeps_its_rules(store: SqlStore) -> None:
    chat = await _chat(store, "-100")
    await store.add_rule(chat, "S-400", 5, NOW)
    await store.migrate_chat("console", "-100", "-100200")
    moved = await store.chat_by_platform("console", "-100200")
    assert moved is not None and [r.query for r in await store.chat_rules(moved.id)] == ["S-400"]


async def test_a_due_feed_is_handed_to_one_worker_at_a_time(store: SqlStore) -> None:
    await store.sync_default_feeds([("http://feeds.example/a.xml", "A")], NOW)
    assert [f.url for f in await store.due_feeds(NOW, 10)] == ["http://feeds.example/a.xml"]
    assert await store.due_feeds(NOW, 10) == []  # claimed by the first caller
    later = NOW + timedelta(minutes=6)  # that worker died: the claim runs out
    assert len(await store.due_feeds(later, 10)) == 1
