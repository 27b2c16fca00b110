"""Feeds and which chats read them: the feed half of SqlStore."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import delete, exists, func, insert, or_, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.services.ports import FeedRef
from bot.services.records import FeedInfo
from bot.storage import tables as t


def _feed_info(row: RowMapping) -> FeedInfo:
    return FeedInfo(
        row["id"],
        row["url"],
        row["title"],
        row["is_default"],
        row["error_count"],
        row["last_error"],
        row["last_ok_at"],
        bool(row.get("pushed")),
    )


# A feed its WebSub hub pushes (the tick turns a lapsed lease back to "new").
_PUSHED = (
    exists()
    .where(t.websub_subscriptions.c.feed_id == t.feeds.c.id)
    .where(t.websub_subscriptions.c.state == "live")
    .label("pushed")
)


def new_feed(url: str, title: str, now: datetime) -> dict[str, object]:
    """A feed row a chat adds: not a default, polled at once."""
    return {"url": url, "title": title, "is_default": False, "next_poll_at": now,
            "error_count": 0, "created_at": now}  # fmt: skip


def _ref(row: RowMapping) -> FeedRef:
    """A due feed, with what its last fetch remembered."""
    r = row
    return FeedRef(r["id"], r["url"], r["etag"], r["last_modified"], r["error_count"], r["pace"])


# A poll lease: a worker claims due feeds for this long and renews the claim while it works,
# so a worker that dies mid-poll (SIGKILL, a database error) holds them at most this long.
POLL_LEASE = timedelta(seconds=30)


class FeedStore:
    """Default feeds, chat-added feeds, and what is due for polling."""

    engine: AsyncEngine

    async def sync_default_feeds(self, feeds: Sequence[tuple[str, str]], now: datetime) -> None:
        """Mark exactly `feeds` as the defaults, adding the new ones (a few statements for
        any number of feeds: a bot may start with ten thousand)."""
        f = t.feeds.c
        async with self.engine.begin() as conn:
            await conn.execute(update(t.feeds).values(is_default=False))
            urls = list(dict.fromkeys(url for url, _ in feeds))
            known: set[str] = set()
            for i in range(0, len(urls), 500):
                chunk = urls[i : i + 500]
                known.update((await conn.execute(select(f.url).where(f.url.in_(chunk)))).scalars())
                await conn.execute(update(t.feeds).where(f.url.in_(chunk)).values(is_default=True))
            names = dict(reversed(list(feeds)))  # the first name of a listed-twice url
            fresh = [
                {
                    "url": url,
                    "title": names[url],
                    "is_default": True,
                    "next_poll_at": now,
                    "error_count": 0,
                    "created_at": now,
                }
                for url in urls
                if url not in known
            ]
            if fresh:
                await conn.execute(insert(t.feeds), fresh)

    async def due_feeds(
        self, now: datetime, limit: int, *, worker: str = "", lease: timedelta = POLL_LEASE
    ) -> list[FeedRef]:
        """Claim up to `limit` due feeds for `worker` until `now + lease`, so no other worker
        polls them meanwhile; saving a feed's poll ends the claim."""
        f = t.feeds.c
        used = select(t.chat_feeds.c.feed_id).join(t.chats).where(t.chats.c.active.is_(True))
        query = (
            select(t.feeds)
            .where(f.next_poll_at <= now)
            .where(or_(f.claimed_until.is_(None), f.claimed_until <= now))
            .where(or_(f.is_default.is_(True), f.id.in_(used)))
            .order_by(f.next_poll_at)
            .limit(limit)
            .with_for_update(skip_locked=True)  # PostgreSQL; SQLite has one writer anyway
        )
        async with self.engine.begin() as conn:
            rows = (await conn.execute(query)).mappings().all()
            ids = [r["id"] for r in rows]
            await conn.execute(
                update(t.feeds)
                .where(f.id.in_(ids))
                .values(claimed_by=worker, claimed_until=now + lease)
            )
        return [_ref(r) for r in rows]

    async def pace_states(self) -> list[str | None]:
        """The rate state (JSON) of every polled feed, for `Pacer.calibrate`'s budget."""
        f = t.feeds.c
        used = select(t.chat_feeds.c.feed_id).join(t.chats).where(t.chats.c.active.is_(True))
        query = select(f.pace).where(or_(f.is_default.is_(True), f.id.in_(used)))
        async with self.engine.connect() as conn:
            return list((await conn.execute(query)).scalars())

    async def renew_feed_claims(self, ids: Sequence[int], worker: str, until: datetime) -> None:
        """Extend `worker`'s claims on `ids` that it still holds (saved feeds are not)."""
        f = t.feeds.c
        async with self.engine.begin() as conn:
            await conn.execute(
                update(t.feeds)
                .where(f.id.in_(ids), f.claimed_by == worker)
                .values(claimed_until=until)
            )

    async def release_feeds(self, ids: Sequence[int], worker: str) -> None:
        """Give up `worker`'s claims on `ids` (its poll failed): due feeds are polled again
        at the next tick instead of when the lease runs out."""
        f = t.feeds.c
        async with self.engine.begin() as conn:
            await conn.execute(
                update(t.feeds)
                .where(f.id.in_(ids), f.claimed_by == worker)
                .values(claimed_by=None, claimed_until=None)
            )

    async def feed_audience(self, feed_ids: Sequence[int]) -> dict[int, frozenset[int] | None]:
        """For each feed: None when every chat reads it (a default feed), else the chats."""
        async with self.engine.connect() as conn:
            defaults = set(
                (
                    await conn.execute(
                        select(t.feeds.c.id).where(
                            t.feeds.c.id.in_(feed_ids), t.feeds.c.is_default.is_(True)
                        )
                    )
                ).scalars()
            )
            pairs = (
                await conn.execute(select(t.chat_feeds).where(t.chat_feeds.c.feed_id.in_(feed_ids)))
            ).all()
        audience: dict[int, frozenset[int] | None] = {}
        for feed_id in feed_ids:
            chats = frozenset(c for c, f in pairs if f == feed_id)
            audience[feed_id] = None if feed_id in defaults else chats
        return audience

    async def add_chat_feed(self, chat_id: int, url: str, title: str, now: datetime) -> FeedInfo:
        async with self.engine.begin() as conn:
            feed_id = await conn.scalar(select(t.feeds.c.id).where(t.feeds.c.url == url))
            if feed_id is None:
                added = insert(t.feeds).values(**new_feed(url, title, now))
                feed_id = (await conn.execute(added.returning(t.feeds.c.id))).scalar_one()
            linked = await conn.scalar(
                select(func.count())
                .select_from(t.chat_feeds)
                .where(t.chat_feeds.c.chat_id == chat_id, t.chat_feeds.c.feed_id == feed_id)
            )
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
            await conn.execute(
                delete(t.chat_feeds).where(
                    t.chat_feeds.c.chat_id == chat_id, t.chat_feeds.c.feed_id == row["id"]
                )
            )
            return _feed_info(row)

    async def chat_feeds(self, chat_id: int) -> list[FeedInfo]:
        own = select(t.chat_feeds.c.feed_id).where(t.chat_feeds.c.chat_id == chat_id)
        query = (
            select(t.feeds, _PUSHED)
            .where(or_(t.feeds.c.is_default.is_(True), t.feeds.c.id.in_(own)))
            .order_by(t.feeds.c.id)
        )
        async with self.engine.connect() as conn:
            return [_feed_info(r) for r in (await conn.execute(query)).mappings()]
