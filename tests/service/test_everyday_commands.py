"""/watch when the recent-matches lookup fails after the rule was saved."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from support import SettableClock

from bot.services.chat.commands import CommandService
from bot.services.chat.everyday_commands import EverydayCommands
from bot.services.chat.feed_checks import FeedProbe
from bot.services.chat.ports import CommandContext
from bot.services.chat.recent import RecentArticle, RecentMatches
from bot.services.errors import StorageUnavailable
from bot.storage.store import SqlStore


class Unavailable:
    async def recent_for_chat(
        self, chat_id: int, since: datetime, after: tuple[datetime, str] | None, limit: int
    ) -> list[RecentArticle]:
        raise StorageUnavailable("disk I/O error")


async def _no_check(url: str) -> FeedProbe:
    return FeedProbe(error="unused")


async def test_a_failed_lookup_still_says_the_rule_is_watched(tmp_path: Path) -> None:
    store = await SqlStore.open(f"sqlite+aiosqlite:///{tmp_path}/e.db")
    clock = SettableClock()
    recent = RecentMatches(Unavailable(), clock, timedelta(hours=72))
    commands = CommandService(store, clock, _no_check,
                              everyday=EverydayCommands(recent))  # fmt: skip

    async def admin() -> bool:
        return True

    try:
        reply = await commands.handle(CommandContext("console", "c", "u", admin), "/watch S-400")
        assert reply.text == "Watching #1: S-400\n(Recent matches cannot be shown right now.)"
        chat = await store.chat_by_platform("console", "c")
        assert chat is not None and [r.query for r in await store.chat_rules(chat.id)] == ["S-400"]
    finally:
        await store.close()
