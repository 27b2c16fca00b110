"""Polling paced by the feed: each feed's interval from its own publishing rate, same budget."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.core.pace_state import PaceState, rate

# The exponent of the allocation: 0.5 minimises the mean publish-to-poll delay for a given
# number of requests; larger gives busy feeds more of the budget (a lower median delay, a
# higher tail on quiet feeds).
DEFAULT_EXPONENT = 0.5
# The budget aimed at, as a share of the fixed interval's: intervals are chosen at each poll
# from the scale of the last calibration, so the requests made drift a little (a few tenths
# of a percent on the real histories) around the aim; aiming 1 % lower keeps them under it.
BUDGET_SHARE = 0.99


@dataclass(frozen=True, slots=True)
class PaceLimits:
    """`base` is today's fixed interval (it sets the budget); no feed is polled more often
    than every `floor` nor less often than every `ceiling` (publisher hints aside)."""

    base: timedelta = timedelta(minutes=10)
    floor: timedelta = timedelta(minutes=2)
    ceiling: timedelta = timedelta(hours=1)

    @property
    def active(self) -> bool:
        """Pacing needs room on both sides of the base: with base <= floor (or >= ceiling)
        every feed would sit at the limit to keep the budget, so each is polled at `base`."""
        return self.floor < self.base < self.ceiling


class Pacer:
    """Paced intervals; `calibrate` must run at start and every few minutes after.

    A feed's interval is `scale / rate ** exponent`, within [floor, ceiling]; the caller
    then applies the publisher's hints (TTL, Cache-Control, Expires, Retry-After) by taking
    the longest, as `cadence.next_poll_at` does with the fixed interval, and errors back off
    from the base interval as before. `calibrate` sets `scale` from every feed's stored
    state so the feeds together make as many requests as at the fixed base interval:
    sum(1 / interval) = feeds / base. The scale is a pure function of the stored states, so
    each process of a cluster computing it from the database gets the same one; none needs
    to know what the others polled.
    """

    def __init__(self, limits: PaceLimits, *, exponent: float = DEFAULT_EXPONENT) -> None:
        self.limits, self.exponent = limits, exponent
        self.scale: float | None = None  # seconds × (items/hour) ** exponent; None: uncalibrated

    def interval(self, state: PaceState, now: datetime) -> timedelta:
        """The feed's next interval; `base` while its rate or the scale is unknown."""
        per_hour = rate(state, now)
        if per_hour is None or self.scale is None or not self.limits.active:
            return self.limits.base
        return timedelta(seconds=self._clipped(self.scale, per_hour))

    def calibrate(self, states: Iterable[PaceState]) -> None:
        """Set the scale so the feeds with a known rate make as many requests as at the fixed
        base interval (feeds without one are polled at base meanwhile). Each feed's rate is
        taken as of its last poll: that is what its current interval was chosen from, so the
        sum is of the intervals in force (a burst decayed since would undercount them)."""
        feeds = [(r, s.hint) for s in states if s.at and (r := rate(s, s.at)) is not None]
        self.scale = budget_scale(feeds, self.limits, self.exponent) if feeds else None

    def _clipped(self, scale: float, per_hour: float) -> float:
        floor, ceiling = (self.limits.floor.total_seconds(), self.limits.ceiling.total_seconds())
        if per_hour <= 0:
            return ceiling
        return min(max(scale / math.pow(per_hour, self.exponent), floor), ceiling)


def budget_scale(feeds: list[tuple[float, float]], limits: PaceLimits, exponent: float) -> float:
    """The scale at which the feeds' (rate, publisher hint) make BUDGET_SHARE of the polls
    a second the fixed interval made. A hint lengthens an interval either way, so a feed
    whose publisher asks for an hour counts at an hour in both sums: its unused share is not
    handed to the others. Polls a second fall as the scale grows: bisection on its log."""
    pacer = Pacer(limits, exponent=exponent)
    base = limits.base.total_seconds()
    target = BUDGET_SHARE * sum(1 / max(base, hint) for _, hint in feeds)
    low, high = -30.0, 30.0
    for _ in range(48):  # from e^-30..e^30 to a relative precision of 1e-13
        middle = (low + high) / 2
        scale = math.exp(middle)
        polls = sum(1 / max(pacer._clipped(scale, r), hint) for r, hint in feeds)
        low, high = (middle, high) if polls > target else (low, middle)
    return math.exp(high)  # the side that never exceeds the budget
