"""Crash safety: the real bot as a subprocess, SIGKILLed mid-delivery and mid-poll, restarted.

Guarantee under test (stated in the README): every planned alert arrives; a chat may get a
second copy only of the one message that was in flight to it at the moment of the kill.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fakes.telegram_api import FakeBotApi
from feedserver import FeedServer
from support import rss
from world import MEETING_A

CHATS = list(range(101, 121))  # twenty private chats, all watching S-400
HEADLINE = MEETING_A.title
# The bot runs on the real clock, and items older than the story window are never alerted.
NEWS = replace(MEETING_A, published=datetime.now(UTC))


class Bot:
    """`python -m bot run` in a subprocess, configured through its environment and a TOML file."""

    def __init__(self, tmp: Path, api: FakeBotApi, feed_url: str) -> None:
        self.db = tmp / "bot.db"
        config = tmp / "storywatch.toml"
        config.write_text(
            "allow_private_feeds = true\npoll_tick_seconds = 0.3\npoll_interval_minutes = 0.01\n"
            'delivery_interval_seconds = 0.1\ndelivery_lease_seconds = 2\nlog_level = "WARNING"\n'
            f'[[feeds]]\nurl = "{feed_url}"\nname = "Outlet A"\n'
        )
        self.env = {
            **os.environ,
            "TELEGRAM_BOT_TOKEN": api.token,
            "TELEGRAM_API_BASE_URL": api.base_url,
            "STORYWATCH_CONFIG": str(config),
            "DATABASE_URL": f"sqlite:///{self.db}",
        }
        self.process: subprocess.Popen[bytes] | None = None
        self.log = tmp / "bot.log"

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bot", "run"],
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
            )

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()  # SIGKILL: no cleanup, no flush, like a power cut
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)
        sys.stderr.write(self.log.read_text(errors="replace")[-3000:])  # shown when a test fails

    def articles_stored(self) -> int:
        with sqlite3.connect(self.db) as conn:
            return int(conn.execute("SELECT count(*) FROM articles").fetchone()[0])


def alerts(api: FakeBotApi, chat: int) -> int:
    return sum(1 for m in api.messages_to(chat) if HEADLINE in m.text)


@pytest.fixture
def feeds() -> Iterator[FeedServer]:
    with FeedServer() as server:
        server.set("/a.xml", rss("Outlet A", []))
        yield server


@pytest.fixture
async def api() -> AsyncIterator[FakeBotApi]:
    async with FakeBotApi() as fake:
        yield fake


def assert_every_chat_got_the_alert_once_or_twice(api: FakeBotApi, bot: Bot) -> None:
    """Nothing lost; a second copy only of the message in flight to that chat at the kill."""
    copies = {chat: alerts(api, chat) for chat in CHATS}
    assert all(1 <= n <= 2 for n in copies.values()), copies
    assert bot.articles_stored() == 1


async def _subscribe_everyone(api: FakeBotApi, bot: Bot) -> None:
    bot.start()
    for chat in CHATS:
        api.push_message(chat, "/watch S-400", user_id=chat)
    await api.wait_for(lambda: all(api.messages_to(c) for c in CHATS), timeout=60)


async def _restart_and_collect(api: FakeBotApi, bot: Bot) -> None:
    bot.start()
    try:
        await api.wait_for(lambda: all(alerts(api, c) >= 1 for c in CHATS), timeout=60)
    finally:
        bot.stop()


async def test_sigkill_while_the_outbox_is_delivered_loses_nothing(
    api: FakeBotApi, feeds: FeedServer, tmp_path: Path
) -> None:
    bot = Bot(tmp_path, api, feeds.url("/a.xml"))
    try:
        await _subscribe_everyone(api, bot)
        feeds.set("/a.xml", rss("Outlet A", [NEWS]))
        await api.wait_for(lambda: sum(alerts(api, c) for c in CHATS) >= 3, timeout=60)
        bot.kill()
        await _restart_and_collect(api, bot)
    finally:
        bot.stop()
    assert_every_chat_got_the_alert_once_or_twice(api, bot)


async def test_sigkill_during_a_poll_neither_loses_nor_repeats_the_article(
    api: FakeBotApi, feeds: FeedServer, tmp_path: Path
) -> None:
    bot = Bot(tmp_path, api, feeds.url("/a.xml"))
    try:
        await _subscribe_everyone(api, bot)
        polled = feeds.count("/a.xml")
        feeds.set("/a.xml", rss("Outlet A", [NEWS]))
        await api.wait_for(lambda: feeds.count("/a.xml") > polled, timeout=60)
        bot.kill()  # right after the feed was fetched: mid-poll
        await _restart_and_collect(api, bot)
    finally:
        bot.stop()
    assert_every_chat_got_the_alert_once_or_twice(api, bot)
