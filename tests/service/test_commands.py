"""The command service on a real SQLite store: what a chat user sees for each command."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from support import SettableClock

from bot.services.chat.commands import CommandService
from bot.services.chat.feed_checks import FeedProbe
from bot.services.chat.ports import CommandContext
from bot.storage.store import SqlStore


class Checks:
    """A feed checker that answers what the test says and records the URLs."""

    def __init__(self) -> None:
        self.urls: list[str] = []
        self.answer = FeedProbe("Example feed", items=3, newest="Newest headline")

    async def __call__(self, url: str) -> FeedProbe:
        self.urls.append(url)
        return self.answer


@pytest.fixture
async def service(tmp_path: object) -> AsyncIterator[tuple[CommandService, SqlStore, Checks]]:
    store = await SqlStore.open(f"sqlite+aiosqlite:///{tmp_path}/c.db")
    checks = Checks()
    yield (
        CommandService(store, SettableClock(), checks, max_rules=3),
        store,
        checks,
    )
    await store.close()


def ctx(admin: bool = True, user: str = "alice", chat: str = "g1") -> CommandContext:
    async def is_admin() -> bool:
        return admin

    return CommandContext("console", chat, user, is_admin)


async def test_watch_then_watchlist_shows_short_ids(service: tuple) -> None:
    commands, _, _ = service
    assert (await commands.handle(ctx(), "/watch S-400")).text == "Watching #1: S-400"
    await commands.handle(ctx(), "/watch Cavusoglu")
    listing = (await commands.handle(ctx(), "/watchlist")).text
    assert "#1  S-400" in listing and "#2  Cavusoglu" in listing


@pytest.mark.parametrize("query", ['"air defense', "(S-400", "-India", "", "x" * 600])
async def test_an_invalid_query_is_explained_and_nothing_is_stored(
    service: tuple, query: str
) -> None:
    commands, _, _ = service
    reply = (await commands.handle(ctx(), f"/watch {query}")).text
    assert "Usage: /watch" in reply or "too long" in reply
    assert "No rules yet" in (await commands.handle(ctx(), "/watchlist")).text


async def test_the_rule_limit_is_explained(service: tuple) -> None:
    commands, _, _ = service
    for word in ("a1", "b2", "c3"):
        await commands.handle(ctx(), f"/watch {word}")
    reply = (await commands.handle(ctx(), "/watch d4")).text
    assert reply.startswith("Not added") and "/unwatch" in reply


async def test_unwatch_by_id_and_by_query(service: tuple) -> None:
    commands, _, _ = service
    await commands.handle(ctx(), "/watch S-400")
    await commands.handle(ctx(), "/watch F-35")
    assert "#1" in (await commands.handle(ctx(), "/unwatch 1")).text
    assert "F-35" in (await commands.handle(ctx(), "/unwatch F-35")).text
    assert "No rule" in (await commands.handle(ctx(), "/unwatch 7")).text


async def test_a_non_admin_in_a_group_may_read_but_not_change(service: tuple) -> None:
    commands, _, _ = service
    await commands.handle(ctx(user="owner"), "/start")
    bob = ctx(admin=False, user="bob")
    assert "Only chat admins" in (await commands.handle(bob, "/watch S-400")).text
    assert "No rules yet" in (await commands.handle(bob, "/watchlist")).text
    # The user who subscribed the chat may change it even without admin rights.
    assert "Watching" in (await commands.handle(ctx(admin=False, user="owner"), "/watch x")).text


async def test_unknown_command_and_bad_arguments_get_helpful_replies(service: tuple) -> None:
    commands, _, _ = service
    assert "/help" in (await commands.handle(ctx(), "/frobnicate")).text
    assert "HH:MM" in (await commands.handle(ctx(), "/digest 25:00")).text
    assert "Usage: /mode" in (await commands.handle(ctx(), "/mode loud")).text
    assert "Europe/Istanbul" in (await commands.handle(ctx(), "/timezone Istanbul")).text


async def test_settings_commands_show_in_status(service: tuple) -> None:
    commands, _, _ = service
    await commands.handle(ctx(), "/timezone Europe/Istanbul")
    await commands.handle(ctx(), "/mode digest")
    await commands.handle(ctx(), "/quiet 22:00-07:00")
    status = (await commands.handle(ctx(), "/status")).text
    assert "Mode: digest" in status and "Europe/Istanbul" in status and "22:00–07:00" in status


async def test_addfeed_refuses_a_bad_feed_with_the_reason(service: tuple) -> None:
    commands, _, checks = service
    checks.answer = FeedProbe(error="not a feed: looks like an HTML page")
    reply = (await commands.handle(ctx(), "/addfeed http://example.org/page")).text
    assert reply == "Could not add that feed: not a feed: looks like an HTML page"
    assert "(added here)" not in (await commands.handle(ctx(), "/feeds")).text
    checks.answer = FeedProbe("Example feed", items=3, newest="Newest headline")
    assert "Added feed" in (await commands.handle(ctx(), "/addfeed http://example.org/rss")).text
    assert "Example feed (added here)" in (await commands.handle(ctx(), "/feeds")).text


async def test_stop_asks_first_and_deletes_on_confirmation(service: tuple) -> None:
    commands, store, _ = service
    await commands.handle(ctx(), "/watch S-400")
    reply = await commands.handle(ctx(), "/stop")
    assert reply.buttons and reply.buttons[0].data == "stop:confirm"
    assert await store.chat_by_platform("console", "g1") is not None
    await commands.on_button(ctx(), "stop:confirm")
    assert await store.chat_by_platform("console", "g1") is None


async def test_pause_holds_and_resume_releases(service: tuple) -> None:
    commands, _, _ = service
    assert "Paused" in (await commands.handle(ctx(), "/pause")).text
    assert "(paused)" in (await commands.handle(ctx(), "/status")).text
    assert "Resumed" in (await commands.handle(ctx(), "/resume")).text
