"""Stored articles of the feeds a chat reads, newest first, for /watch and /preview."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.services.chat.recent import RecentArticle
from bot.storage import tables as t
from bot.storage.errors import translate_errors
from bot.storage.store import story_view


@translate_errors
class SqlRecentArticles:
    """The RecentArticles port on the bot's engine."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def recent_for_chat(
        self, chat_id: int, since: datetime, after: tuple[datetime, str] | None, limit: int
    ) -> list[RecentArticle]:
        a, s = t.articles.c, t.stories
        own = select(t.chat_feeds.c.feed_id).where(t.chat_feeds.c.chat_id == chat_id)
        query = (
            select(a.id.label("article_id"), a.title.label("article_title"), a.text, a.published, s)
            .join(s, s.c.id == a.story_id)
            .join(t.feeds, t.feeds.c.id == a.feed_id)
            .where(a.published >= since)
            .where(or_(t.feeds.c.is_default.is_(True), a.feed_id.in_(own)))
            .order_by(a.published.desc(), a.id.desc())
            .limit(limit)
        )
        if after is not None:  # keyset paging: strictly older than the last row seen
            at, last = after
            query = query.where(or_(a.published < at, and_(a.published == at, a.id < last)))
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [
            RecentArticle(
                r["article_id"], r["article_title"], r["text"], r["published"], story_view(r)
            )
            for r in rows
        ]
