"""The cluster's fetch stage: read a batch of claimed feeds, queue their new articles."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from bot.services.poll.leases import HeldClaims
from bot.services.poll.ports import FetchPort
from bot.services.poll.reading import read_feeds
from bot.services.ports import Clock, FeedReader


@dataclass(frozen=True, slots=True)
class FetchReport:
    """What one fetch batch did."""

    feeds: int
    errors: int
    queued: int  # new articles put into the inbox for the story stage


class FetchStage:
    """Fetches and parses feeds a planner claimed for `worker`; one write per batch."""

    def __init__(
        self,
        store: FetchPort,
        reader: FeedReader,
        clock: Clock,
        *,
        lease: timedelta,
        concurrency: int = 64,
    ) -> None:
        self._store, self._reader, self._clock = store, reader, clock
        self._lease, self._concurrency = lease, concurrency

    async def run(self, feed_ids: Sequence[int], worker: str) -> FetchReport:
        """Read the feeds of `feed_ids` still claimed by `worker` (a retried batch whose claim
        ran out skips the feeds another batch took), renewing the claims while reading."""
        feeds = await self._store.claimed_feeds(feed_ids, worker)
        if not feeds:
            return FetchReport(0, 0, 0)
        claims = HeldClaims(self._store, [f.id for f in feeds], worker, self._lease, self._clock)
        try:
            results = await read_feeds(self._reader, feeds, self._clock, self._concurrency)
            queued = await self._store.put_inbox(results, worker, self._clock.now())
        except BaseException:
            await claims.give_back()
            raise
        claims.done()
        return FetchReport(len(feeds), sum(1 for r in results if r.error), queued)
