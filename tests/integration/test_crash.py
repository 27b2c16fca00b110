"""Crash safety: the real bot as a subprocess, SIGKILLed mid-delivery and mid-poll, restarted.

Guarantee under test (stated in the README): every planned alert arrives; a chat may get a
second copy only of the one message that was in flight to it at the moment of the kill.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from botprocess import BotProcess
from fakes.telegram_api import FakeBotApi
from feedserver import FeedServer
from support import rss
from world import MEETING_A

CHATS = list(range(101, 121))  # twenty private chats, all watching S-400
HEADLINE = MEETING_A.title
# The bot runs on the real clock, and items older than the story window are never alerted.
NEWS = replace(MEETING_A, published=datetime.now(UTC))


def crash_bot(tmp: Path, api: FakeBotApi, feed_url: str) -> BotProcess:
    settings = {
        "allow_private_feeds": True, "poll_tick_seconds": 0.3, "poll_interval_minutes": 0.01,
        "delivery_interval_seconds": 0.1, "delivery_lease_seconds": 2, "log_level": "WARNING",
    }  # fmt: skip
    env = {"TELEGRAM_BOT_TOKEN": api.token, "TELEGRAM_API_BASE_URL": api.base_url}
    return BotProcess(tmp, f"sqlite:///{tmp / 'bot.db'}", settings, [(feed_url, "Outlet A")],
                      env=env)  # fmt: skip


def articles_stored(tmp: Path) -> int:
    with sqlite3.connect(tmp / "bot.db") as conn:
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


def assert_every_chat_got_the_alert_once_or_twice(api: FakeBotApi, tmp: Path) -> None:
    """Nothing lost; a second copy only of the message in flight to that chat at the kill."""
    copies = {chat: alerts(api, chat) for chat in CHATS}
    assert all(1 <= n <= 2 for n in copies.values()), copies
    assert articles_stored(tmp) == 1


async def _subscribe_everyone(api: FakeBotApi, bot: BotProcess) -> None:
    bot.start()
    for chat in CHATS:
        api.push_message(chat, "/watch S-400", user_id=chat)
    await api.wait_for(lambda: all(api.messages_to(c) for c in CHATS), timeout=60)


async def _restart_and_collect(api: FakeBotApi, bot: BotProcess) -> None:
    bot.start()
    try:
        await api.wait_for(lambda: all(alerts(api, c) >= 1 for c in CHATS), timeout=60)
    finally:
        await bot.stop()


async def test_sigkill_while_the_outbox_is_delivered_loses_nothing(
    api: FakeBotApi, feeds: FeedServer, tmp_path: Path
) -> None:
    bot = crash_bot(tmp_path, api, feeds.url("/a.xml"))
    try:
        await _subscribe_everyone(api, bot)
        feeds.set("/a.xml", rss("Outlet A", [NEWS]))
        await api.wait_for(lambda: sum(alerts(api, c) for c in CHATS) >= 3, timeout=60)
        bot.kill()
        await _restart_and_collect(api, bot)
    finally:
        await bot.stop()
    assert_every_chat_got_the_alert_once_or_twice(api, tmp_path)


async def test_sigkill_during_a_poll_neither_loses_nor_repeats_the_article(
    api: FakeBotApi, feeds: FeedServer, tmp_path: Path
) -> None:
    bot = crash_bot(tmp_path, api, feeds.url("/a.xml"))
    try:
        await _subscribe_everyone(api, bot)
        polled = feeds.count("/a.xml")
        feeds.set("/a.xml", rss("Outlet A", [NEWS]))
        await api.wait_for(lambda: feeds.count("/a.xml") > polled, timeout=60)
        bot.kill()  # right after the feed was fetched: mid-poll
        await _restart_and_collect(api, bot)
    finally:
        await bot.stop()
    assert_every_chat_got_the_alert_once_or_twice(api, tmp_path)


def outbox_statuses(tmp: Path) -> list[str]:
    with sqlite3.connect(tmp / "bot.db") as conn:
        return [row[0] for row in conn.execute("SELECT status FROM outbox ORDER BY id")]


async def test_a_clean_stop_lets_the_messages_in_flight_finish_so_none_comes_twice(
    api: FakeBotApi, feeds: FeedServer, tmp_path: Path
) -> None:
    """SIGTERM (a deploy, `docker stop`) while alerts are on their way: the bot waits for the
    platform's answers and marks them sent before it exits. (It used to cancel them: each one
    the platform had taken went out a second time after the restart; and closing the database
    under a round being cancelled could leave the process hanging until SIGKILL.)"""
    bot = crash_bot(tmp_path, api, feeds.url("/a.xml"))
    try:
        await _subscribe_everyone(api, bot)
        answers = api.hold("sendMessage")  # the platform is slow to answer
        feeds.set("/a.xml", rss("Outlet A", [NEWS]))
        await api.wait_for(lambda: any(HEADLINE in c.get("text", "") for c in
                                       api.calls_of("sendMessage")), timeout=60)  # fmt: skip
        assert bot.process is not None
        bot.process.terminate()
        answers.set()  # the answers come after the SIGTERM
        await bot.stop()
        assert bot.process.returncode == 0
    finally:
        await bot.stop()
    assert all(alerts(api, chat) == 1 for chat in CHATS), {c: alerts(api, c) for c in CHATS}
    assert outbox_statuses(tmp_path) == ["sent"] * len(CHATS)  # nothing left to send again
