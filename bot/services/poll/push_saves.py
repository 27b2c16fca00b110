"""Pushed articles saved in groups: pushes that arrive while a save runs share the next one.

A hub delivers a burst (a backlog after an outage, a busy hour across many feeds) as many
concurrent POSTs. Saved one by one, each waits for every earlier plan-and-commit; grouped,
the next save takes everything that queued meanwhile, in one lookup of what is known and
one transaction, so latency stays flat under a burst instead of growing with the queue.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence

from bot.core.models import Article

Save = Callable[[Sequence[Article]], Awaitable[int]]


class GroupedSaves:
    """An article sink (e.g. over `Poller.save_pushed`) whose concurrent calls are merged.
    Each caller returns once its articles are committed (or with the save's exception);
    it gets the group's count of new articles, which is all a push needs to know."""

    def __init__(self, save: Save, *, max_articles: int = 2_000) -> None:
        self._save, self._max = save, max_articles
        self._waiting: list[tuple[Sequence[Article], asyncio.Future[int]]] = []
        self._lock = asyncio.Lock()

    async def __call__(self, articles: Sequence[Article]) -> int:
        done: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._waiting.append((articles, done))
        async with self._lock:
            while not done.done():  # an earlier holder may have saved ours with its group
                await self._save_group(done)
        return await done

    async def _save_group(self, mine: asyncio.Future[int]) -> None:
        group: list[tuple[Sequence[Article], asyncio.Future[int]]] = []
        count = 0
        while self._waiting and (not group or count + len(self._waiting[0][0]) <= self._max):
            group.append(self._waiting.pop(0))
            count += len(group[-1][0])
        try:
            saved = await self._save([a for articles, _ in group for a in articles])
        except Exception as exc:
            for _, done in group:
                done.set_exception(exc)
            return
        except BaseException:  # cancelled: the others wait for the lock in turn and retry
            self._waiting[:0] = [(a, d) for a, d in group if d is not mine]
            raise
        for _, done in group:
            done.set_result(saved)
