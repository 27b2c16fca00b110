"""The digest use case: at each chat's local digest time, queue its digest once."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.core.codec import to_payload
from bot.core.digest import build_digest, digest_date_label
from bot.core.models import Chat, DigestMessage
from bot.core.policy import digest_due
from bot.services.ports import Clock
from bot.services.store_port import Store


class DigestService:
    """Checks every active chat; the store makes each slot happen once, even after downtime."""

    def __init__(self, store: Store, clock: Clock, *, max_items: int = 12) -> None:
        self._store, self._clock, self._max_items = store, clock, max_items

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
