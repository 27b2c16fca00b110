"""What the outbound flow asks of storage: the outbox lease and marks, the digest slots."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from bot.core.digest import DigestEntry
from bot.core.outbox import SentAlert
from bot.services.ports import ActiveChats
from bot.services.records import OutboxRow


class DeliveryPort(Protocol):
    """Outbox rows claimed with a lease and marked with their outcome."""

    async def claim_due(
        self, now: datetime, limit: int, lease_seconds: float
    ) -> list[OutboxRow]: ...
    async def alert_ref(self, chat_id: int, story_id: str) -> SentAlert | None: ...
    async def take_deferred_alerts(
        self, chat_id: int, now: datetime, lease_seconds: float
    ) -> list[OutboxRow]: ...
    async def mark_sent(
        self, row_id: int, ref: str, now: datetime, *, folded: bool = False
    ) -> None: ...
    async def mark_retry(
        self, row_id: int, at: datetime, error: str, *, counts_attempt: bool = True
    ) -> None: ...
    async def mark_failed(self, row_id: int, error: str) -> None: ...
    async def deactivate_chat(self, chat_id: int, reason: str) -> None: ...


class DigestPort(ActiveChats, Protocol):
    """Each chat's digest slot, claimed once, and what came since the last one."""

    async def digest_entries(self, chat_id: int, since: datetime) -> list[DigestEntry]: ...
    async def enqueue_digest(
        self, chat_id: int, slot: datetime, payload: dict[str, Any] | None, now: datetime
    ) -> bool: ...
    async def last_digest_at(self, chat_id: int) -> datetime | None: ...
