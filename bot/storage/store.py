"""SqlStore: the Store port on SQLAlchemy async (SQLite and PostgreSQL alike)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, func, insert, or_, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bot.core.models import (
    Article, Chat, ChatSettings, Source, StoryKind, StoryView, WatchRule,
)
from bot.services.ports import FeedRef
from bot.services.store_port import FeedInfo, RuleLimitReached, StoredArticle
from bot.storage import tables as t
from bot.storage.migrate import migrate
from bot.storage.outbox import OutboxStore
from bot.storage.polls import PollStore


def make_engine(url: str) -> AsyncEngine:
    """An engine for `url`; SQLite gets a busy timeout so concurrent writers wait, not fail."""
    if url.startswith("sqlite"):
        return create_async_engine(url, connect_args={"timeout": 30})
    return create_async_engine(url, pool_pre_ping=True)


def chat_from_row(row: RowMapping) -> Chat:
    """A Chat from a `chats` row."""
    return Chat(
        id=row["id"], platform=row["platform"], platform_id=row["platform_id"],
        thread_id=row["thread_id"], active=row["active"],
        settings=ChatSettings.from_json(row["settings"] or {}),
    )


def _feed_info(row: RowMapping) -> FeedInfo:
    return FeedInfo(
        row["id"], row["url"], row["title"], row["is_default"], row["error_count"],
        row["last_error"], row["last_ok_at"],
    )


class SqlStore(OutboxStore, PollStore):
    """All persistence; each public method is one transaction."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    @classmethod
    async def open(cls, url: str) -> SqlStore:
        """Connect and apply migrations."""
        store = cls(make_engine(url))
        await migrate(store.engine)
        return store

    async def close(self) -> None:
        await self.engine.dispose()

    # --- feeds -----------------------------------------------------------------------------
    async def sync_default_feeds(self, feeds: Sequence[tuple[str, str]], now: datetime) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(update(t.feeds).values(is_default=False))
            for url, name in feeds:
                found = await conn.scalar(select(t.feeds.c.id).where(t.feeds.c.url == url))
                if found is None:
                    await conn.execute(insert(t.feeds).values(
                        url=url, title=name, is_default=True, next_poll_at=now,
                        error_count=0, created_at=now))
                else:
                    await conn.execute(
                        update(t.feeds).where(t.feeds.c.id == found).values(is_default=True))

    async def due_feeds(self, now: datetime, limit: int) -> list[FeedRef]:
        used = select(t.chat_feeds.c.feed_id).join(t.chats).where(t.chats.c.active.is_(True))
        query = (
            select(t.feeds)
            .where(t.feeds.c.next_poll_at <= now)
            .where(or_(t.feeds.c.is_default.is_(True), t.feeds.c.id.in_(used)))
            .order_by(t.feeds.c.next_poll_at).limit(limit)
        )
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [
            FeedRef(r["id"], r["url"], r["etag"], r["last_modified"], r["error_count"])
            for r in rows
        ]

    async def feed_audience(self, feed_ids: Sequence[int]) -> dict[int, frozenset[int] | None]:
        """For each feed: None when every chat reads it (a default feed), else the chats."""
        async with self.engine.connect() as conn:
            defaults = set((await conn.execute(select(t.feeds.c.id).where(
                t.feeds.c.id.in_(feed_ids), t.feeds.c.is_default.is_(True)))).scalars())
            pairs = (await conn.execute(select(t.chat_feeds).where(
                t.chat_feeds.c.feed_id.in_(feed_ids)))).all()
        audience: dict[int, frozenset[int] | None] = {}
        for feed_id in feed_ids:
            chats = frozenset(c for c, f in pairs if f == feed_id)
            audience[feed_id] = None if feed_id in defaults else chats
        return audience

    async def add_chat_feed(self, chat_id: int, url: str, title: str, now: datetime) -> FeedInfo:
        async with self.engine.begin() as conn:
            feed_id = await conn.scalar(select(t.feeds.c.id).where(t.feeds.c.url == url))
            if feed_id is None:
                feed_id = (await conn.execute(insert(t.feeds).values(
                    url=url, title=title, is_default=False, next_poll_at=now, error_count=0,
                    created_at=now).returning(t.feeds.c.id))).scalar_one()
            linked = await conn.scalar(select(func.count()).select_from(t.chat_feeds).where(
                t.chat_feeds.c.chat_id == chat_id, t.chat_feeds.c.feed_id == feed_id))
            if not linked:
                await conn.execute(insert(t.chat_feeds).values(chat_id=chat_id, feed_id=feed_id))
            row = (await conn.execute(select(t.feeds).where(t.feeds.c.id == feed_id))).mappings()
            return _feed_info(row.one())

    async def remove_chat_feed(self, chat_id: int, key: str) -> FeedInfo | None:
        by = t.feeds.c.id == int(key) if key.isdigit() else t.feeds.c.url == key
        query = select(t.feeds).join(t.chat_feeds).where(t.chat_feeds.c.chat_id == chat_id, by)
        async with self.engine.begin() as conn:
            row = (await conn.execute(query)).mappings().first()
            if row is None:
                return None
            await conn.execute(delete(t.chat_feeds).where(
                t.chat_feeds.c.chat_id == chat_id, t.chat_feeds.c.feed_id == row["id"]))
            return _feed_info(row)

    async def chat_feeds(self, chat_id: int) -> list[FeedInfo]:
        own = select(t.chat_feeds.c.feed_id).where(t.chat_feeds.c.chat_id == chat_id)
        query = select(t.feeds).where(
            or_(t.feeds.c.is_default.is_(True), t.feeds.c.id.in_(own))).order_by(t.feeds.c.id)
        async with self.engine.connect() as conn:
            return [_feed_info(r) for r in (await conn.execute(query)).mappings()]

    # --- articles and stories ---------------------------------------------------------------
    async def known_articles(self, ids: Sequence[str], urls: Sequence[str]) -> set[str]:
        """The ids and urls among those given that are already stored."""
        found: set[str] = set()
        async with self.engine.connect() as conn:
            for chunk in _chunks(list(ids), 500):
                found.update((await conn.execute(
                    select(t.articles.c.id).where(t.articles.c.id.in_(chunk)))).scalars())
            for chunk in _chunks(list(urls), 500):
                found.update((await conn.execute(
                    select(t.articles.c.url).where(t.articles.c.url.in_(chunk)))).scalars())
        return found

    async def recent_articles(self, since: datetime) -> list[StoredArticle]:
        query = select(t.articles).where(t.articles.c.published >= since).order_by(
            t.articles.c.published, t.articles.c.fetched_at)
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [StoredArticle(_article(r), r["story_id"], StoryKind(r["kind"])) for r in rows]

    async def followers(self, story_ids: Sequence[str]) -> dict[str, dict[int, bool]]:
        """story -> {chat id: muted} for the chats that follow each story."""
        query = (
            select(t.story_matches.c.story_id, t.story_matches.c.chat_id, t.mutes.c.story_id)
            .join(t.chats, t.chats.c.id == t.story_matches.c.chat_id)
            .outerjoin(t.mutes, and_(t.mutes.c.chat_id == t.story_matches.c.chat_id,
                                     t.mutes.c.story_id == t.story_matches.c.story_id))
            .where(t.story_matches.c.story_id.in_(story_ids), t.chats.c.active.is_(True))
        )
        result: dict[str, dict[int, bool]] = {s: {} for s in story_ids}
        async with self.engine.connect() as conn:
            for story_id, chat_id, muted in (await conn.execute(query)).all():
                result[story_id][chat_id] = muted is not None
        return result

    async def story_sources(self, story_id: str) -> StoryView | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(
                select(t.stories).where(t.stories.c.id == story_id))).mappings().first()
        return None if row is None else story_view(row)

    # --- chats -------------------------------------------------------------------------------
    async def active_chats(self) -> list[Chat]:
        query = select(t.chats).where(t.chats.c.active.is_(True))
        async with self.engine.connect() as conn:
            return [chat_from_row(r) for r in (await conn.execute(query)).mappings()]

    async def chat_by_platform(self, platform: str, platform_id: str) -> Chat | None:
        query = select(t.chats).where(
            t.chats.c.platform == platform, t.chats.c.platform_id == platform_id)
        async with self.engine.connect() as conn:
            row = (await conn.execute(query)).mappings().first()
        return None if row is None else chat_from_row(row)

    async def chat_creator(self, chat_id: int) -> str:
        async with self.engine.connect() as conn:
            found = await conn.scalar(select(t.chats.c.created_by).where(t.chats.c.id == chat_id))
        return str(found or "")

    async def upsert_chat(
        self, platform: str, platform_id: str, thread_id: str | None, user_id: str, now: datetime
    ) -> Chat:
        existing = await self.chat_by_platform(platform, platform_id)
        async with self.engine.begin() as conn:
            if existing is None:
                await conn.execute(insert(t.chats).values(
                    platform=platform, platform_id=platform_id, thread_id=thread_id, active=True,
                    settings=ChatSettings().to_json(), created_by=user_id, created_at=now,
                    last_digest_at=now))
            else:
                await conn.execute(update(t.chats).where(t.chats.c.id == existing.id).values(
                    active=True, thread_id=thread_id, deactivated_reason=None))
        chat = await self.chat_by_platform(platform, platform_id)
        assert chat is not None
        return chat

    async def save_settings(self, chat_id: int, settings: ChatSettings) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(update(t.chats).where(t.chats.c.id == chat_id).values(
                settings=settings.to_json()))

    async def deactivate_chat(self, chat_id: int, reason: str) -> None:
        """Stop all work for a chat that can no longer be reached; keep its rows for the record."""
        async with self.engine.begin() as conn:
            await conn.execute(update(t.chats).where(t.chats.c.id == chat_id).values(
                active=False, deactivated_reason=reason))
            await conn.execute(update(t.outbox).where(
                t.outbox.c.chat_id == chat_id, t.outbox.c.status.in_(("pending", "held"))
            ).values(status="cancelled", last_error=reason))

    async def delete_chat(self, chat_id: int) -> None:
        async with self.engine.begin() as conn:
            for table in (t.outbox, t.mutes, t.story_matches, t.rules, t.chat_feeds):
                await conn.execute(delete(table).where(table.c.chat_id == chat_id))
            await conn.execute(delete(t.chats).where(t.chats.c.id == chat_id))

    async def migrate_chat(self, platform: str, old_id: str, new_id: str) -> None:
        """A Telegram group became a supergroup: keep its data under the new id."""
        async with self.engine.begin() as conn:
            await conn.execute(update(t.chats).where(
                t.chats.c.platform == platform, t.chats.c.platform_id == old_id
            ).values(platform_id=new_id))

    # --- rules -------------------------------------------------------------------------------
    async def add_rule(self, chat_id: int, query: str, limit: int, now: datetime) -> WatchRule:
        async with self.engine.begin() as conn:
            count, top = (await conn.execute(
                select(func.count(), func.max(t.rules.c.number)).where(
                    t.rules.c.chat_id == chat_id))).one()
            if count >= limit:
                raise RuleLimitReached(f"this chat already has {count} rules (the limit)")
            number = (top or 0) + 1
            rule_id = (await conn.execute(insert(t.rules).values(
                chat_id=chat_id, number=number, query=query, created_at=now
            ).returning(t.rules.c.id))).scalar_one()
        return WatchRule(rule_id, chat_id, number, query)

    async def remove_rule(self, chat_id: int, key: str) -> WatchRule | None:
        by = t.rules.c.number == int(key) if key.isdigit() else t.rules.c.query == key
        async with self.engine.begin() as conn:
            row = (await conn.execute(select(t.rules).where(
                t.rules.c.chat_id == chat_id, by))).mappings().first()
            if row is None:
                return None
            await conn.execute(delete(t.rules).where(t.rules.c.id == row["id"]))
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
            exists = await conn.scalar(select(func.count()).select_from(t.mutes).where(
                t.mutes.c.chat_id == chat_id, t.mutes.c.story_id == story_id))
            if not exists:
                await conn.execute(insert(t.mutes).values(chat_id=chat_id, story_id=story_id))
        return not exists


def _chunks(items: list[Any], size: int) -> list[list[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def _article(row: RowMapping) -> Article:
    return Article(row["id"], row["feed_id"] or 0, row["url"], row["title"], row["text"],
                   row["published"], row["source"])


def story_view(row: RowMapping) -> StoryView:
    """A StoryView from a `stories` row."""
    sources = tuple(Source(s["name"], s["url"]) for s in row["sources"])
    return StoryView(row["id"], row["headline"], row["url"], row["summary"], sources)
