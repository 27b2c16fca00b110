"""Grouped saves of pushed articles: a burst shares saves, every caller learns its outcome."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime

from bot.core.models import Article
from bot.services.poll.push_saves import GroupedSaves

NOW = datetime(2026, 1, 5, tzinfo=UTC)


def article(n: int) -> Article:
    return Article(f"u:{n}", 1, f"https://x.example/{n}", f"t{n}", "", NOW, "X")


class GatedSave:
    """Records each save's articles; the first save waits until the test opens the gate."""

    def __init__(self) -> None:
        self.saves: list[list[str]] = []
        self.gate = asyncio.Event()
        self.started = asyncio.Event()
        self.fail: Exception | None = None

    async def __call__(self, articles: Sequence[Article]) -> int:
        self.saves.append([a.id for a in articles])
        self.started.set()
        if len(self.saves) == 1:
            await self.gate.wait()
        if self.fail is not None:
            raise self.fail
        return len(articles)


async def test_pushes_arriving_during_a_save_share_the_next_one() -> None:
    save = GatedSave()
    grouped = GroupedSaves(save)
    first = asyncio.create_task(grouped([article(0)]))
    await save.started.wait()
    rest = [asyncio.create_task(grouped([article(n)])) for n in range(1, 6)]
    save.gate.set()
    assert await first == 1 and await asyncio.gather(*rest) == [5] * 5
    assert save.saves == [["u:0"], ["u:1", "u:2", "u:3", "u:4", "u:5"]]


async def test_a_failed_group_save_fails_every_caller_in_it() -> None:
    save = GatedSave()
    grouped = GroupedSaves(save)
    first = asyncio.create_task(grouped([article(0)]))
    await save.started.wait()
    rest = [asyncio.create_task(grouped([article(n)])) for n in range(1, 4)]
    save.fail = RuntimeError("database down")
    save.gate.set()
    results = await asyncio.gather(first, *rest, return_exceptions=True)
    assert save.saves == [["u:0"], ["u:1", "u:2", "u:3"]]  # the three shared one save
    assert all(isinstance(r, RuntimeError) for r in results)


async def test_groups_stay_within_the_article_limit() -> None:
    save = GatedSave()
    grouped = GroupedSaves(save, max_articles=2)
    first = asyncio.create_task(grouped([article(0)]))
    await save.started.wait()
    rest = [asyncio.create_task(grouped([article(n)])) for n in range(1, 6)]
    save.gate.set()
    await asyncio.gather(first, *rest)
    assert [len(s) for s in save.saves] == [1, 2, 2, 1]


async def test_a_lone_push_is_saved_at_once() -> None:
    save = GatedSave()
    save.gate.set()
    assert await GroupedSaves(save)([article(1)]) == 1
