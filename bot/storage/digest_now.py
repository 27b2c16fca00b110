"""Digests outside the schedule (/digest now): an outbox row that leaves last_digest_at alone."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.models import MessageKind
from bot.core.outbox import WAITING, OutboxStatus
from bot.storage import tables as t
from bot.storage.errors import translate_errors
from bot.storage.outbox import digest_row

PREFIX = "now:"  # dedup keys of extra digests; scheduled ones are the slot's ISO time
o = t.outbox.c
PENDING = OutboxStatus.PENDING.value


@translate_errors
class SqlExtraDigests:
    """The ExtraDigests port on the bot's engine."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def enqueue_extra_digest(
        self, chat_id: int, payload: dict[str, Any], now: datetime
    ) -> bool:
        """Queue one; False (nothing queued) while an earlier one still waits to be sent, so
        repeating the command cannot pile digests up."""
        waiting = select(o.id).where(
            o.chat_id == chat_id,
            o.kind == MessageKind.DIGEST.value,
            o.dedup_key.like(f"{PREFIX}%"),
            o.status.in_([s.value for s in WAITING]),
        )
        async with self.engine.begin() as conn:
            if (await conn.execute(waiting.limit(1))).first() is not None:
                return False
            row = digest_row(chat_id, f"{PREFIX}{now.isoformat()}", payload, now)
            await conn.execute(insert(t.outbox).values(**row))
        return True
