"""The delivery use case: outbox rows go out through the chat's platform notifier.

The notifier raises our own error family (see bot.services.ports); each error becomes an
`Outcome`, and bot.core.outbox decides what follows (retry when, give up, deactivate, send
anew). This module only carries the decision out through the store.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from bot.core.codec import from_payload
from bot.core.digest import fold_held_alerts
from bot.core.models import AlertMessage, MessageKind, NoticeMessage
from bot.core.outbox import (
    NextAction,
    Outcome,
    RetryPolicy,
    Route,
    Step,
    next_action,
    route,
)
from bot.services.errors import (
    DeliveryError,
    DestinationGone,
    MessageGone,
    MessageRejected,
    RateLimited,
)
from bot.services.outbound.ports import DeliveryPort
from bot.services.ports import Address, Clock, Notifier
from bot.services.records import OutboxRow

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    """What one delivery round did."""

    sent: int = 0
    retried: int = 0
    failed: int = 0
    deactivated: int = 0


@dataclass(frozen=True, slots=True)
class Attempt:
    """One try at a row: its outcome, the platform reference if sent, and the error text."""

    outcome: Outcome
    ref: str = ""
    folded: bool = False
    error: str = ""
    retry_after: float = 0.0
    reshaped: bool = False  # it was an edit or a reply to the story's alert


def _attaches(row: OutboxRow) -> bool:
    """Sources edits and updates go to the story's alert when it is out."""
    return row.kind in (MessageKind.SOURCES, MessageKind.UPDATE)


def attempt_failed(exc: Exception, *, reshaped: bool = False) -> Attempt:
    """The outcome for a notifier error; anything unexpected is transient (retried, counted)."""
    error = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, RateLimited):
        return Attempt(Outcome.RATE_LIMITED, error=error, retry_after=exc.retry_after)
    if isinstance(exc, DestinationGone):
        return Attempt(Outcome.DESTINATION_GONE, error=str(exc) or "destination gone")
    if isinstance(exc, MessageGone):
        return Attempt(Outcome.MESSAGE_GONE, error=error, reshaped=reshaped)
    if isinstance(exc, MessageRejected):
        return Attempt(Outcome.REJECTED, error=error)
    return Attempt(Outcome.TRANSIENT, error=error)


class Deliverer:
    """Sends due outbox rows; one row per chat per round keeps each chat's order."""

    def __init__(
        self,
        store: DeliveryPort,
        notifiers: Mapping[str, Notifier],
        clock: Clock,
        *,
        batch: int = 200,
        lease_seconds: float = 120,
        policy: RetryPolicy | None = None,
    ) -> None:
        self._store, self._notifiers, self._clock = store, notifiers, clock
        self._batch, self._lease = batch, lease_seconds
        self._policy = policy or RetryPolicy()

    async def deliver_once(self) -> DeliveryReport:
        """One round: claim each chat's next due row and deliver them concurrently."""
        rows = await self._store.claim_due(self._clock.now(), self._batch, self._lease)
        steps = await asyncio.gather(*(self._deliver(row) for row in rows))
        counted = (Step.MARK_SENT, Step.RETRY, Step.GIVE_UP, Step.DEACTIVATE_CHAT)
        return DeliveryReport(*(steps.count(step) for step in counted))

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

    async def _deliver(self, row: OutboxRow) -> Step:
        notifier = self._notifiers.get(row.chat.platform)
        if notifier is None:  # that platform is not running in this process: keep the row
            offline = Attempt(Outcome.OFFLINE, error=f"platform {row.chat.platform} is offline")
            return await self._carry_out(row, [row], offline)
        group = [row]
        if row.kind is MessageKind.ALERT and row.deferred:
            group += await self._store.take_deferred_alerts(
                row.chat.id, self._clock.now(), self._lease
            )
        result = await self._attempt(notifier, group, anew=False)
        if self._decide(row, result).step is Step.SEND_ANEW:
            log.info("outbox row %s: %s; sending it as a new message", row.id, result.error)
            result = await self._attempt(notifier, group, anew=True)
        return await self._carry_out(row, group, result)

    def _decide(self, row: OutboxRow, result: Attempt) -> NextAction:
        return next_action(
            result.outcome,
            row.attempts,
            self._clock.now(),
            self._policy,
            retry_after=result.retry_after,
            reshaped=result.reshaped,
        )

    async def _carry_out(self, row: OutboxRow, group: list[OutboxRow], result: Attempt) -> Step:
        """Apply the policy's decision to the row (and to the alerts folded with it)."""
        first = self._decide(row, result)
        if first.step is Step.DEACTIVATE_CHAT:
            log.info("chat %s deactivated: %s", row.chat.id, result.error)
            await self._store.deactivate_chat(row.chat.id, result.error)
        else:
            for held in group:
                await self._apply(held, self._decide(held, result), result)
        return first.step

    async def _apply(self, row: OutboxRow, action: NextAction, result: Attempt) -> None:
        if action.step is Step.MARK_SENT:
            await self._store.mark_sent(row.id, result.ref, self._clock.now(), folded=result.folded)
        elif action.step is Step.GIVE_UP:
            log.error(
                "giving up on outbox row %s after %s attempts: %s",
                row.id,
                row.attempts + 1,
                result.error,
            )
            await self._store.mark_failed(row.id, result.error)
        else:  # RETRY (a second MESSAGE_GONE after sending anew is decided as transient)
            assert action.retry_at is not None, action
            log.warning("outbox row %s will be retried: %s", row.id, result.error)
            await self._store.mark_retry(
                row.id, action.retry_at, result.error, counts_attempt=action.counts_attempt
            )

    async def _attempt(self, notifier: Notifier, group: list[OutboxRow], *, anew: bool) -> Attempt:
        """One try; a notifier error becomes its Outcome (a bug counts as transient)."""
        try:
            return await self._send(notifier, group, anew)
        except DeliveryError as exc:
            return attempt_failed(exc)
        except Exception as exc:  # a bug in rendering or a notifier: retried, never lost
            log.exception("delivering outbox row %s failed unexpectedly", group[0].id)
            return attempt_failed(exc)

    async def _send(self, notifier: Notifier, group: list[OutboxRow], anew: bool) -> Attempt:
        """Deliver one row (or several held-back alerts folded into one message)."""
        row = group[0]
        to = Address(row.chat.platform_id, row.chat.thread_id, row.chat.settings.link_previews)
        if len(group) > 1:
            return Attempt(Outcome.SENT, await notifier.send(to, self._folded(group)), True)
        message = from_payload(row.payload)
        alert = None
        if _attaches(row) and not anew:
            alert = await self._store.alert_ref(row.chat.id, row.story_id)
        way = route(row.kind, alert)
        if alert is None or way is Route.SEND:
            return Attempt(Outcome.SENT, await notifier.send(to, message))
        if way is Route.ALREADY_SHOWN:
            return Attempt(Outcome.SENT, alert.ref)
        try:
            if way is Route.EDIT:
                return Attempt(Outcome.SENT, await notifier.edit(to, alert.ref, message))
            return Attempt(Outcome.SENT, await notifier.reply(to, alert.ref, message))
        except MessageGone as exc:  # the alert was deleted: the policy may send this anew
            return attempt_failed(exc, reshaped=True)

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
