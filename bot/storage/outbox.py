"""The outbox and digest half of SqlStore: claim in order, mark, retry, hold, digest."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.digest import DigestEntry
from bot.core.models import Chat, ChatSettings, MessageKind
from bot.core.outbox import OutboxStatus, SentAlert
from bot.services.records import ChatStatus, OutboxRow
from bot.storage import tables as t

o = t.outbox.c
PENDING = OutboxStatus.PENDING.value
_CHAT_COLUMNS = (
    t.chats.c.platform,
    t.chats.c.platform_id,
    t.chats.c.thread_id,
    t.chats.c.active,
    t.chats.c.settings,
)


def _head_of_line() -> Any:
    """Only a chat's oldest pending message may go, so each chat receives in order."""
    older = t.outbox.alias("older")
    return (
        ~select(older.c.id)
        .where(older.c.chat_id == o.chat_id, older.c.status == PENDING, older.c.id < o.id)
        .exists()
    )


class OutboxStore:
    """Outbox rows are claimed with a lease, so two workers never send the same row and a
    crashed worker's claim expires (its one in-flight message may then be sent again)."""

    engine: AsyncEngine

    async def claim_due(self, now: datetime, limit: int, lease_seconds: float) -> list[OutboxRow]:
        free = or_(o.claimed_until.is_(None), o.claimed_until < now)
        query = (
            select(t.outbox, *_CHAT_COLUMNS)
            .join(t.chats, t.chats.c.id == o.chat_id)
            .where(o.status == PENDING, o.next_attempt_at <= now, free, _head_of_line())
            .where(t.chats.c.active.is_(True))
            .order_by(o.next_attempt_at, o.id)
            .limit(limit)
        )
        until = now + timedelta(seconds=lease_seconds)
        claimed: list[OutboxRow] = []
        async with self.engine.begin() as conn:
            rows = (await conn.execute(query)).mappings().all()
            for row in rows:
                taken = await conn.execute(
                    update(t.outbox).where(o.id == row["id"], free).values(claimed_until=until)
                )
                if taken.rowcount == 1:
                    claimed.append(_outbox_row(row))
        return claimed

    async def take_deferred_alerts(
        self, chat_id: int, now: datetime, lease_seconds: float
    ) -> list[OutboxRow]:
        """Claim the chat's other held-back alerts that are due, to fold them into one message."""
        free = or_(o.claimed_until.is_(None), o.claimed_until < now)
        query = (
            select(t.outbox, *_CHAT_COLUMNS)
            .join(t.chats, t.chats.c.id == o.chat_id)
            .where(o.chat_id == chat_id, o.status == PENDING, o.next_attempt_at <= now, free)
            .where(o.kind == MessageKind.ALERT.value, o.deferred.is_(True))
            .order_by(o.id)
        )
        until = now + timedelta(seconds=lease_seconds)
        async with self.engine.begin() as conn:
            rows = (await conn.execute(query)).mappings().all()
            ids = [r["id"] for r in rows]
            await conn.execute(update(t.outbox).where(o.id.in_(ids)).values(claimed_until=until))
        return [_outbox_row(r) for r in rows]

    async def alert_ref(self, chat_id: int, story_id: str) -> SentAlert | None:
        query = select(o.sent_ref, o.folded).where(
            o.chat_id == chat_id,
            o.story_id == story_id,
            o.kind == MessageKind.ALERT.value,
            o.status == OutboxStatus.SENT.value,
        )
        async with self.engine.connect() as conn:
            row = (await conn.execute(query)).first()
        return None if row is None else SentAlert(str(row.sent_ref), bool(row.folded))

    async def mark_sent(
        self, row_id: int, ref: str, now: datetime, *, folded: bool = False
    ) -> None:
        await self._set(
            row_id,
            status=OutboxStatus.SENT.value,
            sent_ref=ref,
            folded=folded,
            sent_at=now,
            claimed_until=None,
        )

    async def mark_retry(
        self, row_id: int, at: datetime, error: str, *, counts_attempt: bool = True
    ) -> None:
        """Try again at `at`; a rate limit (counts_attempt=False) leaves `attempts` alone."""
        attempts = o.attempts + 1 if counts_attempt else o.attempts
        await self._set(
            row_id,
            next_attempt_at=at,
            last_error=error[:500],
            claimed_until=None,
            attempts=attempts,
        )

    async def mark_failed(self, row_id: int, error: str) -> None:
        await self._set(
            row_id,
            status=OutboxStatus.FAILED.value,
            last_error=error[:500],
            claimed_until=None,
            attempts=o.attempts + 1,
        )

    async def _set(self, row_id: int, **values: Any) -> None:
        """Record a delivery's outcome on its claimed row. A row re-armed meanwhile (a newer
        sources edit, see poll_messages) has lost the claim and is left to be sent anew."""
        claimed = o.claimed_until.is_not(None)
        async with self.engine.begin() as conn:
            await conn.execute(update(t.outbox).where(o.id == row_id, claimed).values(**values))

    async def release_held(self, chat_id: int) -> int:
        async with self.engine.begin() as conn:
            changed = await conn.execute(
                update(t.outbox)
                .where(o.chat_id == chat_id, o.status == OutboxStatus.HELD.value)
                .values(status=PENDING)
            )
        return int(changed.rowcount)

    async def chat_status(self, chat_id: int) -> ChatStatus:
        async with self.engine.connect() as conn:
            last = await conn.scalar(
                select(func.max(o.sent_at)).where(
                    o.chat_id == chat_id, o.kind == MessageKind.ALERT.value
                )
            )
            counts: dict[str, int] = dict(
                (
                    await conn.execute(
                        select(o.status, func.count())
                        .where(o.chat_id == chat_id)
                        .group_by(o.status)
                    )
                ).all()
            )
        return ChatStatus(last, int(counts.get(PENDING, 0)), int(counts.get(OutboxStatus.HELD, 0)))

    async def digest_entries(self, chat_id: int, since: datetime) -> list[DigestEntry]:
        m, s = t.story_matches.c, t.stories.c
        query = (
            select(m.rule_label, t.stories)
            .join(t.stories, s.id == m.story_id)
            .where(m.chat_id == chat_id, s.last_seen > since)
            .order_by(m.matched_at)
        )
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [
            DigestEntry(
                r["rule_label"],
                r["id"],
                r["headline"],
                r["url"],
                r["summary"],
                tuple(source["name"] for source in r["sources"]),
                r["developments"],
                r["last_seen"],
            )
            for r in rows
        ]

    async def enqueue_digest(
        self, chat_id: int, slot: datetime, payload: dict[str, Any] | None, now: datetime
    ) -> bool:
        """Record that the digest for `slot` is done (queued, or empty) — once per slot, ever.

        Moving `last_digest_at` forward is the claim: of two workers (or a worker and its
        restart) only the one whose update changes the row queues the digest.
        """
        last = t.chats.c.last_digest_at
        claim = (
            update(t.chats)
            .where(t.chats.c.id == chat_id, or_(last.is_(None), last < slot))
            .values(last_digest_at=slot)
        )
        async with self.engine.begin() as conn:
            if (await conn.execute(claim)).rowcount != 1 or payload is None:
                return False
            row = digest_row(chat_id, slot.isoformat(), payload, now)
            await conn.execute(insert(t.outbox).values(**row))
        return True

    async def last_digest_at(self, chat_id: int) -> datetime | None:
        async with self.engine.connect() as conn:
            return await conn.scalar(
                select(t.chats.c.last_digest_at).where(t.chats.c.id == chat_id)
            )


def chat_from_row(row: Any) -> Chat:
    """A Chat from a row carrying the `chats` columns."""
    return Chat(
        id=row["chat_id"] if "chat_id" in row else row["id"],
        platform=row["platform"],
        platform_id=row["platform_id"],
        thread_id=row["thread_id"],
        active=row["active"],
        settings=ChatSettings.from_json(row["settings"] or {}),
    )


def _outbox_row(row: Any) -> OutboxRow:
    kind = MessageKind(row["kind"])
    return OutboxRow(
        row["id"],
        chat_from_row(row),
        row["story_id"],
        kind,
        row["payload"],
        row["attempts"],
        row["deferred"],
    )


def digest_row(chat_id: int, key: str, payload: dict[str, Any], now: datetime) -> dict[str, Any]:
    """A digest's outbox row, due now; `key` keeps one per slot (or per /digest now)."""
    return {
        "chat_id": chat_id, "story_id": "", "kind": MessageKind.DIGEST.value, "dedup_key": key,
        "payload": payload, "status": PENDING, "attempts": 0,
        "next_attempt_at": now, "created_at": now,
    }  # fmt: skip
