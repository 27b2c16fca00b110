"""Writes one poll cycle (feed states, articles, stories, matches, outbox) in one transaction."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import and_, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.core.alerts import PlannedMessage
from bot.core.codec import to_payload
from bot.core.models import MessageKind
from bot.services.ports import FeedReadResult
from bot.services.store_port import PollBatch, StoredArticle, StoryRecord
from bot.storage import tables as t


class PollStore:
    """The poll-cycle half of SqlStore."""

    engine: AsyncEngine

    async def save_poll(self, batch: PollBatch, now: datetime) -> None:
        """Articles, stories, matches and outbox rows land together or not at all, so a crash
        between polling and sending loses nothing and never alerts twice."""
        async with self.engine.begin() as conn:
            for result in batch.feed_results:
                await _save_feed_result(conn, result, now)
            for stored in batch.articles:
                await _save_article(conn, stored, now)
            for story_id, record in batch.stories.items():
                await _save_story(conn, story_id, record)
            for match in batch.matches:
                await _save_match(conn, match.chat_id, match.story_id, match.rule_label, now)
            for message in batch.messages:
                await _save_message(conn, message, now)


async def _save_feed_result(conn: AsyncConnection, result: FeedReadResult, now: datetime) -> None:
    values: dict[str, Any] = {"next_poll_at": result.next_poll_at}
    if result.error is None:
        values.update(error_count=0, last_error=None, last_ok_at=now)
        if not result.not_modified:
            values.update(etag=result.etag, last_modified=result.last_modified)
        if result.title:
            values["title"] = result.title
    else:
        values.update(error_count=t.feeds.c.error_count + 1, last_error=result.error)
    await conn.execute(update(t.feeds).where(t.feeds.c.id == result.feed_id).values(**values))


async def _save_article(conn: AsyncConnection, stored: StoredArticle, now: datetime) -> None:
    exists = await conn.scalar(select(t.articles.c.id).where(t.articles.c.id == stored.article.id))
    if exists is not None:
        return
    a = stored.article
    await conn.execute(insert(t.articles).values(
        id=a.id, feed_id=a.feed_id or None, url=a.url, title=a.title, text=a.text,
        source=a.source, published=a.published, story_id=stored.story_id,
        kind=stored.kind.value, fetched_at=now))


async def _save_story(conn: AsyncConnection, story_id: str, record: StoryRecord) -> None:
    view = record.view
    values = {
        "headline": view.headline, "url": view.url, "summary": view.summary,
        "sources": [asdict(s) for s in view.sources], "last_seen": record.last_seen,
    }
    grown = t.stories.c.developments + record.new_developments
    changed = await conn.execute(
        update(t.stories).where(t.stories.c.id == story_id).values(developments=grown, **values))
    if changed.rowcount == 0:
        await conn.execute(insert(t.stories).values(
            id=story_id, first_seen=record.first_seen, developments=record.new_developments,
            **values))


async def _save_match(
    conn: AsyncConnection, chat_id: int, story_id: str, label: str, now: datetime
) -> None:
    key = and_(t.story_matches.c.chat_id == chat_id, t.story_matches.c.story_id == story_id)
    if await conn.scalar(select(t.story_matches.c.chat_id).where(key)) is None:
        await conn.execute(insert(t.story_matches).values(
            chat_id=chat_id, story_id=story_id, rule_label=label, matched_at=now))


def _same_message(m: PlannedMessage) -> Any:
    c = t.outbox.c
    return and_(c.chat_id == m.chat_id, c.story_id == m.story_id, c.kind == m.kind.value,
                c.dedup_key == m.dedup_key)


async def _save_message(conn: AsyncConnection, m: PlannedMessage, now: datetime) -> None:
    payload = to_payload(m.message)
    status = "held" if m.held else "pending"
    if m.kind is MessageKind.SOURCES and await _refresh_unsent_alert(conn, m, payload):
        return  # the alert is not out yet: it will show the new sources itself, no edit needed
    row = (await conn.execute(select(t.outbox.c.id, t.outbox.c.status).where(
        _same_message(m)))).first()
    if row is None:
        await conn.execute(insert(t.outbox).values(
            chat_id=m.chat_id, story_id=m.story_id, kind=m.kind.value, dedup_key=m.dedup_key,
            payload=payload, status=status, attempts=0, next_attempt_at=m.not_before,
            created_at=now))
    elif m.kind is MessageKind.SOURCES:
        # One edit row per chat and story carries the latest sources; re-arm it.
        await conn.execute(update(t.outbox).where(t.outbox.c.id == row.id).values(
            payload=payload, status=status, attempts=0, next_attempt_at=m.not_before))
    # Any other existing row: the same message was already planned; never twice.


async def _refresh_unsent_alert(
    conn: AsyncConnection, m: PlannedMessage, payload: dict[str, Any]
) -> bool:
    c = t.outbox.c
    changed = await conn.execute(update(t.outbox).where(
        c.chat_id == m.chat_id, c.story_id == m.story_id, c.kind == MessageKind.ALERT.value,
        c.status.in_(("pending", "held")),
    ).values(payload={**payload, "type": "alert"}))
    return bool(changed.rowcount)


__all__ = ["PollStore", "StoryRecord"]
