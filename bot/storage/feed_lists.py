"""A chat's feed list as a whole: for OPML import (many feeds in one transaction) and export."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import insert, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.services.records import FeedInfo
from bot.storage import tables as t
from bot.storage.errors import translate_errors
from bot.storage.feeds import _feed_info, new_feed

_CHUNK = 500


@translate_errors
class SqlFeedLists:
    """The FeedLists port on the bot's engine."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def chat_feed_urls(self, chat_id: int) -> set[str]:
        """Every feed URL the chat reads: the defaults and its own."""
        own = select(t.chat_feeds.c.feed_id).where(t.chat_feeds.c.chat_id == chat_id)
        query = select(t.feeds.c.url).where(
            or_(t.feeds.c.is_default.is_(True), t.feeds.c.id.in_(own))
        )
        async with self.engine.connect() as conn:
            return set((await conn.execute(query)).scalars())

    async def own_feeds(self, chat_id: int) -> list[FeedInfo]:
        """The feeds this chat added itself, oldest first."""
        query = (
            select(t.feeds)
            .join(t.chat_feeds, t.chat_feeds.c.feed_id == t.feeds.c.id)
            .where(t.chat_feeds.c.chat_id == chat_id)
            .order_by(t.feeds.c.id)
        )
        async with self.engine.connect() as conn:
            return [_feed_info(r) for r in (await conn.execute(query)).mappings()]

    async def add_chat_feeds(
        self, chat_id: int, feeds: Sequence[tuple[str, str]], now: datetime
    ) -> int:
        """Link (url, title) feeds to the chat, creating unknown ones, all in ONE transaction;
        returns how many the chat did not read before."""
        wanted = dict(feeds)
        if not wanted:
            return 0
        async with self.engine.begin() as conn:
            ids = await self._ids(conn, list(wanted))
            fresh = [url for url in wanted if url not in ids]
            if fresh:
                rows = [new_feed(url, wanted[url], now) for url in fresh]
                await conn.execute(insert(t.feeds), rows)
                ids |= await self._ids(conn, fresh)
            return await self._link(conn, chat_id, list(ids.values()))

    @staticmethod
    async def _link(conn: AsyncConnection, chat_id: int, feed_ids: list[int]) -> int:
        """Link the feeds the chat does not read yet; how many of them are not defaults."""
        cf, f = t.chat_feeds.c, t.feeds.c
        mine = select(cf.feed_id).where(cf.chat_id == chat_id, cf.feed_id.in_(feed_ids))
        linked = set((await conn.execute(mine)).scalars())
        default = select(f.id).where(f.id.in_(feed_ids), f.is_default.is_(True))
        defaults = set((await conn.execute(default)).scalars())
        new = [i for i in feed_ids if i not in linked]
        if new:
            await conn.execute(
                insert(t.chat_feeds), [{"chat_id": chat_id, "feed_id": i} for i in new]
            )
        return sum(1 for i in new if i not in defaults)

    @staticmethod
    async def _ids(conn: AsyncConnection, urls: list[str]) -> dict[str, int]:
        found: dict[str, int] = {}
        for at in range(0, len(urls), _CHUNK):
            query = select(t.feeds.c.url, t.feeds.c.id).where(
                t.feeds.c.url.in_(urls[at : at + _CHUNK])
            )
            found.update({url: feed_id for url, feed_id in (await conn.execute(query)).all()})
        return found
