"""What operators ask of the database: does it answer, and how do feeds and the outbox look."""

from __future__ import annotations

import asyncio
from datetime import datetime

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.cadence import FAILING_AFTER
from bot.core.outbox import OutboxStatus
from bot.services.records import OpsSnapshot
from bot.storage import tables as t

PING_TIMEOUT = 5.0  # seconds; a database that takes longer is reported unhealthy


class SqlHealth:
    """Health and gauge queries on the bot's engine (all read-only, all indexed)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def ping(self) -> str | None:
        """None when the database answers `SELECT 1` in time, else what went wrong."""
        try:
            async with asyncio.timeout(PING_TIMEOUT), self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except TimeoutError:
            return f"no answer within {PING_TIMEOUT:g} s"
        except Exception as exc:  # any driver error means "not usable now"
            return type(exc).__name__
        return None

    async def snapshot(self, now: datetime) -> OpsSnapshot:
        f, o = t.feeds.c, t.outbox.c
        erroring = f.error_count > 0
        feeds = select(
            func.count(), func.count().filter(erroring),
            func.count().filter(f.error_count >= FAILING_AFTER),
            func.count().filter(erroring, f.next_poll_at > now),
        )  # fmt: skip
        by_platform = (
            select(o.status, t.chats.c.platform, func.count(), func.min(o.created_at))
            .join(t.chats, t.chats.c.id == o.chat_id)
            .where(o.status.in_([OutboxStatus.PENDING.value, OutboxStatus.FAILED.value]))
            .group_by(o.status, t.chats.c.platform)
        )
        async with self.engine.connect() as conn:
            total, errs, failing, backing = (await conn.execute(feeds.select_from(t.feeds))).one()
            rows = (await conn.execute(by_platform)).all()
        pending = {p: n for s, p, n, _ in rows if s == OutboxStatus.PENDING.value}
        failed = {p: n for s, p, n, _ in rows if s == OutboxStatus.FAILED.value}
        oldest = min((at for s, _, _, at in rows if s == OutboxStatus.PENDING.value), default=None)
        age = (now - oldest).total_seconds() if oldest is not None else 0.0
        return OpsSnapshot(total, errs, failing, backing, pending, failed, max(age, 0.0))
