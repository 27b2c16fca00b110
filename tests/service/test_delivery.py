"""The delivery service on the in-memory store: what a chat receives when its platform says
slow down, fails, refuses a message, is gone, loses a message, or is not running here."""

from __future__ import annotations

from datetime import datetime, timedelta

from fakes.memory_store import MemoryStore
from fakes.notifier import ScriptedNotifier
from support import SettableClock

from bot.core.codec import to_payload
from bot.core.models import (
    AlertMessage,
    Chat,
    Highlight,
    MessageKind,
    NoticeMessage,
    OutboundMessage,
    Source,
    StoryView,
    UpdateMessage,
)
from bot.core.outbox import REJECTED_ATTEMPTS, OutboxStatus, RetryPolicy
from bot.services.errors import (
    DestinationGone,
    MessageGone,
    MessageRejected,
    RateLimited,
    TransientError,
)
from bot.services.outbound.delivery import Deliverer, DeliveryReport


def story(n: int, outlets: int = 1) -> StoryView:
    sources = tuple(Source(f"Outlet {i}", f"http://o{i}.example/{n}") for i in range(outlets))
    return StoryView(f"s{n}", f"Headline {n}", f"http://o0.example/{n}", "Summary.", sources)


def queue(
    store: MemoryStore, clock: SettableClock, chat: Chat, *numbers: int,
    kind: MessageKind = MessageKind.ALERT, message: OutboundMessage | None = None,
    until: datetime | None = None,
) -> None:  # fmt: skip
    """Rows for stories `numbers`, due now; `until`: held back by quiet hours until then."""
    for n in numbers:
        shown = message or AlertMessage(story(n), Highlight(f"snippet {n}"))
        store.add_row(chat.id, f"s{n}", kind, to_payload(shown), until or clock.now(),
                      deferred=until is not None)  # fmt: skip


def headlines(notifier: ScriptedNotifier, to: str) -> list[str]:
    return [c.message.story.headline for c in notifier.delivered(to)]  # type: ignore[union-attr]


async def run(deliverer: Deliverer, clock: SettableClock, *, seconds: int) -> None:
    """A delivery round every second for `seconds` seconds, as the scheduler would."""
    for _ in range(seconds):
        await deliverer.deliver_once()
        clock.advance(seconds=1)


def setup(
    policy: RetryPolicy | None = None, *chats: str
) -> tuple[MemoryStore, SettableClock, ScriptedNotifier, Deliverer, list[Chat]]:
    store, clock, notifier = MemoryStore(), SettableClock(), ScriptedNotifier()
    made = [store.add_chat(name, clock.now()) for name in chats or ("g1",)]
    deliverer = Deliverer(store, {"console": notifier}, clock, policy=policy)
    return store, clock, notifier, deliverer, made


async def test_rate_limits_use_no_attempts_and_the_chat_gets_everything_in_order() -> None:
    store, clock, notifier, deliverer, [chat] = setup(RetryPolicy(max_attempts=2))
    queue(store, clock, chat, 1, 2)
    notifier.fail["g1"] = [RateLimited(30)] * 4  # more 429s than the policy allows failures
    for _ in range(4):
        assert await deliverer.deliver_once() == DeliveryReport(retried=1)
        clock.advance(seconds=29)
        assert await deliverer.deliver_once() == DeliveryReport()  # waits what was asked
        clock.advance(seconds=1)
    await deliverer.drain()
    assert headlines(notifier, "g1") == ["Headline 1", "Headline 2"]
    assert [(r.status, r.attempts) for r in store.rows_of(chat)] == [(OutboxStatus.SENT, 0)] * 2


async def test_a_long_retry_after_is_capped_at_the_policy_backoff() -> None:
    store, clock, notifier, deliverer, [chat] = setup(RetryPolicy(max_backoff=timedelta(minutes=5)))
    queue(store, clock, chat, 1)
    notifier.fail["g1"] = [RateLimited(3600)]
    await deliverer.deliver_once()
    clock.advance(minutes=5)
    await deliverer.deliver_once()
    assert headlines(notifier, "g1") == ["Headline 1"]


async def test_transient_failures_back_off_doubling_up_to_the_cap_then_deliver() -> None:
    policy = RetryPolicy(first_backoff=timedelta(seconds=5), max_backoff=timedelta(seconds=20))
    store, clock, notifier, deliverer, [chat] = setup(policy)
    queue(store, clock, chat, 1, 2)
    notifier.fail["g1"] = [TransientError("timeout")] * 4
    await deliverer.deliver_once()
    for wait in (5, 10, 20, 20):  # doubled, then capped at max_backoff
        tries = len(notifier.calls)
        clock.advance(seconds=wait - 1)
        await deliverer.deliver_once()
        assert len(notifier.calls) == tries, f"tried again before {wait} s"
        clock.advance(seconds=1)
        await deliverer.deliver_once()
        assert len(notifier.calls) == tries + 1, f"not tried again after {wait} s"
    await deliverer.drain()
    assert headlines(notifier, "g1") == ["Headline 1", "Headline 2"]
    assert store.rows_of(chat)[0].attempts == 4


async def test_a_rejected_message_is_given_up_and_the_chat_gets_its_next_one() -> None:
    store, clock, notifier, deliverer, [chat] = setup(RetryPolicy(max_attempts=50))
    queue(store, clock, chat, 1, 2)
    # Refused as often as the policy tries: a fourth try would get through, so none is made.
    notifier.fail["g1"] = [MessageRejected("400: message is too long")] * REJECTED_ATTEMPTS
    await run(deliverer, clock, seconds=120)
    tried = [c.message.story.headline for c in notifier.calls]  # type: ignore[union-attr]
    assert tried == ["Headline 1"] * REJECTED_ATTEMPTS + ["Headline 2"]
    assert headlines(notifier, "g1") == ["Headline 2"]
    first = store.rows_of(chat)[0]
    assert first.status is OutboxStatus.FAILED and "too long" in (first.last_error or "")


async def test_a_chat_that_blocked_the_bot_is_deactivated_and_sent_nothing_more() -> None:
    store, clock, notifier, deliverer, [gone, other] = setup(None, "g1", "g2")
    queue(store, clock, gone, 1, 2)
    queue(store, clock, other, 3)
    notifier.fail["g1"] = [DestinationGone("Forbidden: bot was blocked by the user")]
    assert await deliverer.deliver_once() == DeliveryReport(sent=1, deactivated=1)
    await run(deliverer, clock, seconds=600)
    assert [c.message.story.headline for c in notifier.calls if c.to == "g1"] == ["Headline 1"]  # type: ignore[union-attr]
    assert headlines(notifier, "g2") == ["Headline 3"]
    assert not store.chat(gone.id).active
    assert "blocked" in (store.chats[gone.id].deactivated_reason or "")
    assert {r.status for r in store.rows_of(gone)} == {OutboxStatus.CANCELLED}


async def test_an_edit_or_reply_to_a_deleted_alert_is_sent_as_a_new_message() -> None:
    store, clock, notifier, deliverer, [chat] = setup()
    queue(store, clock, chat, 1)
    await deliverer.drain()
    [alert] = notifier.delivered("g1")
    edit = AlertMessage(story(1, outlets=2), Highlight("snippet 1"))
    queue(store, clock, chat, 1, kind=MessageKind.SOURCES, message=edit)
    notifier.fail["g1"] = [MessageGone("message to edit not found")]
    await deliverer.drain()
    update = UpdateMessage(story(1, outlets=2), "Talks near end.", Source("Outlet 1", "http://u"))
    queue(store, clock, chat, 1, kind=MessageKind.UPDATE, message=update)
    notifier.fail["g1"] = [MessageGone("message to reply to not found")]
    await deliverer.drain()
    calls = [(c.action, c.parent, c.error is None) for c in notifier.calls[1:]]
    assert calls == [
        ("edit", alert.ref, False), ("send", None, True),  # the edit, as a new message
        ("reply", alert.ref, False), ("send", None, True),  # the update, as a new message
    ]  # fmt: skip
    assert len(notifier.delivered("g1")[1].message.story.sources) == 2  # type: ignore[union-attr]
    assert {r.status for r in store.rows_of(chat)} == {OutboxStatus.SENT}


async def test_a_platform_not_running_here_keeps_its_messages_for_a_process_that_runs_it() -> None:
    store, clock, notifier, _, [console_chat] = setup()
    slack_chat = store.add_chat("C1", clock.now(), platform="slack")
    queue(store, clock, slack_chat, 1, 2)
    queue(store, clock, console_chat, 3)
    console_only = Deliverer(
        store, {"console": notifier}, clock, policy=RetryPolicy(max_attempts=2)
    )
    await run(console_only, clock, seconds=3600)  # an hour: many rounds, many "offline" outcomes
    assert headlines(notifier, "g1") == ["Headline 3"] and notifier.delivered("C1") == []
    assert [(r.status, r.attempts) for r in store.rows_of(slack_chat)] == [
        (OutboxStatus.PENDING, 0)
    ] * 2
    slack = ScriptedNotifier()
    with_slack = Deliverer(store, {"slack": slack}, clock)
    clock.advance(minutes=1)  # the last "offline" retry time
    await with_slack.drain()
    assert headlines(slack, "C1") == ["Headline 1", "Headline 2"]


async def test_alerts_held_back_by_quiet_hours_arrive_folded_into_one_message() -> None:
    store, clock, notifier, deliverer, [chat] = setup()
    queue(store, clock, chat, 1, 2, 3, until=clock.now() + timedelta(hours=5))
    await run(deliverer, clock, seconds=60)
    assert notifier.calls == []
    clock.advance(hours=5)
    await deliverer.drain()
    [folded] = notifier.delivered("g1")
    assert isinstance(folded.message, NoticeMessage)
    assert [s.headline for s in folded.message.stories] == [
        "Headline 1",
        "Headline 2",
        "Headline 3",
    ]
    assert [(r.status, r.folded) for r in store.rows_of(chat)] == [(OutboxStatus.SENT, True)] * 3
