"""Whole-bot scenarios over Telegram: real PTB against the fake Bot API, the real pipeline."""

from __future__ import annotations

import html
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest
from fakes.telegram_api import BLOCKED, ApiError, FakeBotApi, Recorded, too_many_requests
from feedserver import FeedServer
from pydantic import SecretStr

from bot.compose.app import App, build_app
from bot.settings import FeedConfig, Settings

USER, ADMIN, GROUP = 1001, 2002, -1001234567890
RSS = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>BulgarianMilitary</title>
<link>https://bulgarianmilitary.com/</link><description>defence news</description>
<item><title>Russia moves S-400 &amp; radar to Kursk</title>
<link>https://bulgarianmilitary.com/2026/11/21/s400-kursk/</link>
<guid>bm-s400-kursk</guid><pubDate>{date}</pubDate>
<description>Satellite images show a new S-400 battery deployed near Kursk.</description>
</item></channel></rss>"""


class SteppedClock:
    """Real time at the start; moves only when a test moves it."""

    def __init__(self) -> None:
        self.at = datetime.now(UTC)

    def now(self) -> datetime:
        return self.at


@dataclass
class World:
    app: App
    api: FakeBotApi
    feeds: FeedServer
    clock: SteppedClock

    async def say(self, chat_id: int, text: str, user_id: int = USER) -> str:
        """Type a message as a user; the bot's answer to it, as the user reads it."""
        asked = self.api.push_message(chat_id, text, user_id=user_id)
        await self.api.wait_for(lambda: self._answer(chat_id, asked["message_id"]))
        answer = self._answer(chat_id, asked["message_id"])
        assert answer is not None
        return html.unescape(answer.text)

    def _answer(self, chat_id: int, message_id: int) -> Recorded | None:
        return next(
            (
                m
                for m in self.api.messages_to(chat_id)
                if (m.reply_parameters or {}).get("message_id") == message_id
            ),
            None,
        )

    def alerts_to(self, chat_id: int) -> list[Recorded]:
        return [m for m in self.api.messages_to(chat_id) if m.reply_parameters is None]

    def publish(self) -> None:
        body = RSS.format(date=format_datetime(self.clock.now()))
        self.feeds.set("/rss.xml", body, headers={"Content-Type": "application/rss+xml"})


@asynccontextmanager
async def telegram_bot(tmp_path: Path, **extra: Any) -> AsyncIterator[World]:
    async with FakeBotApi() as api, FeedServer() as feeds:
        settings = Settings(
            telegram_bot_token=SecretStr(api.token),
            telegram_api_base_url=api.base_url,
            database_url=f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
            feeds=[FeedConfig(url=feeds.url("/rss.xml"), name="BulgarianMilitary")],
            allow_private_feeds=True,
            **extra,
        )
        clock = SteppedClock()
        app = await build_app(settings, clock=clock)
        try:
            await app.start()
            yield World(app, api, feeds, clock)
        finally:
            await app.close()


async def test_user_watches_gets_one_alert_and_mutes_it(tmp_path: Path) -> None:
    async with telegram_bot(tmp_path) as world:
        assert (await world.say(USER, "/start")).startswith("Welcome to storywatch")
        assert (
            await world.say(USER, "/watch S-400")
            == "Watching #1: S-400\nNothing in the last 72 h yet."
        )
        world.publish()
        await world.app.poller.poll_once()
        await world.app.deliverer.drain()

        [alert] = world.alerts_to(USER)
        assert alert.parse_mode == "HTML"
        assert (
            '<a href="https://bulgarianmilitary.com/2026/11/21/s400-kursk/">'
            "Russia moves S-400 &amp; radar to Kursk</a>"
        ) in alert.text
        assert [label for label, _ in alert.buttons()] == ["Mute story", "Sources (1)"]
        assert alert.link_preview_options == {"is_disabled": True}

        mute = alert.buttons()[0][1]
        world.api.push_callback(USER, alert.message_id, mute, user_id=USER)
        await world.api.wait_for(lambda: len(world.api.messages_to(USER)) == 4)
        assert world.api.messages_to(USER)[-1].text.startswith("Muted: Russia moves S-400")
        assert len(world.api.answered_callbacks) == 1


async def test_group_member_cannot_configure_but_an_admin_can(tmp_path: Path) -> None:
    async with telegram_bot(tmp_path) as world:
        world.api.set_member(GROUP, ADMIN, "administrator")

        assert (await world.say(GROUP, "/start", USER)).startswith("Only chat admins")
        assert (await world.say(GROUP, "/start@storywatch_bot", ADMIN)).startswith("Welcome")
        assert (
            await world.say(GROUP, "/watch S-400", ADMIN)
            == "Watching #1: S-400\nNothing in the last 72 h yet."
        )
        assert (await world.say(GROUP, "/watchlist", USER)).endswith("#1  S-400")


async def test_migrated_group_keeps_its_watchlist_under_the_new_id(tmp_path: Path) -> None:
    async with telegram_bot(tmp_path) as world:
        world.api.set_member(-4001, USER, "creator")
        assert (await world.say(-4001, "/start")).startswith("Welcome")
        assert (
            await world.say(-4001, "/watch S-400")
            == "Watching #1: S-400\nNothing in the last 72 h yet."
        )
        world.api.push_migration(-4001, GROUP)

        # Updates are handled in order, so this answer comes after the migration.
        assert (await world.say(GROUP, "/watchlist")).endswith("#1  S-400")


async def test_user_who_blocked_the_bot_is_deactivated(tmp_path: Path) -> None:
    async with telegram_bot(tmp_path) as world:
        await world.say(USER, "/start")
        await world.say(USER, "/watch S-400")
        world.api.fail_next("sendMessage", BLOCKED, chat_id=USER)
        world.publish()
        await world.app.poller.poll_once()

        report = await world.app.deliverer.drain()

        assert report.deactivated == 1
        assert world.alerts_to(USER) == []


# PTB itself warns while building RetryAfter (its retry_after is becoming a timedelta).
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_flood_limit_delays_the_alert_without_losing_it(tmp_path: Path) -> None:
    async with telegram_bot(tmp_path) as world:
        await world.say(USER, "/start")
        await world.say(USER, "/watch S-400")
        world.api.fail_next("sendMessage", too_many_requests(30), chat_id=USER)
        world.publish()
        await world.app.poller.poll_once()

        first = await world.app.deliverer.drain()
        world.clock.at += timedelta(seconds=31)
        second = await world.app.deliverer.drain()

        assert (first.retried, first.sent, second.sent) == (1, 0, 1)
        assert len(world.alerts_to(USER)) == 1


async def test_watch_then_a_newline_or_tab_works_like_a_space(tmp_path: Path) -> None:
    async with telegram_bot(tmp_path) as world:
        await world.say(USER, "/start")
        assert (
            await world.say(USER, "/watch\nS-400")
            == "Watching #1: S-400\nNothing in the last 72 h yet."
        )
        assert (
            await world.say(USER, "/watch@storywatch_bot\tF-35")
            == "Watching #2: F-35\nNothing in the last 72 h yet."
        )
        refusal = await world.say(USER, "/watch a\x00b")
        assert refusal.startswith("That contains a control character (U+0000)")
        assert (await world.say(USER, "/watchlist")).endswith("#1  S-400\n#2  F-35")


async def test_a_failing_admin_check_asks_to_try_again_instead_of_refusing(
    tmp_path: Path,
) -> None:
    async with telegram_bot(tmp_path) as world:
        world.api.set_member(GROUP, ADMIN, "administrator")
        world.api.fail_next("getChatMember", ApiError(500, "Internal Server Error"))

        assert await world.say(GROUP, "/start", ADMIN) == (
            "Could not check admin rights just now, so nothing was changed. Try again."
        )
        assert (await world.say(GROUP, "/start", ADMIN)).startswith("Welcome")
        assert (await world.say(GROUP, "/watch S-400", USER)).startswith("Only chat admins")


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_four_429s_then_a_502_is_delivered_with_five_attempts_allowed(
    tmp_path: Path,
) -> None:
    async with telegram_bot(tmp_path, max_delivery_attempts=5) as world:
        await world.say(USER, "/start")
        await world.say(USER, "/watch S-400")
        for _ in range(4):
            world.api.fail_next("sendMessage", too_many_requests(1), chat_id=USER)
        world.api.fail_next("sendMessage", ApiError(502, "Bad Gateway"), chat_id=USER)
        world.publish()
        await world.app.poller.poll_once()

        reports = []
        for _ in range(6):  # four 429s, the 502, then the delivery
            reports.append(await world.app.deliverer.drain())
            world.clock.at += timedelta(seconds=5)  # past Retry-After 1 s and the 5 s back-off

        assert [r.failed for r in reports] == [0] * 6
        assert len(world.alerts_to(USER)) == 1
