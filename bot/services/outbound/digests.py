"""The digest use case: at each chat's local digest time, queue its digest once."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Protocol

from bot.core.codec import to_payload
from bot.core.digest import build_digest, digest_date_label
from bot.core.models import Chat, DigestMessage
from bot.core.policy import digest_due, next_digest_at
from bot.services.outbound.ports import DigestPort
from bot.services.ports import Clock


class ExtraDigests(Protocol):
    """Queues a digest outside the schedule (/digest now); the scheduled slot stays."""

    async def enqueue_extra_digest(
        self, chat_id: int, payload: dict[str, Any], now: datetime
    ) -> bool: ...


class DigestService:
    """Checks every active chat; the store makes each slot happen once, even after downtime."""

    def __init__(
        self,
        store: DigestPort,
        clock: Clock,
        *,
        max_items: int = 12,
        extra: ExtraDigests | None = None,
    ) -> None:
        self._store, self._clock, self._max_items = store, clock, max_items
        self._extra = extra

    async def tick(self) -> int:
        """Queue the digests that are due now; returns how many were queued."""
        queued = 0
        now = self._clock.now()
        for chat in await self._store.active_chats():
            last = await self._store.last_digest_at(chat.id)
            slot = digest_due(chat.settings, last, now)
            if slot is None:
                continue
            message = await self.preview(chat, since=last, now=now)
            payload = to_payload(message) if message is not None else None
            queued += await self._store.enqueue_digest(chat.id, slot, payload, now)
        return queued

    async def preview(
        self, chat: Chat, *, since: datetime | None = None, now: datetime | None = None
    ) -> DigestMessage | None:
        """The digest `chat` would receive now (for `storywatch digest --dry-run` too)."""
        now = now or self._clock.now()
        if since is None:
            since = await self._store.last_digest_at(chat.id) or now - timedelta(days=1)
        entries = await self._store.digest_entries(chat.id, since)
        label = digest_date_label(now, chat.settings.timezone)
        return build_digest(entries, local_date_label=label, max_items=self._max_items)

    async def send_now(self, chat: Chat) -> str:
        """/digest now: queue the digest of what came since the last one, leaving the
        schedule alone (the next slot still comes, with the same stories and any newer)."""
        if self._extra is None:
            return "/digest now is not available here."
        if chat.settings.paused:
            return "This chat is paused; /resume first, then ask again."
        now = self._clock.now()
        message = await self.preview(chat, now=now)
        if message is None:
            return "Nothing since the last digest, so there is no digest to send now."
        if not await self._extra.enqueue_extra_digest(chat.id, to_payload(message), now):
            return "A digest is already on its way here."
        upcoming = next_digest_at(chat.settings, now)
        later = upcoming.strftime("%Y-%m-%d %H:%M UTC") if upcoming else "none (digests are off)"
        return f"Your digest is on its way. The next scheduled digest is still due: {later}."
