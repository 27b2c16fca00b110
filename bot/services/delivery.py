"""The delivery use case: outbox rows go out through the chat's platform notifier.

Error policy (the notifier raises our own error family, see bot.services.ports):
RateLimited -> the same row waits `retry_after` and keeps its place (later rows of that chat
wait behind it); DestinationGone -> the chat is deactivated and its queue cancelled;
MessageGone on an edit or reply -> sent as a new message; anything else -> retried with
capped exponential backoff, and marked failed after `max_attempts` so one poisoned message
cannot block a chat forever.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from zoneinfo import ZoneInfo

from bot.core.codec import from_payload
from bot.core.digest import fold_held_alerts
from bot.core.models import AlertMessage, MessageKind, NoticeMessage
from bot.services.ports import (
    Address,
    Clock,
    DestinationGone,
    MessageGone,
    Notifier,
    RateLimited,
)
from bot.services.store_port import OutboxRow, Store

log = logging.getLogger(__name__)

MAX_BACKOFF = timedelta(hours=1)
# sent_ref prefix of alerts that went out folded into one "while you were away" message
FOLDED = "folded:"


def backoff(attempts: int) -> timedelta:
    """Wait before retry number `attempts + 1`: 5 s, 10 s, 20 s … capped at an hour."""
    return min(timedelta(seconds=5 * 2 ** min(attempts, 20)), MAX_BACKOFF)


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    """What one delivery round did."""

    sent: int = 0
    retried: int = 0
    failed: int = 0
    deactivated: int = 0


class Deliverer:
    """Sends due outbox rows; one row per chat per round keeps each chat's order."""

    def __init__(
        self,
        store: Store,
        notifiers: Mapping[str, Notifier],
        clock: Clock,
        *,
        batch: int = 200,
        lease_seconds: float = 120,
        max_attempts: int = 50,
    ) -> None:
        self._store, self._notifiers, self._clock = store, notifiers, clock
        self._batch, self._lease, self._max_attempts = batch, lease_seconds, max_attempts

    async def deliver_once(self) -> DeliveryReport:
        """One round: claim each chat's next due row and deliver them concurrently."""
        rows = await self._store.claim_due(self._clock.now(), self._batch, self._lease)
        outcomes = await asyncio.gather(*(self._deliver(row) for row in rows))
        return DeliveryReport(*(outcomes.count(k) for k in ("sent", "retry", "failed", "gone")))

    async def drain(self, max_rounds: int = 1000) -> DeliveryReport:
        """Deliver until nothing is due (or `max_rounds`), e.g. for the demo and tests."""
        total = DeliveryReport()
        for _ in range(max_rounds):
            report = await self.deliver_once()
            if report == DeliveryReport():
                break
            total = DeliveryReport(
                *(a + b for a, b in zip(_fields(total), _fields(report), strict=True))
            )
        return total

    async def _deliver(self, row: OutboxRow) -> str:
        notifier = self._notifiers.get(row.chat.platform)
        now = self._clock.now()
        if notifier is None:  # that platform is not running in this process: keep the row
            await self._store.mark_retry(row.id, now + timedelta(minutes=1), "platform offline")
            return "retry"
        group = [row]
        if row.kind is MessageKind.ALERT and row.deferred:
            group += await self._store.take_deferred_alerts(row.chat.id, now, self._lease)
        try:
            ref = await self._send(notifier, group)
        except RateLimited as exc:
            for held in group:
                await self._store.mark_retry(
                    held.id, now + timedelta(seconds=exc.retry_after), str(exc)
                )
            return "retry"
        except DestinationGone as exc:
            log.info("chat %s deactivated: %s", row.chat.id, exc)
            await self._store.deactivate_chat(row.chat.id, str(exc) or "destination gone")
            return "gone"
        except Exception as exc:  # every other failure is retried, never lost
            outcomes = [await self._retry_or_fail(held, exc) for held in group]
            return outcomes[0]
        for sent in group:
            await self._store.mark_sent(sent.id, ref, self._clock.now())
        return "sent"

    async def _retry_or_fail(self, row: OutboxRow, exc: Exception) -> str:
        error = f"{type(exc).__name__}: {exc}"
        if row.attempts + 1 >= self._max_attempts:
            log.error(
                "giving up on outbox row %s after %s attempts: %s", row.id, row.attempts + 1, error
            )
            await self._store.mark_failed(row.id, error)
            return "failed"
        log.warning("outbox row %s will be retried: %s", row.id, error)
        await self._store.mark_retry(row.id, self._clock.now() + backoff(row.attempts), error)
        return "retry"

    async def _send(self, notifier: Notifier, group: list[OutboxRow]) -> str:
        """Deliver one row (or several held-back alerts folded into one message)."""
        row = group[0]
        to = Address(row.chat.platform_id, row.chat.thread_id, row.chat.settings.link_previews)
        if len(group) > 1:
            return FOLDED + await notifier.send(to, self._folded(group))
        message = from_payload(row.payload)
        if row.kind not in (MessageKind.SOURCES, MessageKind.UPDATE):
            return await notifier.send(to, message)
        parent = await self._store.alert_ref(row.chat.id, row.story_id)
        if parent is None:  # the alert never went out: this message stands alone
            return await notifier.send(to, message)
        if parent.startswith(FOLDED):
            if row.kind is MessageKind.SOURCES:
                return parent  # the folded message lists the story; there is no alert to edit
            parent = parent.removeprefix(FOLDED)
        try:
            if row.kind is MessageKind.SOURCES:
                return await notifier.edit(to, parent, message)
            return await notifier.reply(to, parent, message)
        except MessageGone:
            return await notifier.send(to, message)

    def _folded(self, group: list[OutboxRow]) -> NoticeMessage:
        stories = []
        for row in group:
            message = from_payload(row.payload)
            if isinstance(message, AlertMessage):
                stories.append(message.story)
        settings = group[0].chat.settings
        label = self._clock.now().astimezone(ZoneInfo(settings.timezone)).strftime("%H:%M")
        return fold_held_alerts(stories, label)


def _fields(report: DeliveryReport) -> tuple[int, int, int, int]:
    return (report.sent, report.retried, report.failed, report.deactivated)
