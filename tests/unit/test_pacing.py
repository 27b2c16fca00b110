"""Paced polling: busy feeds polled more often, the fixed interval's budget kept, bursts caught
up, limits and publisher hints respected, the state surviving a round trip through JSON."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from bot.core.cadence import next_poll_at
from bot.core.pace_state import PaceState, observe, rate
from bot.core.pacing import PaceLimits, Pacer

T0 = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)
BASE = timedelta(minutes=10)
LIMITS = PaceLimits(base=BASE, floor=timedelta(minutes=2), ceiling=timedelta(hours=1))


@dataclass
class Feed:
    """A feed publishing at `times`, polled as the pacer says; counts its polls after `since`."""

    times: list[datetime]
    state: PaceState = field(default_factory=PaceState)
    next_at: datetime = T0
    polls: int = 0
    seen: set[int] = field(default_factory=set)
    delays: dict[int, float] = field(default_factory=dict)  # item: publish -> seen, seconds
    hint: timedelta = timedelta(0)  # what its publisher asks between polls (TTL and the like)

    def poll(self, pacer: Pacer, now: datetime, since: datetime) -> None:
        listed = [(i, p) for i, p in enumerate(self.times) if p <= now][-30:]
        self.delays.update((i, (now - p).total_seconds()) for i, p in listed if i not in self.seen)
        self.seen.update(i for i, _ in listed)
        state = observe(self.state, [(f"item-{i}", p) for i, p in listed], now)
        self.state = replace(state, hint=self.hint.total_seconds())
        self.polls += now >= since
        self.next_at = now + max(pacer.interval(self.state, now), self.hint)


def run(feeds: Sequence[Feed], pacer: Pacer, until: datetime, since: datetime = T0) -> None:
    """Poll the feeds as due until `until`, recalibrating every 5 minutes as the bot does."""
    calibrated: datetime | None = None
    while (feed := min(feeds, key=lambda f: f.next_at)).next_at <= until:
        now = feed.next_at
        if calibrated is None or now - calibrated >= timedelta(minutes=5):
            pacer.calibrate(f.state for f in feeds)
            calibrated = now
        feed.poll(pacer, now, since)


def poisson(per_hour: float, hours: float, seed: int, start: datetime = T0) -> list[datetime]:
    rng, at, times = random.Random(seed), 0.0, []
    while (at := at + rng.expovariate(per_hour)) < hours:
        times.append(start + timedelta(hours=at))
    return times


def test_a_busy_feed_is_polled_more_often_than_a_quiet_one() -> None:
    busy, quiet = Feed(poisson(6, 48, 1)), Feed(poisson(0.25, 48, 2))
    pacer = Pacer(LIMITS)
    run([busy, quiet], pacer, T0 + timedelta(hours=48))
    now = T0 + timedelta(hours=48)
    # Of two feeds, the busier gets most of the budget: shorter than today's ten minutes,
    # the quieter longer (it is the quiet one of this population, so above the base).
    assert pacer.interval(busy.state, now) < BASE < pacer.interval(quiet.state, now)
    assert busy.polls > 2 * quiet.polls


def test_a_mixed_population_makes_no_more_requests_than_the_fixed_interval() -> None:
    rates = [0.02, 0.1, 0.3, 0.5, 1, 1, 2, 3, 5, 10] * 2
    feeds = [Feed(poisson(r, 48, seed)) for seed, r in enumerate(rates)]
    run(feeds, Pacer(LIMITS), T0 + timedelta(hours=48), since=T0 + timedelta(hours=24))
    per_feed_day = sum(f.polls for f in feeds) / len(feeds)
    fixed = timedelta(days=1) / BASE  # 144
    assert 0.9 * fixed <= per_feed_day <= 1.01 * fixed
    assert feeds[9].polls > 3 * feeds[0].polls  # and the budget went where the news is


def test_feeds_whose_publishers_ask_for_an_hour_do_not_hand_their_share_to_the_others() -> None:
    rates = [0.05, 0.2, 1, 3, 8] * 2
    feeds = [Feed(poisson(r, 48, seed)) for seed, r in enumerate(rates)]
    for feed, per_hour in zip(feeds, rates, strict=True):
        if per_hour < 2:  # the quieter publishers ask for an hour between polls
            feed.hint = timedelta(hours=1)
    run(feeds, Pacer(LIMITS), T0 + timedelta(hours=48), since=T0 + timedelta(hours=24))
    fixed = sum(timedelta(days=1) / max(BASE, f.hint) for f in feeds)  # what today made
    assert sum(f.polls for f in feeds) <= 1.01 * fixed


def test_a_quiet_feed_that_starts_publishing_fast_is_caught_up_within_a_few_polls() -> None:
    spell = T0 + timedelta(hours=24)
    burst = [spell + timedelta(minutes=3 * k) for k in range(1, 40)]
    quiet = Feed(poisson(0.1, 24, 3) + burst)
    others = [Feed(poisson(r, 30, 10 + r)) for r in (0.5, 1, 2, 4)]
    pacer = Pacer(LIMITS)
    run([quiet, *others], pacer, spell)
    assert pacer.interval(quiet.state, spell) > BASE  # quiet before the spell
    run([quiet, *others], pacer, spell + timedelta(hours=3))
    # The first burst items wait for the quiet feed's slow poll. From the poll that saw them
    # on, the feed is polled fast: every later burst item is seen within the base interval.
    first = len(quiet.times) - len(burst)
    delays = [quiet.delays[first + k] for k in range(len(burst))]
    noticed = burst[0] + timedelta(seconds=delays[0])
    after = sorted(d for d, p in zip(delays, burst, strict=True) if p > noticed)
    assert len(after) > 20
    assert after[-1] < BASE.total_seconds()
    assert after[len(after) // 2] < BASE.total_seconds() / 2


def test_intervals_stay_within_floor_and_ceiling() -> None:
    flood = Feed([T0 + timedelta(seconds=20 * k) for k in range(1, 4000)])
    silent, middle = Feed([]), [Feed(poisson(0.5, 20, seed)) for seed in range(20, 30)]
    pacer = Pacer(LIMITS)
    run([flood, silent, *middle], pacer, T0 + timedelta(hours=20))
    now = T0 + timedelta(hours=20)
    assert pacer.interval(flood.state, now) == LIMITS.floor
    assert pacer.interval(silent.state, now) == LIMITS.ceiling


def test_publisher_hints_win_over_a_shorter_paced_interval() -> None:
    busy, quiet = Feed(poisson(20, 10, 5)), Feed(poisson(0.2, 10, 6))
    pacer = Pacer(LIMITS)
    run([busy, quiet], pacer, T0 + timedelta(hours=10))
    now = T0 + timedelta(hours=10)
    paced = pacer.interval(busy.state, now)
    assert paced < BASE
    assert next_poll_at(now, interval=paced, ttl_minutes=30) == now + timedelta(minutes=30)
    hinted = next_poll_at(now, interval=paced, cache_max_age=timedelta(minutes=15))
    assert hinted == now + timedelta(minutes=15)
    assert next_poll_at(now, interval=paced, error_count=3) == now + 4 * paced


def test_a_new_or_uncalibrated_feed_is_polled_at_the_base_interval() -> None:
    pacer = Pacer(LIMITS)
    busy, quiet = Feed(poisson(6, 4, 12)), Feed([])
    run([busy, quiet], pacer, T0 + timedelta(minutes=90))
    now = T0 + timedelta(minutes=90)
    # Ninety minutes of silence is not yet a silent feed: both still at the base.
    assert pacer.interval(quiet.state, now) == pacer.interval(busy.state, now) == BASE
    run([busy, quiet], pacer, T0 + timedelta(hours=4))
    now = T0 + timedelta(hours=4)
    assert pacer.interval(busy.state, now) < BASE < pacer.interval(quiet.state, now)
    assert pacer.interval(PaceState(), now) == BASE  # never polled: no rate yet
    assert Pacer(LIMITS).interval(busy.state, now) == BASE  # not calibrated yet


def test_base_at_or_below_the_floor_means_fixed_polling() -> None:
    limits = PaceLimits(base=timedelta(minutes=1), floor=timedelta(minutes=2))
    busy, quiet = Feed(poisson(10, 10, 7)), Feed(poisson(0.1, 10, 8))
    pacer = Pacer(limits)
    run([busy, quiet], pacer, T0 + timedelta(hours=10))
    now = T0 + timedelta(hours=10)
    assert pacer.interval(busy.state, now) == pacer.interval(quiet.state, now) == limits.base


def test_the_state_round_trips_through_json_and_a_bad_one_starts_fresh() -> None:
    feed = Feed(poisson(3, 30, 9))
    pacer = Pacer(LIMITS)
    run([feed, Feed(poisson(0.5, 30, 11))], pacer, T0 + timedelta(hours=30))
    text = feed.state.to_json()
    back = PaceState.from_json(text)
    now = T0 + timedelta(hours=30)
    assert back.to_json() == text and back.ids == feed.state.ids
    drift = pacer.interval(back, now) - pacer.interval(feed.state, now)
    assert abs(drift) < timedelta(seconds=1)  # four decimals kept
    assert len(text) < 1200  # small enough for a column of every feed row
    assert PaceState.from_json("{not json") == PaceState() == PaceState.from_json(None)


def test_an_item_listed_again_is_counted_once_even_undated() -> None:
    # An undated item gets the fetch time as its date, every fetch: only its id says it is old.
    state = observe(PaceState(), [], T0)
    for k in range(1, 30):
        now = T0 + timedelta(minutes=10 * k)
        state = observe(state, [("undated", now)], now)
    once = rate(state, T0 + timedelta(hours=5))
    assert once is not None and sum(state.counts) < 1.01
