"""Poll cadence: publisher hints on success, capped exponential backoff on failure."""

from datetime import UTC, datetime, timedelta

from bot.core.cadence import (
    FAILING_AFTER,
    MAX_BACKOFF,
    MAX_INTERVAL,
    backoff,
    is_failing,
    next_poll_at,
)

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
TEN = timedelta(minutes=10)


def test_success_uses_the_base_interval_without_hints() -> None:
    assert next_poll_at(NOW, interval=TEN) == NOW + TEN


def test_success_takes_the_longest_publisher_hint() -> None:
    when = next_poll_at(
        NOW,
        interval=TEN,
        ttl_minutes=30,
        cache_max_age=timedelta(minutes=45),
        expires=NOW + timedelta(minutes=20),
    )
    assert when == NOW + timedelta(minutes=45)


def test_hints_shorter_than_the_interval_do_not_speed_polling_up() -> None:
    when = next_poll_at(NOW, interval=TEN, ttl_minutes=1, cache_max_age=timedelta(0))
    assert when == NOW + TEN


def test_expires_in_the_past_is_ignored() -> None:
    assert next_poll_at(NOW, interval=TEN, expires=NOW - timedelta(days=1)) == NOW + TEN


def test_success_hints_are_capped() -> None:
    when = next_poll_at(NOW, interval=TEN, ttl_minutes=60 * 24 * 30, expires=NOW.replace(year=2030))
    assert when == NOW + MAX_INTERVAL


def test_failure_backs_off_exponentially() -> None:
    delays = [next_poll_at(NOW, interval=TEN, error_count=n) - NOW for n in (1, 2, 3, 4)]
    assert delays == [TEN, 2 * TEN, 4 * TEN, 8 * TEN]


def test_backoff_is_capped_even_for_huge_error_counts() -> None:
    assert backoff(TEN, 10_000) == MAX_BACKOFF
    assert next_poll_at(NOW, interval=TEN, error_count=50) == NOW + MAX_BACKOFF


def test_failure_ignores_success_hints() -> None:
    when = next_poll_at(NOW, interval=TEN, ttl_minutes=300, error_count=1)
    assert when == NOW + TEN


def test_retry_after_is_honoured_and_capped() -> None:
    assert next_poll_at(NOW, retry_after=timedelta(hours=2), error_count=1) == NOW + timedelta(
        hours=2
    )
    assert next_poll_at(NOW, retry_after=timedelta(days=30), error_count=1) == NOW + MAX_BACKOFF


def test_retry_after_shorter_than_backoff_does_not_shorten_it() -> None:
    when = next_poll_at(NOW, interval=TEN, retry_after=timedelta(seconds=5), error_count=3)
    assert when == NOW + 4 * TEN


def test_failing_after_ten_consecutive_errors() -> None:
    assert FAILING_AFTER == 10
    assert not is_failing(9)
    assert is_failing(10)
    assert not is_failing(0)
