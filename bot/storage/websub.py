"""WebSub subscriptions in SQL, and pushed articles queued for the cluster's story stage."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.models import Article
from bot.core.websub import Subscription, SubState
from bot.storage import tables as t
from bot.storage.cluster import _inbox_row, _unseen
from bot.storage.polls import insert_ignoring_duplicates

_S = t.websub_subscriptions.c
_MUTABLE = ("hub", "topic", "token", "secret", "state", "asked", "next_attempt_at",
            "lease_expires_at", "error_count", "last_error", "algorithm")  # fmt: skip

_SELECT = select(t.websub_subscriptions, t.feeds.c.url.label("feed_url")).join(
    t.feeds, t.feeds.c.id == _S.feed_id
)


class WebSubStore:
    """Each method is one transaction; a subscription row is the whole truth about it, so a
    restarted bot (or another process) carries on every lease where it was."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def by_feed(self, feed_id: int) -> Subscription | None:
        return await self._one(_S.feed_id == feed_id)

    async def by_token(self, token: str) -> Subscription | None:
        return await self._one(_S.token == token)

    async def add(self, sub: Subscription, now: datetime) -> None:
        """Insert `sub` (its id is assigned); a feed that has one already keeps it."""
        row = {name: getattr(sub, name) for name in _MUTABLE}
        row.update(feed_id=sub.feed_id, created_at=now, state=sub.state.value)
        async with self.engine.begin() as conn:
            await insert_ignoring_duplicates(conn, t.websub_subscriptions, [row])

    async def save(self, sub: Subscription, *, if_next_attempt: datetime | None = None) -> bool:
        """Write `sub`'s state. With `if_next_attempt`, only if the stored next attempt is
        still that (a claim: of two processes ticking at once, one sends the request)."""
        query = update(t.websub_subscriptions).where(_S.id == sub.id)
        if if_next_attempt is not None:
            query = query.where(_S.next_attempt_at == if_next_attempt)
        values = {name: getattr(sub, name) for name in _MUTABLE}
        values["state"] = sub.state.value
        async with self.engine.begin() as conn:
            done = await conn.execute(query.values(**values))
        return bool(done.rowcount == 1)

    async def raise_algorithm(self, sub_id: int, algorithm: str) -> None:
        """The strongest signature seen so far (sha1 is refused after it), alone."""
        query = update(t.websub_subscriptions).where(_S.id == sub_id)
        async with self.engine.begin() as conn:
            await conn.execute(query.values(algorithm=algorithm))

    async def remove(self, sub_id: int) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(delete(t.websub_subscriptions).where(_S.id == sub_id))

    async def due(self, now: datetime, limit: int) -> list[Subscription]:
        """Subscriptions with an attempt due, or a live lease that ran out; oldest first."""
        lapsed = and_(_S.state == SubState.LIVE.value, _S.lease_expires_at <= now)
        query = (
            _SELECT.where(or_(_S.next_attempt_at <= now, lapsed))
            .order_by(_S.next_attempt_at)
            .limit(limit)
        )
        async with self.engine.connect() as conn:
            return [_subscription(r) for r in (await conn.execute(query)).mappings()]

    async def unused(self, limit: int) -> list[Subscription]:
        """Subscriptions of feeds nobody polls any more (not a default, in no active chat's
        list): the same rule as `FeedStore.due_feeds`, so they are exactly the unpolled ones."""
        used = select(t.chat_feeds.c.feed_id).join(t.chats).where(t.chats.c.active.is_(True))
        query = _SELECT.where(
            _S.state != SubState.UNSUBSCRIBING.value,
            t.feeds.c.is_default.is_(False),
            _S.feed_id.not_in(used),
        ).limit(limit)
        async with self.engine.connect() as conn:
            return [_subscription(r) for r in (await conn.execute(query)).mappings()]

    async def poll_soon(self, feed_id: int, now: datetime) -> None:
        """A feed that stopped being pushed is due now, not at its slow safety poll (a feed
        backing off after errors keeps its wait: that is the publisher's or its failure's)."""
        f = t.feeds.c
        query = update(t.feeds).where(f.id == feed_id, f.next_poll_at > now, f.error_count == 0)
        async with self.engine.begin() as conn:
            await conn.execute(query.values(next_poll_at=now))

    async def pushed_feeds(self, now: datetime) -> set[int]:
        """Feeds a hub pushes now (verified, lease running)."""
        query = select(_S.feed_id).where(_S.state == SubState.LIVE.value, _S.lease_expires_at > now)
        async with self.engine.connect() as conn:
            return set((await conn.execute(query)).scalars())

    async def queue_pushed(self, articles: Sequence[Article], now: datetime) -> int:
        """The cluster's sink: unseen pushed articles into the story stage's inbox, exactly
        as a fetch worker queues polled ones (stored or queued already: skipped)."""
        async with self.engine.begin() as conn:
            fresh = await _unseen(conn, list(articles))
            rows = [_inbox_row(a, now) for a in fresh]
            await insert_ignoring_duplicates(conn, t.inbox, rows)
        return len(rows)

    async def _one(self, where: Any) -> Subscription | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(_SELECT.where(where))).mappings()
            found = row.first()
        return _subscription(found) if found is not None else None


def _subscription(row: Any) -> Subscription:
    return Subscription(
        id=row["id"], feed_id=row["feed_id"], hub=row["hub"], topic=row["topic"],
        token=row["token"], secret=row["secret"], state=SubState(row["state"]),
        next_attempt_at=row["next_attempt_at"], asked=row["asked"],
        lease_expires_at=row["lease_expires_at"], error_count=row["error_count"],
        last_error=row["last_error"], algorithm=row["algorithm"], feed_url=row["feed_url"],
    )  # fmt: skip


__all__ = ["WebSubStore"]
