"""WebSub policy: start-up spread, backoff, renewal, verification matching, signatures."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import pytest

from bot.core import websub as p
from bot.core.websub import Action, SubState

NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


def sub(**changes: object) -> p.Subscription:
    base = p.new_subscription(7, "https://hub.example/", "https://feed.example/rss", "tok",
                              "s3cret", NOW)  # fmt: skip
    return p.Subscription(**{**{n: getattr(base, n) for n in base.__slots__}, **changes})  # type: ignore[arg-type]


def signed(body: bytes, algorithm: str, secret: str = "s3cret") -> str:
    return (
        f"{algorithm}=" + hmac.new(secret.encode(), body, getattr(hashlib, algorithm)).hexdigest()
    )


def test_first_subscribes_are_spread_stably_over_the_start_window() -> None:
    delays = [p.start_delay(feed_id) for feed_id in range(1, 401)]
    assert all(timedelta(0) <= d < p.START_SPREAD for d in delays)
    assert p.start_delay(42) == p.start_delay(42)  # a restart puts each feed where it was
    per_minute = [sum(1 for d in delays if m * 60 <= d.total_seconds() < (m + 1) * 60)
                  for m in range(5)]  # fmt: skip
    assert max(per_minute) < 2 * min(per_minute)


def test_backoff_doubles_from_five_minutes_to_at_most_twelve_hours() -> None:
    assert [p.retry_after(n) for n in (1, 2, 3)] == [timedelta(minutes=m) for m in (5, 10, 20)]
    assert p.retry_after(50) == p.MAX_RETRY


def test_a_request_counts_as_failed_until_verified_then_renews_at_85_percent() -> None:
    asked = p.asking(sub(), "subscribe", NOW)
    assert asked.state is SubState.PENDING and asked.error_count == 1
    assert asked.next_attempt_at == NOW + timedelta(minutes=5)  # no verification: try again
    live = p.confirmed(asked, NOW, timedelta(days=10))
    assert live.state is SubState.LIVE and live.error_count == 0 and live.asked is None
    assert live.next_attempt_at == NOW + timedelta(days=8.5)
    assert p.due_action(live, NOW + timedelta(days=8)) is None
    assert p.due_action(live, NOW + timedelta(days=8.5)) is Action.SUBSCRIBE
    assert p.due_action(live, NOW + timedelta(days=10)) is Action.EXPIRE
    assert p.is_live(live, NOW) and not p.is_live(live, NOW + timedelta(days=10))


def test_a_verification_must_match_the_request_we_await() -> None:
    asked = p.asking(sub(), "subscribe", NOW)
    assert p.verification_matches(asked, "subscribe", asked.topic)
    assert not p.verification_matches(asked, "unsubscribe", asked.topic)
    assert not p.verification_matches(asked, "subscribe", "https://other.example/rss")
    live = p.confirmed(asked, NOW, timedelta(days=1))
    assert not p.verification_matches(live, "subscribe", live.topic)  # a replay


def test_lease_bounds_and_denial_backoff() -> None:
    assert p.granted_lease(None) == p.REQUESTED_LEASE
    assert p.granted_lease(1) == p.MIN_LEASE and p.granted_lease(10**9) == p.MAX_LEASE
    refused = p.denied(sub(state=SubState.LIVE), NOW, "no")
    assert refused.state is SubState.NEW and refused.next_attempt_at == NOW + p.DENIED_WAIT


def test_a_hub_failure_returns_a_pending_subscription_to_new_and_keeps_the_backoff() -> None:
    failed = p.hub_failed(p.asking(sub(), "subscribe", NOW), "hub answered HTTP 503")
    assert failed.state is SubState.NEW and failed.asked is None
    assert p.due_action(failed, NOW) is None
    assert p.due_action(failed, NOW + timedelta(minutes=5)) is Action.SUBSCRIBE


def test_an_unconfirmed_unsubscribe_is_dropped_after_a_few_tries() -> None:
    leaving = p.unsubscribing(sub(), NOW)
    assert p.due_action(leaving, NOW) is Action.UNSUBSCRIBE
    for _ in range(p.MAX_UNSUBSCRIBE_TRIES):
        leaving = p.hub_failed(p.asking(leaving, "unsubscribe", NOW), "down")
    assert p.due_action(leaving, NOW + timedelta(days=1)) is Action.DROP


@pytest.mark.parametrize("algorithm", ["sha256", "sha384", "sha512", "sha1"])
def test_a_correct_signature_passes_with_its_algorithm(algorithm: str) -> None:
    assert p.signature_algorithm("s3cret", b"<rss/>", signed(b"<rss/>", algorithm), None) == (
        algorithm
    )


def test_wrong_missing_or_malformed_signatures_fail() -> None:
    body = b"<rss/>"
    assert p.signature_algorithm("s3cret", body, signed(body, "sha256", "other"), None) is None
    assert p.signature_algorithm("s3cret", body + b" ", signed(body, "sha256"), None) is None
    for header in (None, "", "sha256", "sha256=", "md5=abc", "=abc"):
        assert p.signature_algorithm("s3cret", body, header, None) is None


def test_sha1_is_refused_once_a_stronger_algorithm_was_seen() -> None:
    body = b"<rss/>"
    assert p.signature_algorithm("s3cret", body, signed(body, "sha1"), "sha1") == "sha1"
    assert p.signature_algorithm("s3cret", body, signed(body, "sha1"), "sha256") is None
    assert p.stronger(None, "sha1") and p.stronger("sha1", "sha256")
    assert not p.stronger("sha512", "sha256")


def test_a_pushed_feed_is_polled_no_sooner_than_the_safety_interval() -> None:
    three = timedelta(hours=3)
    assert p.safety_poll_at(NOW + timedelta(minutes=10), NOW, three) == NOW + three
    assert p.safety_poll_at(NOW + timedelta(hours=5), NOW, three) == NOW + timedelta(hours=5)


def test_a_signature_with_characters_no_hex_digest_has_is_refused_not_a_crash() -> None:
    body = b"<rss/>"
    assert p.signature_algorithm("s3cret", body, "sha256=\u00e9" + "0" * 63, None) is None
