"""Writes a poll's planned messages into the outbox, carrying out bot.core.outbox decisions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.core.alerts import PlannedMessage
from bot.core.codec import to_payload
from bot.core.models import MessageKind
from bot.core.outbox import OutboxStatus, SourcesPlan, initial_status, sources_plan
from bot.storage import tables as t

o = t.outbox.c


def _same_message(m: PlannedMessage) -> Any:
    return and_(
        o.chat_id == m.chat_id,
        o.story_id == m.story_id,
        o.kind == m.kind.value,
        o.dedup_key == m.dedup_key,
    )


async def save_message(conn: AsyncConnection, m: PlannedMessage, now: datetime) -> None:
    """Queue one planned message (once: the same message planned again is not queued twice)."""
    payload: dict[str, Any] | None = to_payload(m.message)
    if m.kind is MessageKind.SOURCES:
        payload = await _sources_payload(conn, m, to_payload(m.message))
    if payload is None:
        return  # the alert is not out yet: it will show the new sources itself
    status = initial_status(m.held).value
    row = (await conn.execute(select(o.id).where(_same_message(m)))).first()
    if row is None:
        await conn.execute(insert(t.outbox).values(
            chat_id=m.chat_id, story_id=m.story_id, kind=m.kind.value, dedup_key=m.dedup_key,
            payload=payload, status=status, attempts=0, next_attempt_at=m.not_before,
            deferred=m.deferred, created_at=now,
        ))  # fmt: skip
    elif m.kind is MessageKind.SOURCES:
        # One edit row per chat and story carries the latest sources; re-arm it.
        await conn.execute(update(t.outbox).where(o.id == row.id).values(
            payload=payload, status=status, attempts=0, next_attempt_at=m.not_before))  # fmt: skip
    # Any other existing row: the same message was already planned; never twice.


async def _sources_payload(
    conn: AsyncConnection, m: PlannedMessage, payload: dict[str, Any]
) -> dict[str, Any] | None:
    """An edit changes the story part only: the chat keeps the snippet of its own match.
    None when the alert is still unsent and was rewritten in place instead."""
    query = select(o.id, o.status, o.payload).where(
        o.chat_id == m.chat_id, o.story_id == m.story_id, o.kind == MessageKind.ALERT.value
    )
    alert = (await conn.execute(query)).first()
    plan = sources_plan(None if alert is None else OutboxStatus(alert.status))
    if alert is None or plan is SourcesPlan.QUEUE:
        return payload
    edited = {**alert.payload, "story": payload["story"]}
    if plan is SourcesPlan.QUEUE_EDIT:
        return edited
    await conn.execute(update(t.outbox).where(o.id == alert.id).values(payload=edited))
    return None
