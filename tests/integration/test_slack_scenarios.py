"""Whole-bot scenarios over Slack: signed slash commands in, alerts out, via the real pipeline."""

from __future__ import annotations

import json
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
from fakes.slack_api import (
    BOT_TOKEN,
    SIGNING_SECRET,
    FakeSlackApi,
    block_action,
    signed_headers,
    slash_command,
)
from feedserver import FeedServer
from pydantic import SecretStr

from bot.compose.app import App, build_app
from bot.settings import FeedConfig, Settings
from bot.slack.app import EVENTS_PATH

RSS = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>BulgarianMilitary</title>
<link>https://bulgarianmilitary.com/</link><description>defence news</description>
<item><title>Russia moves S-400 &amp; radar to Kursk</title>
<link>https://bulgarianmilitary.com/2026/11/21/s400-kursk/</link>
<guid>bm-s400-kursk</guid><pubDate>{date}</pubDate>
<description>Satellite images show a new S-400 battery deployed near Kursk.</description>
</item></channel></rss>"""


def free_port() -> int:
    # Settings insists on a real port number, so find one that is free right now.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class SlackUser:
    """Types /storywatch commands and clicks buttons the way Slack delivers them."""

    def __init__(self, api: FakeSlackApi, port: int, user_id: str = "U0ALICE") -> None:
        self.api, self.user_id = api, user_id
        self.url = f"http://127.0.0.1:{port}{EVENTS_PATH}"

    async def command(self, text: str) -> str:
        url = self.api.response_url()
        form = slash_command(text, response_url=url, user_id=self.user_id)
        return await self._post(urlencode(form), url)

    async def click(self, value: str) -> str:
        url = self.api.response_url()
        payload = block_action(value, response_url=url, user_id=self.user_id)
        return await self._post(urlencode({"payload": json.dumps(payload)}), url)

    async def _post(self, body: str, response_url: str) -> str:
        async with aiohttp.ClientSession() as session:
            headers = signed_headers(body, secret=SIGNING_SECRET)
            async with session.post(self.url, data=body, headers=headers) as response:
                assert response.status == 200
        hook = response_url.rsplit("/", 1)[1]
        await self.api.wait_for(lambda: any(r["hook"] == hook for r in self.api.responses))
        answer = next(r for r in self.api.responses if r["hook"] == hook)
        assert answer["response_type"] == "ephemeral"
        return str(answer["text"])


@asynccontextmanager
async def slack_bot(tmp_path: Path) -> AsyncIterator[tuple[App, FakeSlackApi, FeedServer, int]]:
    async with FakeSlackApi() as api, FeedServer() as feeds:
        port = free_port()
        settings = Settings(
            slack_bot_token=SecretStr(BOT_TOKEN),
            slack_signing_secret=SecretStr(SIGNING_SECRET),
            slack_api_base_url=api.base_url,
            listen_host="127.0.0.1",
            slack_http_port=port,
            database_url=f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
            feeds=[FeedConfig(url=feeds.url("/rss.xml"), name="BulgarianMilitary")],
            allow_private_feeds=True,
        )
        app = await build_app(settings)
        try:
            await app.start()
            yield app, api, feeds, port
        finally:
            await app.close()


def publish(feeds: FeedServer) -> None:
    body = RSS.format(date=format_datetime(datetime.now(UTC)))
    feeds.set("/rss.xml", body, headers={"Content-Type": "application/rss+xml"})


async def test_admin_watches_a_topic_gets_one_alert_and_mutes_it(tmp_path: Path) -> None:
    async with slack_bot(tmp_path) as (app, api, feeds, port):
        api.set_user("U0ALICE", is_admin=True)
        alice = SlackUser(api, port)
        assert (await alice.command("start")).startswith("Welcome to storywatch")
        assert (
            await alice.command("watch S-400")
            == "Watching #1: S-400\nNothing in the last 72 h yet."
        )
        publish(feeds)
        await app.poller.poll_once()
        await app.deliverer.drain()
        [alert] = api.posted
        assert alert.channel == "C0NEWS"
        assert (
            "<https://bulgarianmilitary.com/2026/11/21/s400-kursk/|"
            "Russia moves S-400 &amp; radar to Kursk>"
        ) in alert.shown
        buttons = [e for b in alert.blocks if b["type"] == "actions" for e in b["elements"]]
        assert [b["text"]["text"] for b in buttons] == ["Mute story", "Sources"]
        answer = await alice.click(buttons[0]["value"])
        assert answer.startswith("Muted: Russia moves S-400")


async def test_non_admin_cannot_subscribe_the_channel(tmp_path: Path) -> None:
    async with slack_bot(tmp_path) as (_app, api, _feeds, port):
        api.set_user("U0BOB")
        bob = SlackUser(api, port, "U0BOB")
        refusal = await bob.command("start")
        assert refusal.startswith("Only chat admins")
        assert "/storywatch watchlist" in refusal  # commands as Slack users type them
        help_text = await bob.command("")  # a bare /storywatch is /help
        assert "/storywatch watch — Watch a query: /storywatch watch S-400" in help_text


async def test_archived_channel_stops_receiving_alerts(tmp_path: Path) -> None:
    async with slack_bot(tmp_path) as (app, api, feeds, port):
        api.set_user("U0ALICE", is_admin=True)
        alice = SlackUser(api, port)
        await alice.command("start")
        await alice.command("watch S-400")
        api.archived.add("C0NEWS")
        publish(feeds)
        await app.poller.poll_once()
        report = await app.deliverer.drain()
        assert report.deactivated == 1
        assert api.posted == []


async def test_watch_then_a_tab_or_newline_works_and_a_nul_is_refused(tmp_path: Path) -> None:
    async with slack_bot(tmp_path) as (_app, api, _feeds, port):
        api.set_user("U0ALICE", is_admin=True)
        alice = SlackUser(api, port)
        await alice.command("start")
        assert (
            await alice.command("watch\tS-400")
            == "Watching #1: S-400\nNothing in the last 72 h yet."
        )
        assert (
            await alice.command("watch\nF-35") == "Watching #2: F-35\nNothing in the last 72 h yet."
        )
        refusal = await alice.command("watch a\x00b")
        assert refusal.startswith("That contains a control character (U+0000)")
        assert (await alice.command("watchlist")).endswith("#1  S-400\n#2  F-35")


async def test_a_failing_users_info_asks_to_try_again_instead_of_refusing(tmp_path: Path) -> None:
    async with slack_bot(tmp_path) as (_app, api, _feeds, port):
        api.set_user("U0ALICE", is_admin=True)
        alice = SlackUser(api, port)
        api.fail_next("users.info", error="internal_error", status=500)
        assert await alice.command("start") == (
            "Could not check admin rights just now, so nothing was changed. Try again."
        )
        assert (await alice.command("start")).startswith("Welcome to storywatch")
