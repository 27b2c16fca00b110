"""A feed's publishing rate, learnt online from the items its polls saw: a small JSON state."""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

# The time-of-day profile forgets over about a week: long enough to learn a daily rhythm,
# short enough to follow an outlet that changes its schedule.
PROFILE_HALF_LIFE = timedelta(days=7)
# News comes in clusters: an item just seen says more items are likely soon.
BURST_HALF_LIFE = timedelta(minutes=30)
# Pseudo-hours at the feed's overall mean rate added to each hour's estimate, so one lucky
# item in a barely observed hour does not read as a busy hour.
PRIOR_HOURS = 2.0
# A feed is paced once its polls have watched it this long: one quiet poll of a feed just
# added must not read as a silent feed and send it to the ceiling.
KNOWN_AFTER_HOURS = 2.0
KEPT_IDS = 60  # ids remembered of the newest items listed: undated items are counted once
_HOUR = 3600.0


@dataclass(frozen=True, slots=True)
class PaceState:
    """What one feed's polls taught: items and observed hours per UTC hour of day (both
    decayed), a decayed count of recent items (the burst), and the newest items' ids."""

    at: datetime | None = None  # the poll this state is as of
    counts: tuple[float, ...] = (0.0,) * 24
    hours: tuple[float, ...] = (0.0,) * 24
    burst: float = 0.0
    ids: tuple[str, ...] = ()
    hint: float = 0.0  # seconds the publisher asked between polls at the last one (0: none)

    def to_json(self) -> str:
        return json.dumps(
            {
                "at": self.at.isoformat() if self.at else None,
                "c": [round(x, 4) for x in self.counts],
                "h": [round(x, 4) for x in self.hours],
                "b": round(self.burst, 4),
                "ids": list(self.ids),
                "k": round(self.hint, 1),
            },
            separators=(",", ":"),
        )

    @staticmethod
    def from_json(text: str | None) -> PaceState:
        """The state `to_json` wrote; a missing or unreadable one is a fresh state."""
        try:
            raw = json.loads(text) if text else {}
            at = datetime.fromisoformat(raw["at"]) if raw.get("at") else None
            counts, hours = tuple(map(float, raw["c"])), tuple(map(float, raw["h"]))
            ok = len(counts) == len(hours) == 24
            ids, hint = tuple(map(str, raw["ids"])), float(raw.get("k", 0.0))
            state = PaceState(at, counts, hours, float(raw["b"]), ids, hint)
            return state if ok else PaceState()
        except (ValueError, KeyError, TypeError):
            return PaceState()

    @property
    def known(self) -> bool:
        """True once `KNOWN_AFTER_HOURS` have been watched (before, it has no rate yet)."""
        return sum(self.hours) >= KNOWN_AFTER_HOURS


def short_id(article_id: str) -> str:
    return hashlib.sha1(article_id.encode()).hexdigest()[:8]


def observe(state: PaceState, items: Sequence[tuple[str, datetime]], now: datetime) -> PaceState:
    """`state` after a successful poll at `now` that listed `items` (id, published); an
    empty list for a 304. An item counts as new when its id is not among the newest ids the
    last poll listed (undated items get the fetch time as published, so dates cannot say).
    The first poll only remembers what is listed: its items predate the watching."""
    newest = sorted(items, key=lambda item: item[1], reverse=True)[:KEPT_IDS]
    ids = tuple(short_id(i) for i, _ in newest)
    if state.at is None:
        return replace(state, at=now, ids=ids or state.ids)
    seen = set(state.ids)
    fresh = [min(p, now) for (_, p), key in zip(newest, ids, strict=True) if key not in seen]
    return _counted(_aged(state, now), fresh, now, ids or state.ids)


def _aged(state: PaceState, now: datetime) -> PaceState:
    """Decayed to `now`, with the time since the last poll added to the hours observed."""
    assert state.at is not None
    elapsed = max((now - state.at).total_seconds(), 0.0)
    keep = 0.5 ** (elapsed / PROFILE_HALF_LIFE.total_seconds())
    hours = [h * keep for h in state.hours]
    for hour, span in _spans(state.at, min(elapsed, 7 * 86400.0)):
        hours[hour] += span / _HOUR
    burst = state.burst * 0.5 ** (elapsed / BURST_HALF_LIFE.total_seconds())
    return replace(
        state, at=now, counts=tuple(c * keep for c in state.counts), hours=tuple(hours), burst=burst
    )


def _spans(start: datetime, seconds: float) -> Iterable[tuple[int, float]]:
    """(UTC hour of day, seconds) pieces of the `seconds` after `start`."""
    at = start.astimezone(UTC)
    while seconds > 0:
        into = at.minute * 60 + at.second + at.microsecond / 1e6
        piece = min(_HOUR - into, seconds)
        yield at.hour, piece
        at, seconds = at + timedelta(seconds=piece), seconds - piece


def _counted(
    state: PaceState, published: list[datetime], now: datetime, ids: tuple[str, ...]
) -> PaceState:
    counts, burst = list(state.counts), state.burst
    for when in published:
        age = max((now - when).total_seconds(), 0.0)
        counts[when.astimezone(UTC).hour] += 0.5 ** (age / PROFILE_HALF_LIFE.total_seconds())
        burst += 0.5 ** (age / BURST_HALF_LIFE.total_seconds())
    return replace(state, counts=tuple(counts), burst=burst, ids=ids)


def rate(state: PaceState, now: datetime) -> float | None:
    """Expected items per hour at `now`: the hour's usual rate plus the burst rate (a
    decayed count is a rate estimate: count × ln 2 / half-life). None while unknown."""
    if not state.known or state.at is None:
        return None
    return profile_rate(state, now.astimezone(UTC).hour) + burst_rate(state, now)


def profile_rate(state: PaceState, hour: int) -> float:
    """Items per hour usual at this UTC hour: the hour and its neighbours (weights 1 2 1),
    shrunk towards the feed's overall mean by `PRIOR_HOURS` pseudo-hours."""
    mean = sum(state.counts) / max(sum(state.hours), 1e-9)
    near = [((hour + d) % 24, w) for d, w in ((-1, 1.0), (0, 2.0), (1, 1.0))]
    count = sum(state.counts[h] * w for h, w in near) / 4
    hours = sum(state.hours[h] * w for h, w in near) / 4
    return (count + PRIOR_HOURS * mean) / (hours + PRIOR_HOURS)


def burst_rate(state: PaceState, now: datetime) -> float:
    if state.at is None:
        return 0.0
    half_life = BURST_HALF_LIFE.total_seconds()
    since = max((now - state.at).total_seconds(), 0.0)
    return state.burst * math.pow(0.5, since / half_life) * math.log(2) * _HOUR / half_life
