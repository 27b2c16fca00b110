"""A story's life on each platform: one alert, an edit for a second outlet, a threaded update
for a development, and a 429 storm that delays but never drops or reorders messages."""

from __future__ import annotations

import html
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fakes.slack_api import BOT_TOKEN, SIGNING_SECRET, FakeSlackApi
from fakes.telegram_api import FakeBotApi, too_many_requests
from feedserver import FeedServer
from pydantic import SecretStr
from support import Item, SettableClock, rss
from test_slack_scenarios import SlackUser, free_port
from world import DEVELOPMENT, MEETING_A, MEETING_B

from bot.compose.app import App, build_app
from bot.settings import FeedConfig, Settings

# Midnight, so that a day's reports all come before the default 08:00 digest.
NOW = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
USER = 1001
# The reports' own rhythm (a meeting, a second report an hour on, the reply next morning),
# ending an hour ago: a reply minutes after the meeting's first report reads as its retelling.
A, B, C = (
    replace(item, published=item.published + (NOW - timedelta(hours=1) - DEVELOPMENT.published))
    for item in (MEETING_A, MEETING_B, DEVELOPMENT)
)
OTHER_STORIES = [
    Item(
        "Dutch navy commissions a new frigate",
        "The frigate joins the fleet at Den Helder.",
        "http://a.example/frigate",
        "f-1",
        NOW,
    ),
    Item(
        "EU and Japan settle a tariff dispute on steel",
        "The tariff deal ends a two-year row.",
        "http://a.example/tariff",
        "t-1",
        NOW + timedelta(minutes=1),
    ),
]


@asynccontextmanager
async def running_bot(tmp: Path, feeds: FeedServer, **platform: object) -> AsyncIterator[App]:
    for outlet in "abc":
        feeds.set(f"/{outlet}.xml", rss(f"Outlet {outlet.upper()}", []))
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp / 'bot.db'}",
        allow_private_feeds=True,
        feeds=[FeedConfig(url=feeds.url(f"/{o}.xml"), name=o) for o in "abc"],
        **platform,
    )
    app = await build_app(settings, clock=SettableClock(NOW))
    try:
        await app.start()
        yield app
    finally:
        await app.close()


def telegram_settings(api: FakeBotApi) -> dict[str, object]:
    return {"telegram_bot_token": SecretStr(api.token), "telegram_api_base_url": api.base_url}


def slack_settings(api: FakeSlackApi, port: int) -> dict[str, object]:
    return {
        "slack_bot_token": SecretStr(BOT_TOKEN), "slack_signing_secret": SecretStr(SIGNING_SECRET),
        "slack_api_base_url": api.base_url, "listen_host": "127.0.0.1", "slack_http_port": port,
    }  # fmt: skip


async def poll_and_deliver(app: App) -> None:
    assert isinstance(app.clock, SettableClock)
    app.clock.advance(minutes=30)
    await app.poller.poll_once()
    await app.deliverer.drain()


async def telegram_says(api: FakeBotApi, text: str) -> None:
    before = len(api.messages_to(USER))
    api.push_message(USER, text, user_id=USER)
    await api.wait_for(lambda: len(api.messages_to(USER)) > before)


async def test_telegram_alert_then_edit_then_threaded_update(tmp_path: Path) -> None:
    async with (
        FakeBotApi() as api,
        FeedServer() as feeds,
        running_bot(tmp_path, feeds, **telegram_settings(api)) as app,
    ):
        await telegram_says(api, "/watch S-400")
        feeds.set("/a.xml", rss("Outlet A", [A]))
        await poll_and_deliver(app)
        [alert] = [m for m in api.messages_to(USER) if A.title in html.unescape(m.text)]
        assert "<b>S-400</b>" in alert.text and "Sources: Outlet A" in alert.text

        feeds.set("/b.xml", rss("Outlet B", [B]))
        await poll_and_deliver(app)
        [edit] = api.edits
        assert edit.message_id == alert.message_id
        assert "Sources: Outlet A, Outlet B" in edit.text

        feeds.set("/c.xml", rss("Outlet C", [C]))
        await poll_and_deliver(app)
        update = api.messages_to(USER)[-1]
        assert update.reply_parameters == {"message_id": alert.message_id}
        assert update.text.startswith("<b>Update:</b>") and "60 days" in update.text


async def test_telegram_429_storm_delays_but_keeps_every_message_in_order(
    tmp_path: Path,
) -> None:
    async with (
        FakeBotApi() as api,
        FeedServer() as feeds,
        running_bot(tmp_path, feeds, **telegram_settings(api)) as app,
    ):
        for query in ("S-400", "frigate", "tariff"):
            await telegram_says(api, f"/watch {query}")
        for _ in range(3):
            api.fail_next("sendMessage", too_many_requests(5), chat_id=USER)
        feeds.set("/a.xml", rss("Outlet A", [A, *OTHER_STORIES]))
        for _ in range(5):  # each round: the chat's head message waits 5 s, then goes
            await poll_and_deliver(app)
        titles = [A.title, *(s.title for s in OTHER_STORIES)]
        got = [t for m in api.messages_to(USER) for t in titles if t in html.unescape(m.text)]
        assert got == titles


async def test_slack_alert_then_update_then_thread(tmp_path: Path) -> None:
    async with FakeSlackApi() as api, FeedServer() as feeds:
        port = free_port()
        async with running_bot(tmp_path, feeds, **slack_settings(api, port)) as app:
            api.set_user("U0ALICE", is_admin=True)
            assert (
                await SlackUser(api, port).command("watch S-400")
                == "Watching #1: S-400\nNothing in the last 72 h yet."
            )
            feeds.set("/a.xml", rss("Outlet A", [A]))
            await poll_and_deliver(app)
            [alert] = api.posted
            assert "*S-400*" in alert.shown

            feeds.set("/b.xml", rss("Outlet B", [B]))
            await poll_and_deliver(app)
            [update] = api.updated
            assert update.ts == alert.ts
            assert "|Outlet A>, <" in update.shown and "|Outlet B>" in update.shown

            feeds.set("/c.xml", rss("Outlet C", [C]))
            await poll_and_deliver(app)
            threaded = api.posted[-1]
            assert threaded.thread_ts == alert.ts and "Update:" in threaded.shown


async def test_slack_429_storm_delays_but_keeps_every_message_in_order(tmp_path: Path) -> None:
    async with FakeSlackApi() as api, FeedServer() as feeds:
        port = free_port()
        async with running_bot(tmp_path, feeds, **slack_settings(api, port)) as app:
            api.set_user("U0ALICE", is_admin=True)
            user = SlackUser(api, port)
            for query in ("S-400", "frigate", "tariff"):
                await user.command(f"watch {query}")
            for _ in range(3):
                api.fail_next("chat.postMessage", error="ratelimited", status=429, retry_after=5)
            feeds.set("/a.xml", rss("Outlet A", [A, *OTHER_STORIES]))
            for _ in range(5):
                await poll_and_deliver(app)
            titles = [A.title, *(s.title for s in OTHER_STORIES)]
            got = [t for p in api.posted for t in titles if t in p.shown]
            assert got == titles
