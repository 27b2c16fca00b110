"""The poll use case: due feeds -> new articles -> stories -> matches -> one transaction.

`poll_once` is the embedded (`all`) mode: `fetch_chunk` then `assign_and_save`, pipelined.
The cluster runs the halves apart: fetch workers read, the one story stage plans.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from bot.core.models import Article
from bot.core.stories import StoryIndex, StoryModels
from bot.services.poll.leases import HeldClaims
from bot.services.poll.planning import StoryPlanner
from bot.services.poll.ports import PollingPort
from bot.services.poll.reading import read_feeds
from bot.services.poll.rulebook import RuleBook
from bot.services.ports import Clock, FeedReader, FeedReadResult, FeedRef
from bot.services.records import PollBatch

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PollReport:
    """What one poll cycle did."""

    feeds: int
    errors: int
    articles: int
    messages: int

    def plus(self, other: PollReport) -> PollReport:
        return PollReport(
            self.feeds + other.feeds,
            self.errors + other.errors,
            self.articles + other.articles,
            self.messages + other.messages,
        )


@dataclass(frozen=True, slots=True)
class _Chunk:
    """Feeds claimed together, being read (fetched and parsed)."""

    feeds: int
    claims: HeldClaims
    reading: asyncio.Task[list[FeedReadResult]]


class Poller:
    """Runs poll cycles. The story index is a cache rebuilt from storage at start."""

    def __init__(
        self,
        store: PollingPort,
        reader: FeedReader,
        rules: RuleBook,
        clock: Clock,
        *,
        window: timedelta,
        concurrency: int = 64,
        chunk: int = 500,
        lease: timedelta = timedelta(seconds=30),
        max_articles_per_save: int = 2_000,
        models: StoryModels,
    ) -> None:
        self._store, self._reader, self._rules, self._clock = store, reader, rules, clock
        self._window, self._concurrency, self._chunk = window, concurrency, chunk
        self._lease, self._max_save = lease, max_articles_per_save
        # Claims are tied to this instance: a restarted bot is a new worker.
        self.worker = uuid.uuid4().hex
        self.planner = StoryPlanner(store, rules, window=window, models=models)
        # One plan-and-save at a time: a pushed body (WebSub) and a poll of the same feed
        # planned at once would both find an item unseen and alert it twice.
        self._saving = asyncio.Lock()

    @property
    def stories(self) -> StoryIndex:
        return self.planner.stories

    async def restore(self) -> None:
        """Replay the window's stored articles so a restarted bot continues the same stories."""
        await self.planner.restore(self._clock.now())

    async def poll_once(self) -> PollReport:
        """Poll every due feed once, in chunks so memory stays flat with many feeds.

        Pipelined: the next chunk is fetched and parsed (in the parser processes) while
        this one is planned and saved, so both cores work; at most two chunks are in flight.
        """
        await self._rules.refresh()
        total = PollReport(0, 0, 0, 0)
        polled: set[int] = set()
        in_flight: list[_Chunk] = []
        try:
            while feeds := await self._claim(polled):
                in_flight.append(self._start(feeds))
                if len(in_flight) > 1:
                    total = total.plus(await self._finish(in_flight[0]))
                    in_flight.pop(0)
            while in_flight:
                total = total.plus(await self._finish(in_flight[0]))
                in_flight.pop(0)
        except BaseException:
            for chunk in in_flight:
                chunk.reading.cancel()
                await chunk.claims.give_back()
            raise
        return total

    async def _claim(self, polled: set[int]) -> list[FeedRef]:
        """The next chunk of due feeds, claimed; each feed at most once per cycle, even if
        its next poll time were still due."""
        feeds = await self._store.due_feeds(
            self._clock.now(), self._chunk, worker=self.worker, lease=self._lease
        )
        feeds = [f for f in feeds if f.id not in polled]
        polled.update(f.id for f in feeds)
        return feeds

    def _start(self, feeds: list[FeedRef]) -> _Chunk:
        claims = HeldClaims(
            self._store, [f.id for f in feeds], self.worker, self._lease, self._clock
        )
        return _Chunk(len(feeds), claims, asyncio.create_task(self.fetch_chunk(feeds)))

    async def _finish(self, chunk: _Chunk) -> PollReport:
        report = await self.assign_and_save(await chunk.reading)
        chunk.claims.done()
        return PollReport(chunk.feeds, report.errors, report.articles, report.messages)

    async def assign_and_save(self, results: list[FeedReadResult]) -> PollReport:
        """Stories, matches and messages for read feeds, saved in bounded transactions."""
        report = PollReport(0, sum(1 for r in results if r.error), 0, 0)
        for group in _save_groups(results, self._max_save):
            report = report.plus(await self._save_group(group))
        return report

    async def fetch_chunk(self, feeds: Sequence[FeedRef]) -> list[FeedReadResult]:
        """Fetch and parse `feeds`, at most `concurrency` at once."""
        return await read_feeds(self._reader, feeds, self._clock, self._concurrency)

    async def save_pushed(self, articles: Sequence[Article]) -> int:
        """Articles a hub pushed, planned and saved as a poll's are (no feed state changes:
        the feed's next poll stays as it was). Returns how many were new."""
        report = await self._save_group([], list(articles))
        return report.articles

    async def _save_group(
        self, results: list[FeedReadResult], pushed: Sequence[Article] = ()
    ) -> PollReport:
        """Plan and save some feeds' results in one transaction of bounded size, so a big
        ingest never holds the database's write lock for long."""
        async with self._saving:
            now = self._clock.now()
            batch = PollBatch(feed_results=results)
            articles = [a for r in results for a in r.articles] + list(pushed)
            await self.planner.plan(articles, batch, now)
            try:
                await self._store.save_poll(batch, now)
            except Exception:
                await self.restore()  # the index saw articles that were not stored: forget them
                raise
        return PollReport(0, 0, len(batch.articles), len(batch.messages))


def _save_groups(results: list[FeedReadResult], limit: int) -> list[list[FeedReadResult]]:
    """Consecutive groups of results holding about `limit` articles each (a feed's results
    are never split: its new state is saved with its articles)."""
    groups: list[list[FeedReadResult]] = [[]]
    count = 0
    for result in results:
        if groups[-1] and count + len(result.articles) > limit:
            groups.append([])
            count = 0
        groups[-1].append(result)
        count += len(result.articles)
    return groups
