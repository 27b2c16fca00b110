"""Watch rules and muted stories: the watchlist half of SqlStore."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.models import WatchRule
from bot.services.errors import RuleLimitReached
from bot.storage import tables as t
from bot.storage.cluster import bump_rules_version


class RuleStore:
    """Per-chat rules with short numbers, and mutes."""

    engine: AsyncEngine

    async def add_rule(self, chat_id: int, query: str, limit: int, now: datetime) -> WatchRule:
        async with self.engine.begin() as conn:
            count, top = (
                await conn.execute(
                    select(func.count(), func.max(t.rules.c.number)).where(
                        t.rules.c.chat_id == chat_id
                    )
                )
            ).one()
            if count >= limit:
                raise RuleLimitReached(f"this chat already has {count} rules (the limit)")
            number = (top or 0) + 1
            rule_id = (
                await conn.execute(
                    insert(t.rules)
                    .values(chat_id=chat_id, number=number, query=query, created_at=now)
                    .returning(t.rules.c.id)
                )
            ).scalar_one()
            await bump_rules_version(conn)
        return WatchRule(rule_id, chat_id, number, query)

    async def remove_rule(self, chat_id: int, key: str) -> WatchRule | None:
        by = t.rules.c.number == int(key) if key.isdigit() else t.rules.c.query == key
        async with self.engine.begin() as conn:
            row = (
                (await conn.execute(select(t.rules).where(t.rules.c.chat_id == chat_id, by)))
                .mappings()
                .first()
            )
            if row is None:
                return None
            await conn.execute(delete(t.rules).where(t.rules.c.id == row["id"]))
            await bump_rules_version(conn)
        return WatchRule(row["id"], chat_id, row["number"], row["query"])

    async def chat_rules(self, chat_id: int) -> list[WatchRule]:
        query = select(t.rules).where(t.rules.c.chat_id == chat_id).order_by(t.rules.c.number)
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [WatchRule(r["id"], r["chat_id"], r["number"], r["query"]) for r in rows]

    async def all_rules(self) -> list[WatchRule]:
        query = select(t.rules).join(t.chats).where(t.chats.c.active.is_(True))
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [WatchRule(r["id"], r["chat_id"], r["number"], r["query"]) for r in rows]

    async def mute(self, chat_id: int, story_id: str) -> bool:
        async with self.engine.begin() as conn:
            exists = await conn.scalar(
                select(func.count())
                .select_from(t.mutes)
                .where(t.mutes.c.chat_id == chat_id, t.mutes.c.story_id == story_id)
            )
            if not exists:
                await conn.execute(insert(t.mutes).values(chat_id=chat_id, story_id=story_id))
        return not exists
