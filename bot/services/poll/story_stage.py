"""The cluster's story stage: drains the inbox through the one story index, fenced by a head.

Exactly one stage should run (procrastinate's lock sees to that), but a paused process that
wakes after another took over must not write a second time: every save is a compare-and-set
on the stored story head. A stage whose head moved throws its index away, rebuilds it from
storage (which now holds the other stage's work) and tries again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from bot.core.stories import StoryModels
from bot.services.errors import Superseded
from bot.services.poll.planning import StoryPlanner
from bot.services.poll.ports import StoryStagePort
from bot.services.poll.rulebook import RuleBook
from bot.services.ports import Clock
from bot.services.records import PollBatch

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class StageReport:
    """What one drain did."""

    articles: int  # inbox articles handled (stored, with or without messages)
    messages: int
    retries: int  # saves refused because another stage had written


class StoryStage:
    """Assigns queued articles to stories, plans messages, saves each chunk in one commit."""

    def __init__(
        self,
        store: StoryStagePort,
        rules: RuleBook,
        clock: Clock,
        *,
        window: timedelta,
        models: StoryModels,
        chunk: int = 500,
    ) -> None:
        self._store, self._rules, self._clock, self._chunk = store, rules, clock, chunk
        self.planner = StoryPlanner(store, rules, window=window, models=models)
        self._head: int | None = None  # the story head the index was built at

    async def restore(self) -> None:
        """Rebuild the index from storage. The head is read first: a commit landing while
        the window is read makes the first save retry, never write on a stale index."""
        head = await self._store.story_head()
        await self.planner.restore(self._clock.now())
        self._head = head

    async def drain(self, max_chunks: int | None = None) -> StageReport:
        """Handle queued articles chunk by chunk until the inbox is empty (or `max_chunks`)."""
        articles = messages = retries = chunks = 0
        while max_chunks is None or chunks < max_chunks:
            if self._head is None:
                await self.restore()
            saved = await self._one_chunk()
            if saved is None:
                retries += 1
                continue
            if saved == (0, 0):
                break
            articles, messages, chunks = articles + saved[0], messages + saved[1], chunks + 1
        return StageReport(articles, messages, retries)

    async def _one_chunk(self) -> tuple[int, int] | None:
        """(articles, messages) saved; (0, 0) when the inbox is empty; None when superseded."""
        assert self._head is not None
        await self._rules.refresh()  # a /watch taken by a chat process counts from this chunk
        items = await self._store.take_inbox(self._chunk)
        if not items:
            return 0, 0
        now, batch = self._clock.now(), PollBatch()
        await self.planner.plan([i.article for i in items], batch, now)
        try:
            await self._store.save_stage(batch, now, [i.id for i in items], self._head)
        except Superseded:
            log.warning("another story stage wrote since head %s: rebuilding", self._head)
            self._head = None
            return None
        except BaseException:
            self._head = None  # the index saw articles that were not stored: forget them
            raise
        self._head += 1
        return len(items), len(batch.messages)
