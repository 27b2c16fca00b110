"""SqlStore: the Store port on SQLAlchemy async (SQLite and PostgreSQL alike)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Self

import orjson
from sqlalchemy import and_, delete, event, insert, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bot.core.models import (
    Chat,
    ChatSettings,
    Source,
    StoryKind,
    StoryView,
)
from bot.core.outbox import WAITING, OutboxStatus
from bot.services.records import StoredArticle
from bot.storage import tables as t
from bot.storage.cluster import ClusterStore, article_of, bump_rules_version
from bot.storage.errors import translate_errors
from bot.storage.feeds import FeedStore
from bot.storage.migrate import migrate
from bot.storage.outbox import OutboxStore, chat_from_row
from bot.storage.polls import PollStore
from bot.storage.rules import RuleStore


def make_engine(url: str) -> AsyncEngine:
    """An engine for `url`; SQLite gets a busy timeout so concurrent writers wait, not fail,
    and write-ahead logging, so readers (chat commands) never wait for a poll's write."""
    if url.startswith("sqlite"):
        engine = create_async_engine(
            url, connect_args={"timeout": 30}, json_serializer=_json_text, hide_parameters=True
        )
        event.listen(engine.sync_engine, "connect", _sqlite_wal)
        return engine
    # hide_parameters: a logged database error never carries the values it was writing (a
    # WebSub secret, a callback token, a chat's text).
    return create_async_engine(
        url, pool_pre_ping=True, json_serializer=_json_text, hide_parameters=True
    )


def _json_text(value: Any) -> str:
    """JSON columns encoded by orjson: a poll writes thousands of outbox payloads, and the
    standard encoder was a sixth of a cold poll's main-process CPU."""
    return orjson.dumps(value).decode()


def _sqlite_wal(dbapi_connection: Any, record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # persistent in the file; a no-op in memory
    cursor.close()


@translate_errors
class SqlStore(FeedStore, RuleStore, OutboxStore, PollStore, ClusterStore):
    """All persistence; each public method is one transaction."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    @classmethod
    async def open(cls, url: str) -> Self:
        """Connect and apply migrations."""
        store = cls(make_engine(url))
        await migrate(store.engine)
        return store

    async def close(self) -> None:
        await self.engine.dispose()

    # --- articles and stories ---------------------------------------------------------------
    async def known_articles(self, ids: Sequence[str], urls: Sequence[str]) -> set[str]:
        """The ids and urls among those given that are already stored."""
        found: set[str] = set()
        async with self.engine.connect() as conn:
            for chunk in _chunks(list(ids), 500):
                found.update(
                    (
                        await conn.execute(
                            select(t.articles.c.id).where(t.articles.c.id.in_(chunk))
                        )
                    ).scalars()
                )
            for chunk in _chunks(list(urls), 500):
                found.update(
                    (
                        await conn.execute(
                            select(t.articles.c.url).where(t.articles.c.url.in_(chunk))
                        )
                    ).scalars()
                )
        return found

    async def recent_articles(self, since: datetime) -> list[StoredArticle]:
        query = (
            select(t.articles)
            .where(t.articles.c.published >= since)
            .order_by(t.articles.c.published, t.articles.c.fetched_at)
        )
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [StoredArticle(article_of(r), r["story_id"], StoryKind(r["kind"])) for r in rows]

    async def followers(self, story_ids: Sequence[str]) -> dict[str, dict[int, bool]]:
        """story -> {chat id: muted} for the chats that follow each story."""
        query = (
            select(t.story_matches.c.story_id, t.story_matches.c.chat_id, t.mutes.c.story_id)
            .join(t.chats, t.chats.c.id == t.story_matches.c.chat_id)
            .outerjoin(
                t.mutes,
                and_(
                    t.mutes.c.chat_id == t.story_matches.c.chat_id,
                    t.mutes.c.story_id == t.story_matches.c.story_id,
                ),
            )
            .where(t.story_matches.c.story_id.in_(story_ids), t.chats.c.active.is_(True))
        )
        result: dict[str, dict[int, bool]] = {s: {} for s in story_ids}
        async with self.engine.connect() as conn:
            for story_id, chat_id, muted in (await conn.execute(query)).all():
                result[story_id][chat_id] = muted is not None
        return result

    async def story_sources(self, story_id: str) -> StoryView | None:
        async with self.engine.connect() as conn:
            row = (
                (await conn.execute(select(t.stories).where(t.stories.c.id == story_id)))
                .mappings()
                .first()
            )
        return None if row is None else story_view(row)

    # --- chats -------------------------------------------------------------------------------
    async def active_chats(self) -> list[Chat]:
        query = select(t.chats).where(t.chats.c.active.is_(True))
        async with self.engine.connect() as conn:
            return [chat_from_row(r) for r in (await conn.execute(query)).mappings()]

    async def chat_by_platform(self, platform: str, platform_id: str) -> Chat | None:
        query = select(t.chats).where(
            t.chats.c.platform == platform, t.chats.c.platform_id == platform_id
        )
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
        if existing is None:
            try:
                await self._insert_chat(platform, platform_id, thread_id, user_id, now)
            except IntegrityError:  # a concurrent first command of this chat subscribed it
                existing = await self.chat_by_platform(platform, platform_id)
        if existing is not None:
            async with self.engine.begin() as conn:
                await conn.execute(
                    update(t.chats)
                    .where(t.chats.c.id == existing.id)
                    .values(active=True, thread_id=thread_id, deactivated_reason=None)
                )
                if not existing.active:
                    await bump_rules_version(conn)
        chat = await self.chat_by_platform(platform, platform_id)
        assert chat is not None
        return chat

    async def _insert_chat(
        self, platform: str, platform_id: str, thread_id: str | None, user_id: str, now: datetime
    ) -> None:
        row = {"platform": platform, "platform_id": platform_id, "thread_id": thread_id}
        async with self.engine.begin() as conn:
            await conn.execute(
                insert(t.chats).values(
                    **row,
                    active=True,
                    settings=ChatSettings().to_json(),
                    created_by=user_id,
                    created_at=now,
                    last_digest_at=now,
                )
            )
            await bump_rules_version(conn)

    async def save_settings(self, chat_id: int, settings: ChatSettings) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(
                update(t.chats).where(t.chats.c.id == chat_id).values(settings=settings.to_json())
            )

    async def deactivate_chat(self, chat_id: int, reason: str) -> None:
        """Stop all work for a chat that can no longer be reached; keep its rows for the record."""
        async with self.engine.begin() as conn:
            await conn.execute(
                update(t.chats)
                .where(t.chats.c.id == chat_id)
                .values(active=False, deactivated_reason=reason)
            )
            await bump_rules_version(conn)
            await conn.execute(
                update(t.outbox)
                .where(
                    t.outbox.c.chat_id == chat_id, t.outbox.c.status.in_([s.value for s in WAITING])
                )
                .values(status=OutboxStatus.CANCELLED.value, last_error=reason)
            )

    async def delete_chat(self, chat_id: int) -> None:
        async with self.engine.begin() as conn:
            for table in (t.outbox, t.mutes, t.story_matches, t.rules, t.chat_feeds):
                await conn.execute(delete(table).where(table.c.chat_id == chat_id))
            await conn.execute(delete(t.chats).where(t.chats.c.id == chat_id))
            await bump_rules_version(conn)

    async def migrate_chat(self, platform: str, old_id: str, new_id: str) -> None:
        """A Telegram group became a supergroup: keep its data under the new id."""
        async with self.engine.begin() as conn:
            await conn.execute(
                update(t.chats)
                .where(t.chats.c.platform == platform, t.chats.c.platform_id == old_id)
                .values(platform_id=new_id)
            )


def _chunks(items: list[Any], size: int) -> list[list[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def story_view(row: RowMapping) -> StoryView:
    """A StoryView from a `stories` row."""
    sources = tuple(Source(s["name"], s["url"]) for s in row["sources"])
    return StoryView(row["id"], row["headline"], row["url"], row["summary"], sources)
