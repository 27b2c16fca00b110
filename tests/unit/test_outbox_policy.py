"""Outbox policy tables: the step after each platform outcome, back-off caps, routes, edits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.core.models import MessageKind
from bot.core.outbox import (
    NextAction,
    OutboxStatus,
    Outcome,
    RetryPolicy,
    Route,
    SentAlert,
    SourcesPlan,
    Step,
    backoff,
    initial_status,
    next_action,
    route,
    sources_plan,
)

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
POLICY = RetryPolicy(max_attempts=5, max_backoff=timedelta(minutes=5))
S = timedelta(seconds=1)


@pytest.mark.parametrize(
    ("outcome", "attempts", "retry_after", "reshaped", "expected"),
    [
        (Outcome.SENT, 0, 0, False, NextAction(Step.MARK_SENT)),
        (Outcome.SENT, 4, 0, False, NextAction(Step.MARK_SENT)),
        # 429: wait what was asked, never an attempt, even at the attempt limit
        (Outcome.RATE_LIMITED, 0, 30, False, NextAction(Step.RETRY, NOW + 30 * S)),
        (Outcome.RATE_LIMITED, 4, 1, False, NextAction(Step.RETRY, NOW + S)),
        (Outcome.RATE_LIMITED, 99, 1, False, NextAction(Step.RETRY, NOW + S)),
        # ...but a huge Retry-After cannot hold the chat's queue past the cap
        (Outcome.RATE_LIMITED, 0, 86_400, False, NextAction(Step.RETRY, NOW + 300 * S)),
        (Outcome.RATE_LIMITED, 0, -5, False, NextAction(Step.RETRY, NOW)),
        # 5xx / timeout: back off, counted
        (Outcome.TRANSIENT, 0, 0, False, NextAction(Step.RETRY, NOW + 5 * S, True)),
        (Outcome.TRANSIENT, 3, 0, False, NextAction(Step.RETRY, NOW + 40 * S, True)),
        (Outcome.TRANSIENT, 4, 0, False, NextAction(Step.GIVE_UP, None, True)),
        # the chat's platform is not running in this process: not a failure, not counted
        (Outcome.OFFLINE, 0, 0, False, NextAction(Step.RETRY, NOW + 60 * S)),
        (Outcome.OFFLINE, 4, 0, False, NextAction(Step.RETRY, NOW + 60 * S)),
        # the platform refused the message itself (400): three tries at most
        (Outcome.REJECTED, 0, 0, False, NextAction(Step.RETRY, NOW + 5 * S, True)),
        (Outcome.REJECTED, 1, 0, False, NextAction(Step.RETRY, NOW + 10 * S, True)),
        (Outcome.REJECTED, 2, 0, False, NextAction(Step.GIVE_UP, None, True)),
        # 403, kicked, archived
        (Outcome.DESTINATION_GONE, 0, 0, False, NextAction(Step.DEACTIVATE_CHAT)),
        (Outcome.DESTINATION_GONE, 4, 0, False, NextAction(Step.DEACTIVATE_CHAT)),
        # the alert to edit or reply to was deleted: send anew; on a plain send: transient
        (Outcome.MESSAGE_GONE, 0, 0, True, NextAction(Step.SEND_ANEW)),
        (Outcome.MESSAGE_GONE, 0, 0, False, NextAction(Step.RETRY, NOW + 5 * S, True)),
        (Outcome.MESSAGE_GONE, 4, 0, False, NextAction(Step.GIVE_UP, None, True)),
    ],
)
def test_the_step_after_each_outcome(
    outcome: Outcome, attempts: int, retry_after: float, reshaped: bool, expected: NextAction
) -> None:
    action = next_action(outcome, attempts, NOW, POLICY, retry_after=retry_after, reshaped=reshaped)
    assert action == expected


def test_four_rate_limits_then_a_502_still_leaves_attempts_to_deliver() -> None:
    attempts = 0
    for outcome in [Outcome.RATE_LIMITED] * 4 + [Outcome.TRANSIENT]:
        action = next_action(outcome, attempts, NOW, POLICY, retry_after=1)
        assert action.step is Step.RETRY
        attempts += action.counts_attempt
    assert attempts == 1


@pytest.mark.parametrize(
    ("attempts", "seconds"),
    [(-1, 5), (0, 5), (1, 10), (2, 20), (5, 160), (6, 300), (50, 300), (10_000, 300)],
)
def test_backoff_doubles_from_five_seconds_and_never_passes_the_cap(
    attempts: int, seconds: int
) -> None:
    assert backoff(attempts, POLICY) == seconds * S


def test_the_cap_is_a_setting() -> None:
    tight = RetryPolicy(max_attempts=50, max_backoff=timedelta(seconds=30))
    assert backoff(40, tight) == 30 * S
    assert next_action(Outcome.TRANSIENT, 40, NOW, tight).retry_at == NOW + 30 * S


@pytest.mark.parametrize(
    ("kind", "alert", "expected"),
    [
        (MessageKind.ALERT, None, Route.SEND),
        (MessageKind.DIGEST, SentAlert("7"), Route.SEND),
        (MessageKind.NOTICE, None, Route.SEND),
        (MessageKind.SOURCES, None, Route.SEND),  # the alert never went out: stands alone
        (MessageKind.UPDATE, None, Route.SEND),
        (MessageKind.SOURCES, SentAlert("7"), Route.EDIT),
        (MessageKind.UPDATE, SentAlert("7"), Route.REPLY),
        (MessageKind.UPDATE, SentAlert("7", folded=True), Route.REPLY),
        (MessageKind.SOURCES, SentAlert("7", folded=True), Route.ALREADY_SHOWN),
    ],
)
def test_how_each_row_reaches_the_chat(
    kind: MessageKind, alert: SentAlert | None, expected: Route
) -> None:
    assert route(kind, alert) is expected


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (None, SourcesPlan.QUEUE),
        (OutboxStatus.PENDING, SourcesPlan.REWRITE_ALERT),
        (OutboxStatus.HELD, SourcesPlan.REWRITE_ALERT),
        (OutboxStatus.SENT, SourcesPlan.QUEUE_EDIT),
        (OutboxStatus.FAILED, SourcesPlan.QUEUE_EDIT),
        (OutboxStatus.CANCELLED, SourcesPlan.QUEUE_EDIT),
    ],
)
def test_new_sources_rewrite_a_waiting_alert_or_queue_an_edit(
    status: OutboxStatus | None, expected: SourcesPlan
) -> None:
    assert sources_plan(status) is expected


def test_an_alert_that_may_be_on_its_way_gets_an_edit_after_it_not_a_rewrite() -> None:
    assert sources_plan(OutboxStatus.PENDING, may_be_sending=True) is SourcesPlan.QUEUE_EDIT
    assert sources_plan(OutboxStatus.SENT, may_be_sending=True) is SourcesPlan.QUEUE_EDIT


def test_held_rows_wait_for_resume() -> None:
    assert (initial_status(True), initial_status(False)) == (
        OutboxStatus.HELD,
        OutboxStatus.PENDING,
    )
