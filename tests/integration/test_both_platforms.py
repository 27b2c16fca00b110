"""Telegram and Slack served by one process: each chat gets the story on its own platform."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from fakes.slack_api import BOT_TOKEN, SIGNING_SECRET, FakeSlackApi
from fakes.telegram_api import FakeBotApi
from feedserver import FeedServer
from pydantic import SecretStr
from support import rss
from test_slack_scenarios import SlackUser, free_port
from world import MEETING_A

from bot.compose.app import build_app
from bot.settings import FeedConfig, Settings


async def test_one_story_reaches_a_telegram_chat_and_a_slack_channel(tmp_path: Path) -> None:
    async with FakeBotApi() as telegram, FakeSlackApi() as slack:
        with FeedServer() as feeds:
            feeds.set("/a.xml", rss("Outlet A", []))
            port = free_port()
            settings = Settings(
                telegram_bot_token=SecretStr(telegram.token),
                telegram_api_base_url=telegram.base_url,
                slack_bot_token=SecretStr(BOT_TOKEN),
                slack_signing_secret=SecretStr(SIGNING_SECRET),
                slack_api_base_url=slack.base_url,
                listen_host="127.0.0.1",
                slack_http_port=port,
                database_url=f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
                feeds=[FeedConfig(url=feeds.url("/a.xml"), name="Outlet A")],
                allow_private_feeds=True,
            )
            app = await build_app(settings)
            try:
                await app.start()
                assert set(app.runtimes) == {"telegram", "slack"}
                telegram.push_message(42, "/watch S-400", user_id=42)
                await telegram.wait_for(lambda: telegram.messages_to(42))
                slack.set_user("U0ALICE", is_admin=True)
                assert (
                    await SlackUser(slack, port).command("watch S-400")
                    == "Watching #1: S-400\nNothing in the last 72 h yet."
                )

                fresh = replace(MEETING_A, published=datetime.now(UTC))  # real clock: news now
                feeds.set("/a.xml", rss("Outlet A", [fresh]))
                await app.poller.poll_once()
                await app.deliverer.drain()
            finally:
                await app.close()
    assert [m for m in telegram.messages_to(42) if "Cavusoglu clash" in m.text], [
        m.text for m in telegram.messages_to(42)
    ]
    assert [p for p in slack.posted if "Cavusoglu clash" in p.shown]
