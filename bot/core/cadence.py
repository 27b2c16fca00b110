"""When to poll a feed next: publisher hints on success, exponential backoff on failure."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TypedDict

DEFAULT_INTERVAL = timedelta(minutes=10)


class Hints(TypedDict, total=False):
    """What a publisher asked about its next poll (keyword arguments of `next_poll_at`)."""

    ttl_minutes: int | None
    cache_max_age: timedelta | None
    expires: datetime | None


MAX_INTERVAL = timedelta(hours=6)  # a publisher asking for days between polls would hide news
MAX_BACKOFF = timedelta(hours=12)  # a broken feed is still retried twice a day
FAILING_AFTER = 10  # consecutive errors before a feed is reported as failing


def is_failing(error_count: int) -> bool:
    """True once a feed has failed `FAILING_AFTER` times in a row."""
    return error_count >= FAILING_AFTER


def backoff(interval: timedelta, error_count: int) -> timedelta:
    """interval * 2^(n-1) for the n-th consecutive error, capped at `MAX_BACKOFF`."""
    if error_count <= 0:
        return interval
    # Cap the exponent first: interval * 2**1000 would overflow timedelta.
    return min(interval * (1 << min(error_count - 1, 16)), MAX_BACKOFF)


def next_poll_at(
    now: datetime,
    *,
    interval: timedelta = DEFAULT_INTERVAL,
    ttl_minutes: int | None = None,
    cache_max_age: timedelta | None = None,
    expires: datetime | None = None,
    retry_after: timedelta | None = None,
    error_count: int = 0,
) -> datetime:
    """The next time to poll, given the outcome of the poll that just happened at `now`.

    Success (`error_count == 0`): the longest of our interval, the feed's <ttl>, the
    Cache-Control max-age and the Expires date, capped at `MAX_INTERVAL`.
    Failure (`error_count` = consecutive errors including this one): exponential backoff,
    capped at `MAX_BACKOFF`. Either way a Retry-After is honoured, up to `MAX_BACKOFF`.
    """
    if error_count > 0:
        delay = backoff(interval, error_count)
    else:
        hints = [interval]
        if ttl_minutes is not None and ttl_minutes > 0:
            hints.append(timedelta(minutes=min(ttl_minutes, 10**6)))
        if cache_max_age is not None:
            hints.append(cache_max_age)
        if expires is not None:
            hints.append(expires - now)
        delay = min(max(hints), max(MAX_INTERVAL, interval))
    if retry_after is not None:
        delay = max(delay, min(retry_after, MAX_BACKOFF))
    return now + delay
