"""Planning polls for a cluster: due feeds claimed in batches, one fetch job per batch, each
batch under its own claim; a batch whose job could not be deferred is given back at once."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import pytest
from support import SettableClock

from bot.cluster.ops import PollPlanner
from bot.services.ports import FeedRef

LEASE = timedelta(seconds=120)


class DueFeeds:
    """Feeds due now; a claimed feed is not due again until released (as the poll leases)."""

    def __init__(self, count: int) -> None:
        self.free = list(range(1, count + 1))
        self.claims: dict[int, str] = {}

    async def due_feeds(
        self, now: datetime, limit: int, *, worker: str = "", lease: timedelta = LEASE
    ) -> list[FeedRef]:
        taken, self.free = self.free[:limit], self.free[limit:]
        self.claims.update(dict.fromkeys(taken, worker))
        return [FeedRef(i, f"http://feeds.test/{i}.xml", None, None, 0) for i in taken]

    async def release_feeds(self, ids: Sequence[int], worker: str) -> None:
        back = [i for i in ids if self.claims.get(i) == worker]
        for i in back:
            del self.claims[i]
        self.free = sorted(self.free + back)

    async def inbox_depth(self, now: datetime) -> tuple[int, timedelta | None]:
        return 0, None


class Jobs:
    def __init__(self, fail_after: int | None = None) -> None:
        self.deferred: list[tuple[list[int], str]] = []
        self._fail_after = fail_after

    async def defer(self, ids: Sequence[int], claim: str) -> None:
        if self._fail_after is not None and len(self.deferred) >= self._fail_after:
            raise ConnectionError("the queue is down")
        self.deferred.append((list(ids), claim))


def _planner(store: DueFeeds, jobs: Jobs, max_batches: int = 100) -> PollPlanner:
    return PollPlanner(store, SettableClock(), jobs.defer, batch=200, max_batches=max_batches,
                       lease=LEASE)  # fmt: skip


async def test_due_feeds_become_one_job_per_200_each_batch_under_its_own_claim() -> None:
    store, jobs = DueFeeds(450), Jobs()

    assert await _planner(store, jobs).plan() == 3

    assert [len(ids) for ids, _ in jobs.deferred] == [200, 200, 50]
    assert sorted(i for ids, _ in jobs.deferred for i in ids) == list(range(1, 451))
    assert len({claim for _, claim in jobs.deferred}) == 3
    assert all(store.claims[i] == claim for ids, claim in jobs.deferred for i in ids)


async def test_one_tick_plans_at_most_max_batches_the_rest_waits_for_the_next() -> None:
    store, jobs = DueFeeds(1000), Jobs()

    assert await _planner(store, jobs, max_batches=2).plan() == 2
    assert len(store.free) == 600  # still due: the next tick plans them
    assert await _planner(store, jobs, max_batches=2).plan() == 2


async def test_a_batch_whose_job_was_not_deferred_is_released_for_the_next_tick() -> None:
    store, jobs = DueFeeds(450), Jobs(fail_after=1)

    with pytest.raises(ConnectionError):
        await _planner(store, jobs).plan()

    assert len(jobs.deferred) == 1
    assert len(store.free) == 250  # the failed batch is due again at once
