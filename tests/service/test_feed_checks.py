"""/addfeed in the background: "checking…" now, the result later, a per-chat bound."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from support import SettableClock

from bot.services.chat.commands import CommandService
from bot.services.chat.feed_checks import FeedChecks, FeedProbe
from bot.services.chat.ports import CommandContext, CommandReply
from bot.storage.store import SqlStore


class GatedChecks:
    """A feed check per URL that finishes only when the test opens that URL's gate."""

    def __init__(self) -> None:
        self.gates: dict[str, asyncio.Event] = {}
        self.started: asyncio.Queue[str] = asyncio.Queue()

    async def __call__(self, url: str) -> FeedProbe:
        gate = self.gates.setdefault(url, asyncio.Event())
        self.started.put_nowait(url)
        await gate.wait()
        if "missing" in url:
            return FeedProbe(error="HTTP 404 from feeds.example")
        return FeedProbe("Feed " + url, items=2, newest="Latest " + url)


class Chat:
    """One chat's context; its later replies land in `later`, with an event per arrival."""

    def __init__(self, chat_id: str) -> None:
        self.later: asyncio.Queue[str] = asyncio.Queue()

        async def admin() -> bool:
            return True

        async def followup(reply: CommandReply) -> None:
            self.later.put_nowait(reply.text)

        self.ctx = CommandContext("console", chat_id, "alice", admin, followup=followup)


@pytest.fixture
async def setup(tmp_path: Path) -> AsyncIterator[tuple[CommandService, GatedChecks]]:
    store = await SqlStore.open(f"sqlite+aiosqlite:///{tmp_path}/c.db")
    checks = GatedChecks()
    service = CommandService(store, SettableClock(), checks, feed_checks=FeedChecks(per_chat=2))
    yield service, checks
    await service.aclose()
    await store.close()


async def test_checking_now_and_the_result_later(setup: tuple[CommandService, GatedChecks]) -> None:
    service, checks = setup
    chat = Chat("c1")
    now = await service.handle(chat.ctx, "/addfeed http://feeds.example/a.xml")
    assert now.text == "Checking http://feeds.example/a.xml … the result follows here."
    assert await checks.started.get() == "http://feeds.example/a.xml"
    assert chat.later.empty()

    checks.gates["http://feeds.example/a.xml"].set()
    assert (await chat.later.get()).startswith("Added feed ")
    feeds = (await service.handle(chat.ctx, "/feeds")).text
    assert "Feed http://feeds.example/a.xml (added here)" in feeds


async def test_a_chat_has_at_most_its_bound_in_flight_and_others_are_not_counted(
    setup: tuple[CommandService, GatedChecks],
) -> None:
    service, checks = setup
    busy, other = Chat("busy"), Chat("other")
    for name in ("a", "b"):
        await service.handle(busy.ctx, f"/addfeed http://feeds.example/{name}.xml")
    refused = await service.handle(busy.ctx, "/addfeed http://feeds.example/c.xml")
    accepted = await service.handle(other.ctx, "/addfeed http://feeds.example/missing.xml")

    assert refused.text == (
        "This chat already has 2 feed checks running; wait for their results, then try again."
    )
    assert accepted.text.startswith("Checking")
    for _ in range(3):
        await checks.started.get()
    checks.gates["http://feeds.example/missing.xml"].set()
    assert await other.later.get() == "Could not add that feed: HTTP 404 from feeds.example"

    checks.gates["http://feeds.example/a.xml"].set()
    await busy.later.get()  # one finished: there is room again
    again = await service.handle(busy.ctx, "/addfeed http://feeds.example/c.xml")
    assert again.text.startswith("Checking")
