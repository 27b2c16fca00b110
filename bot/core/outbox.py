"""Outbox policy: row statuses, platform outcomes, and what happens next — decided here, pure.

Storage and the delivery service only carry these decisions out. The rules:

1. A 429 (RATE_LIMITED) waits what the platform asked, at most `max_backoff`, keeps its place in
   the chat's queue and never counts as an attempt.
2. A transient failure (5xx, timeout, network) counts as an attempt and waits 5 s, 10 s, 20 s …
   but never longer than `max_backoff`, so one failing row never holds its chat's queue for
   longer than that before it is tried again. A platform that is not running in this process
   waits a minute (at most `max_backoff`) and does not count: another process may run it.
3. After `max_attempts` real failures the row is marked FAILED and the chat's queue moves on.
   A message the platform REJECTED as such (HTTP 400: malformed, too long) gets at most
   `REJECTED_ATTEMPTS` tries: it will not change, and the chat's later messages wait behind it.
4. DESTINATION_GONE (blocked, kicked, archived) deactivates the chat and cancels its queue.
5. MESSAGE_GONE on an edit or a reply sends the message anew; on a plain send it is transient.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from bot.core.models import MessageKind


class OutboxStatus(StrEnum):
    """The stored state of an outbox row."""

    PENDING = "pending"  # waits its turn in the chat's queue
    HELD = "held"  # waits for /resume
    SENT = "sent"
    FAILED = "failed"  # gave up after max_attempts real failures
    CANCELLED = "cancelled"  # the chat became unreachable


WAITING = (OutboxStatus.PENDING, OutboxStatus.HELD)
OFFLINE_WAIT = timedelta(minutes=1)
# A refused message is retried a little (a render fix may ship, a 400 may have been a glitch
# upstream) but not for hours: 5 s + 10 s of waiting, then it is given up.
REJECTED_ATTEMPTS = 3


class Outcome(StrEnum):
    """What one delivery attempt came to, in platform-neutral terms."""

    SENT = "sent"
    RATE_LIMITED = "rate_limited"
    TRANSIENT = "transient"
    REJECTED = "rejected"  # the platform refused this message itself (HTTP 400)
    DESTINATION_GONE = "destination_gone"
    MESSAGE_GONE = "message_gone"
    OFFLINE = "offline"  # the chat's platform is not running in this process


class Step(StrEnum):
    """What storage does with the row after an outcome."""

    MARK_SENT = "mark_sent"
    RETRY = "retry"
    GIVE_UP = "give_up"
    DEACTIVATE_CHAT = "deactivate_chat"
    SEND_ANEW = "send_anew"


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How hard delivery tries: `max_attempts` real failures, waits capped at `max_backoff`."""

    max_attempts: int = 50
    max_backoff: timedelta = timedelta(minutes=5)
    first_backoff: timedelta = timedelta(seconds=5)


@dataclass(frozen=True, slots=True)
class NextAction:
    """The decision for one row: a step, when to try again, and whether it used an attempt."""

    step: Step
    retry_at: datetime | None = None
    counts_attempt: bool = False


def backoff(attempts: int, policy: RetryPolicy) -> timedelta:
    """Wait before retry number `attempts + 1`: first_backoff doubling, capped at max_backoff."""
    doubled = policy.first_backoff * (1 << min(max(attempts, 0), 30))
    return min(doubled, policy.max_backoff)


def next_action(
    outcome: Outcome,
    attempts: int,
    now: datetime,
    policy: RetryPolicy,
    *,
    retry_after: float = 0.0,
    reshaped: bool = False,
) -> NextAction:
    """The step after `outcome` for a row that already failed `attempts` times (429s excluded).

    `reshaped`: the row was an edit or a reply, so MESSAGE_GONE means "send it as new".
    """
    if outcome is Outcome.SENT:
        return NextAction(Step.MARK_SENT)
    if outcome is Outcome.RATE_LIMITED:
        wait = min(timedelta(seconds=max(retry_after, 0.0)), policy.max_backoff)
        return NextAction(Step.RETRY, now + wait)
    if outcome is Outcome.OFFLINE:  # not the platform's failure: another process may send it
        return NextAction(Step.RETRY, now + min(OFFLINE_WAIT, policy.max_backoff))
    if outcome is Outcome.DESTINATION_GONE:
        return NextAction(Step.DEACTIVATE_CHAT)
    if outcome is Outcome.MESSAGE_GONE and reshaped:
        return NextAction(Step.SEND_ANEW)
    return _retry_or_give_up(outcome, attempts, now, policy)


def _retry_or_give_up(
    outcome: Outcome, attempts: int, now: datetime, policy: RetryPolicy
) -> NextAction:
    """A failure that counts: retried with backoff until the attempts run out (fewer for a
    message the platform refused as such)."""
    limit = policy.max_attempts
    if outcome is Outcome.REJECTED:
        limit = min(limit, REJECTED_ATTEMPTS)
    if attempts + 1 >= limit:
        return NextAction(Step.GIVE_UP, counts_attempt=True)
    return NextAction(Step.RETRY, now + backoff(attempts, policy), counts_attempt=True)


class Route(StrEnum):
    """How a row reaches the chat."""

    SEND = "send"  # a new message
    EDIT = "edit"  # rewrite the story's alert in place
    REPLY = "reply"  # threaded under the story's alert
    ALREADY_SHOWN = "already_shown"  # nothing to send: the folded notice lists the story


@dataclass(frozen=True, slots=True)
class SentAlert:
    """Where a story's alert went: its platform reference, and whether it was folded into a
    "while you were away" notice with other held alerts."""

    ref: str
    folded: bool = False


def route(kind: MessageKind, alert: SentAlert | None) -> Route:
    """Sources edits and updates attach to the story's alert; everything else is sent anew."""
    if kind not in (MessageKind.SOURCES, MessageKind.UPDATE) or alert is None:
        return Route.SEND  # with no alert out, the edit or update stands alone
    if kind is MessageKind.UPDATE:
        return Route.REPLY  # a folded notice is a fine parent: it names the story
    return Route.ALREADY_SHOWN if alert.folded else Route.EDIT


class SourcesPlan(StrEnum):
    """Where a story's new sources go for one chat."""

    QUEUE = "queue"  # no alert for this chat: the edit row stands alone
    REWRITE_ALERT = "rewrite_alert"  # the alert is held or not due: it will show them itself
    QUEUE_EDIT = "queue_edit"  # the alert is out, on its way, or over: queue an edit of it


def sources_plan(alert_status: OutboxStatus | None, *, may_be_sending: bool = False) -> SourcesPlan:
    """Edit the waiting alert in place, or queue an edit, or queue the message as it is.

    Only an alert no deliverer can have read is rewritten: one held, or not due yet. An
    alert that is due (`may_be_sending`) may be on its way with the text it was read with,
    whether claimed already or about to be (a deliverer's claim can commit between the
    poll's read and its write), so only an edit queued behind it can show the new sources.
    """
    if alert_status is None:
        return SourcesPlan.QUEUE
    if alert_status in WAITING and not may_be_sending:
        return SourcesPlan.REWRITE_ALERT
    return SourcesPlan.QUEUE_EDIT


def initial_status(held: bool) -> OutboxStatus:
    """A new row waits for /resume when held, else takes its place in the chat's queue."""
    return OutboxStatus.HELD if held else OutboxStatus.PENDING
