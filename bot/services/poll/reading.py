"""Reading a batch of feeds at bounded concurrency: the poller's and the fetch stage's step."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from bot.services.ports import Clock, FeedReader, FeedReadResult, FeedRef


async def read_feeds(
    reader: FeedReader, feeds: Sequence[FeedRef], clock: Clock, concurrency: int
) -> list[FeedReadResult]:
    """Fetch and parse `feeds`, at most `concurrency` at once; never raises for a feed."""
    now = clock.now()
    gate = asyncio.Semaphore(concurrency)

    async def read(feed: FeedRef) -> FeedReadResult:
        async with gate:
            return await reader.read(feed, now)

    return list(await asyncio.gather(*(read(f) for f in feeds)))
