"""What operators ask of the database: does it answer, and how do feeds and the outbox look."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime
from typing import Any

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
            func.count(),
            func.count().filter(erroring),
            func.count().filter(f.error_count >= FAILING_AFTER),
            func.count().filter(erroring, f.next_poll_at > now),
        )
        by_platform = (
            select(o.status, t.chats.c.platform, func.count(), func.min(o.created_at))
            .join(t.chats, t.chats.c.id == o.chat_id)
            .where(o.status.in_([OutboxStatus.PENDING.value, OutboxStatus.FAILED.value]))
            .group_by(o.status, t.chats.c.platform)
        )
        rules = select(func.count()).select_from(t.rules.join(t.chats)).where(t.chats.c.active)
        async with self.engine.connect() as conn:
            counts = (await conn.execute(feeds.select_from(t.feeds))).one()
            rows = (await conn.execute(by_platform)).all()
            rule_count = int(await conn.scalar(rules) or 0)
        return _snapshot(tuple(counts), rows, rule_count, now)


def _snapshot(
    feeds: tuple[int, ...], rows: Sequence[Any], rules: int, now: datetime
) -> OpsSnapshot:
    """The snapshot from the feed counts and the outbox's (status, platform, count, oldest)."""
    pending = {p: n for s, p, n, _ in rows if s == OutboxStatus.PENDING.value}
    failed = {p: n for s, p, n, _ in rows if s == OutboxStatus.FAILED.value}
    oldest = min((at for s, _, _, at in rows if s == OutboxStatus.PENDING.value), default=None)
    age = (now - oldest).total_seconds() if oldest is not None else 0.0
    total, erroring, failing, backing = feeds
    return OpsSnapshot(total, erroring, failing, backing, pending, failed, max(age, 0.0), rules)
