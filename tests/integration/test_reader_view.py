"""What a reader sees on a phone, through the whole bot and the real Telegram/Slack clients:
notifications and digest lines name the outlets, invisible characters do not hide a watched
word, and direction-override characters from a feed never reach the chat."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from fakes.slack_api import FakeSlackApi
from fakes.telegram_api import FakeBotApi
from feedserver import FeedServer
from support import Item, SettableClock, rss
from test_slack_scenarios import SlackUser, free_port
from test_story_on_platforms import (
    NOW,
    USER,
    poll_and_deliver,
    running_bot,
    slack_settings,
    telegram_says,
    telegram_settings,
)
from world import DEVELOPMENT, MEETING_A, MEETING_B

from bot.compose.app import App
from bot.core.models import ChatSettings
from bot.core.policy import next_digest_at

# Published after the chat subscribed (at NOW), so that its first digest lists the story; the
# reply comes hours after the meeting (minutes after, it reads as a retelling of it).
A, B, C = (
    replace(item, published=NOW + timedelta(minutes=minutes))
    for item, minutes in ((MEETING_A, 1), (MEETING_B, 20), (DEVELOPMENT, 6 * 60))
)

BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f"
# A headline that would read "Zorblax fleet exe.jpg" with U+202E, and whose watched word is
# split by a zero-width space and a soft hyphen.
SPOOF = Item(
    "Zor\u200bblax fleet \u202egpj.exe\u202c sails",
    "The Zor\u00adblax fleet left port on \u2067Monday\u2069 morning.",
    "http://a.example/zorblax",
    "z-1",
    NOW + timedelta(minutes=1),
)


def visible(telegram_html: str) -> str:
    """What the Telegram app shows of an HTML message."""
    return html.unescape(re.sub(r"<[^>]+>", "", telegram_html))


async def digest_now(app: App) -> None:
    """Move to just past the chat's next digest time (default 08:00 UTC) and deliver it."""
    assert isinstance(app.clock, SettableClock)
    slot = next_digest_at(ChatSettings(), app.clock.now())
    assert slot is not None
    app.clock.at = slot + timedelta(minutes=1)
    assert await app.digests.tick() == 1
    await app.deliverer.drain()


@asynccontextmanager
async def telegram_watching(
    tmp: Path, query: str
) -> AsyncIterator[tuple[App, FakeBotApi, FeedServer]]:
    """The bot on the fake Bot API, with one private chat watching `query`."""
    async with (
        FakeBotApi() as api,
        FeedServer() as feeds,
        running_bot(tmp, feeds, **telegram_settings(api)) as app,
    ):
        await telegram_says(api, f"/watch {query}")
        yield app, api, feeds


@asynccontextmanager
async def slack_watching(
    tmp: Path, query: str
) -> AsyncIterator[tuple[App, FakeSlackApi, FeedServer]]:
    """The bot on the fake Slack API (HTTP mode), with one channel watching `query`."""
    async with FakeSlackApi() as api, FeedServer() as feeds:
        port = free_port()
        async with running_bot(tmp, feeds, **slack_settings(api, port)) as app:
            api.set_user("U0ALICE", is_admin=True)
            await SlackUser(api, port).command(f"watch {query}")
            yield app, api, feeds


async def publish(app: App, feeds: FeedServer, path: str, title: str, item: Item) -> None:
    """`item` appears in the feed at `path` (named `title`), then the bot polls and delivers."""
    feeds.set(path, rss(title, [item]))
    await poll_and_deliver(app)


async def test_telegram_alert_edit_update_and_digest_name_the_outlets(tmp_path: Path) -> None:
    async with telegram_watching(tmp_path, "S-400") as (app, api, feeds):
        await publish(app, feeds, "/a.xml", "Outlet A", A)
        [alert] = [m for m in api.messages_to(USER) if A.title in visible(m.text)]
        # The first lines are what a phone's notification shows: headline, then the outlets.
        assert visible(alert.text).splitlines()[1] == "Sources: Outlet A"

        await publish(app, feeds, "/b.xml", "Outlet B", B)
        [edit] = api.edits
        assert edit.message_id == alert.message_id
        assert visible(edit.text).splitlines()[1] == "Sources: Outlet A, Outlet B"

        await publish(app, feeds, "/c.xml", "Outlet C", C)
        update = api.messages_to(USER)[-1]
        assert update.reply_parameters == {"message_id": alert.message_id}
        assert "Sources: Outlet C, Outlet A, Outlet B" in visible(update.text)

        await digest_now(app)
        digest = visible(api.messages_to(USER)[-1].text)
        assert "(Outlet A, Outlet B, Outlet C; 1 update)" in digest


async def test_slack_notification_text_of_alert_edit_update_and_digest_names_the_outlets(
    tmp_path: Path,
) -> None:
    async with slack_watching(tmp_path, "S-400") as (app, api, feeds):
        await publish(app, feeds, "/a.xml", "Outlet A", A)
        [alert] = api.posted
        assert alert.text == f"{A.title} — Outlet A"

        await publish(app, feeds, "/b.xml", "Outlet B", B)
        [edit] = api.updated
        assert edit.ts == alert.ts and edit.text == f"{A.title} — Outlet A, Outlet B"

        await publish(app, feeds, "/c.xml", "Outlet C", C)
        update = api.posted[-1]
        assert update.thread_ts == alert.ts and update.text.startswith("Update: ")
        assert update.text.endswith(" — Outlet C, Outlet A, Outlet B")

        await digest_now(app)
        assert "(Outlet A, Outlet B, Outlet C; 1 update)" in api.posted[-1].shown


async def test_telegram_invisible_characters_do_not_hide_the_word_nor_spoof_the_alert(
    tmp_path: Path,
) -> None:
    async with telegram_watching(tmp_path, "Zorblax") as (app, api, feeds):
        await publish(app, feeds, "/a.xml", "Outlet \u202eA", SPOOF)
        [alert] = [m for m in api.messages_to(USER) if "fleet" in m.text]
        assert not set(BIDI) & set(alert.text)
        assert "gpj.exe sails" in visible(alert.text)  # the letters stay; only the override goes
        assert "Sources: Outlet A" in visible(alert.text)


async def test_slack_invisible_characters_do_not_hide_the_word_nor_spoof_the_alert(
    tmp_path: Path,
) -> None:
    async with slack_watching(tmp_path, "Zorblax") as (app, api, feeds):
        await publish(app, feeds, "/a.xml", "Outlet \u202eA", SPOOF)
        [alert] = api.posted
        assert not set(BIDI) & set(alert.text + alert.shown)
        assert "gpj.exe sails" in alert.text and alert.text.endswith(" — Outlet A")
        await digest_now(app)
        assert not set(BIDI) & set(api.posted[-1].shown)
        assert "(Outlet A)" in api.posted[-1].shown
