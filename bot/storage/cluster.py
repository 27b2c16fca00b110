"""The cluster half of SqlStore: the inbox between fetch workers and the story stage, the
story head that fences the stage's writes, and the rules version every process can watch."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.core.models import Article
from bot.core.seen import unseen_once
from bot.services.errors import Superseded
from bot.services.ports import FeedReadResult, FeedRef
from bot.services.records import InboxItem, PollBatch
from bot.storage import tables as t
from bot.storage.polls import insert_ignoring_duplicates, save_feed_results, write_poll

_IN = t.inbox.c
_CHUNK = 500  # ids per IN (...) list: well under every driver's parameter limit


async def bump_rules_version(conn: AsyncConnection) -> None:
    """Inside a transaction that changes the rule set: processes caching it rebuild."""
    await conn.execute(update(t.rules_version).values(version=t.rules_version.c.version + 1))


class ClusterStore:
    """Inbox, story head and rules version; each public method is one transaction."""

    engine: AsyncEngine

    async def claimed_feeds(self, ids: Sequence[int], worker: str) -> list[FeedRef]:
        """Those of `ids` still claimed by `worker` (a claim that ran out may be another's)."""
        f = t.feeds.c
        query = select(t.feeds).where(f.id.in_(list(ids)), f.claimed_by == worker)
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query.order_by(f.id))).mappings().all()
        return [
            FeedRef(r["id"], r["url"], r["etag"], r["last_modified"], r["error_count"], r["pace"])
            for r in rows
        ]

    async def put_inbox(self, results: Sequence[FeedReadResult], worker: str, now: datetime) -> int:
        """The feeds' new states and their unseen articles, in one transaction; saving a feed's
        state ends its claim. Returns how many articles were queued for the story stage."""
        f = t.feeds.c
        mine = (
            select(f.id)
            .where(f.id.in_([r.feed_id for r in results]), f.claimed_by == worker)
            .with_for_update()  # held until the states are written: no planner can re-claim
        )
        async with self.engine.begin() as conn:
            held = set((await conn.execute(mine)).scalars())
            # A claim that ran out and went to another worker is not ours to write.
            results = [r for r in results if r.feed_id in held]
            await save_feed_results(conn, list(results), now)
            fresh = await _unseen(conn, [a for r in results for a in r.articles])
            rows = [_inbox_row(a, now) for a in fresh]
            for i in range(0, len(rows), _CHUNK):
                await insert_ignoring_duplicates(conn, t.inbox, rows[i : i + _CHUNK])
        return len(rows)

    async def take_inbox(self, limit: int) -> list[InboxItem]:
        """The oldest `limit` queued articles (they stay queued until `save_stage`)."""
        query = select(t.inbox).order_by(_IN.id).limit(limit)
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [InboxItem(r["id"], _article(r)) for r in rows]

    async def inbox_depth(self, now: datetime) -> tuple[int, timedelta | None]:
        """How many articles wait for the story stage, and how long the oldest has waited."""
        query = select(func.count(), func.min(_IN.received_at))
        async with self.engine.connect() as conn:
            count, oldest = (await conn.execute(query)).one()
        return int(count), (now - oldest if oldest is not None else None)

    async def story_head(self) -> int:
        async with self.engine.connect() as conn:
            return int(await conn.scalar(select(t.story_head.c.version)) or 0)

    async def rules_version(self) -> int:
        async with self.engine.connect() as conn:
            return int(await conn.scalar(select(t.rules_version.c.version)) or 0)

    async def save_stage(
        self, batch: PollBatch, now: datetime, inbox_ids: Sequence[int], head: int
    ) -> None:
        """What save_poll writes, plus the inbox rows it came from, only if the story head is
        still `head`; the head moves on. Raises Superseded, writing nothing, otherwise."""
        h = t.story_head.c
        async with self.engine.begin() as conn:
            # First, so a second stage waits here on the row lock, then sees the new head.
            moved = await conn.execute(
                update(t.story_head).where(h.version == head).values(version=head + 1)
            )
            if moved.rowcount != 1:
                raise Superseded(f"story head moved past {head}")
            await write_poll(conn, batch, now)
            ids = list(inbox_ids)
            for i in range(0, len(ids), _CHUNK):
                await conn.execute(delete(t.inbox).where(_IN.id.in_(ids[i : i + _CHUNK])))


async def _unseen(conn: AsyncConnection, articles: list[Article]) -> list[Article]:
    """Articles neither stored nor queued (by id or url), each once, oldest first."""
    a = t.articles.c
    known: set[str] = set()
    for i in range(0, len(articles), _CHUNK):
        chunk = articles[i : i + _CHUNK]
        ids, urls = [x.id for x in chunk], [x.url for x in chunk if x.url]
        # One query per column, never `id IN … OR url IN …`: PostgreSQL's generic plan for
        # that scans the whole table with unhashed lists (a second per batch at 100,000).
        for column, values in ((a.id, ids), (a.url, urls), (_IN.article_id, ids), (_IN.url, urls)):
            if values:
                known.update(
                    (await conn.execute(select(column).where(column.in_(values)))).scalars()
                )
    return unseen_once(articles, known)


def _inbox_row(article: Article, now: datetime) -> dict[str, Any]:
    return {
        "article_id": article.id,
        "feed_id": article.feed_id or None,
        "url": article.url,
        "title": article.title,
        "text": article.text,
        "source": article.source,
        "published": article.published,
        "received_at": now,
    }


def _article(row: Any) -> Article:
    return article_of(row, "article_id")


def article_of(row: Any, id_column: str = "id") -> Article:
    """An article from a row of `articles` (or, with "article_id", of the inbox)."""
    return Article(
        row[id_column],
        row["feed_id"] or 0,
        row["url"],
        row["title"],
        row["text"],
        row["published"],
        row["source"],
    )
