"""OPML out and in through the real Telegram adapter (fake Bot API), SQLite and PostgreSQL."""

from __future__ import annotations

import html
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from fakes.telegram_api import FakeBotApi
from feedserver import FeedServer
from pydantic import SecretStr
from support import Item, rss

from bot.compose.app import App, build_app
from bot.opml import read_opml
from bot.services.chat.opml_import import PROMPT
from bot.settings import FeedConfig, Settings

ALICE, BOB = 1001, 1002
NOW = datetime.now(UTC)
BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE opml [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>
<opml version="2.0"><body><outline text="&c;" xmlUrl="http://x.example/rss"/></body></opml>"""


def opml(*urls: str) -> bytes:
    outlines = "".join(
        f'<outline type="rss" text="F{i}" xmlUrl="{u}"/>' for i, u in enumerate(urls)
    )
    return f'<?xml version="1.0"?><opml version="2.0"><body>{outlines}</body></opml>'.encode()


@dataclass
class Bot:
    app: App
    api: FakeBotApi
    feeds: FeedServer

    def answers(self, chat_id: int, message_id: int) -> list[str]:
        quoted = [
            m
            for m in self.api.messages_to(chat_id)
            if (m.reply_parameters or {}).get("message_id") == message_id
        ]
        return [html.unescape(m.text) for m in quoted]

    async def say(self, chat_id: int, text: str, count: int = 1) -> list[str]:
        asked = self.api.push_message(chat_id, text, user_id=chat_id)
        return await self._answered(chat_id, asked["message_id"], count)

    async def send_file(self, chat_id: int, data: bytes, count: int, **how: object) -> list[str]:
        sent = self.api.push_document(chat_id, data, "feeds.opml", user_id=chat_id, **how)  # type: ignore[arg-type]
        return await self._answered(chat_id, sent["message_id"], count)

    async def _answered(self, chat_id: int, message_id: int, count: int) -> list[str]:
        await self.api.wait_for(lambda: len(self.answers(chat_id, message_id)) >= count)
        return self.answers(chat_id, message_id)

    def own_feeds(self, listing: str) -> list[str]:
        return [line for line in listing.splitlines() if "(added here)" in line]


@pytest.fixture
async def bot(database_url: str) -> AsyncIterator[Bot]:
    async with FakeBotApi() as api, FeedServer() as feeds:
        for name in ("default", "one", "two"):
            item = Item(f"{name} news", "text", f"http://{name}.example/1", f"{name}-1", NOW)
            feeds.set(f"/{name}.xml", rss(f"Outlet {name}", [item]))
        settings = Settings(
            telegram_bot_token=SecretStr(api.token), telegram_api_base_url=api.base_url,
            database_url=database_url, allow_private_feeds=True,
            feeds=[FeedConfig(url=feeds.url("/default.xml"), name="Default")],
        )  # fmt: skip
        app = await build_app(settings)
        try:
            await app.start()
            yield Bot(app, api, feeds)
        finally:
            await app.close()


async def test_export_then_import_into_another_chat_gives_the_same_feeds(bot: Bot) -> None:
    for name in ("one", "two"):
        checking, added = await bot.say(ALICE, f"/addfeed {bot.feeds.url(f'/{name}.xml')}", 2)
        assert added.startswith("Added feed") and "1 item, newest: " + name in added
    [caption] = await _export(bot, ALICE)
    [document] = bot.api.documents
    assert document.name.endswith(".opml") and document.caption == caption
    assert caption == "2 feed(s) added in this chat, as OPML."

    [prompt] = await bot.say(BOB, "/import")
    assert prompt == PROMPT
    prompt_id = bot.api.messages_to(BOB)[-1].message_id
    checking, summary = await bot.send_file(BOB, document.data, 2, reply_to=prompt_id)
    assert checking.startswith("Checking 2 feed(s) from the OPML file")
    assert summary == "OPML import: added 2, already present 0, refused 0."
    [alice_feeds] = await bot.say(ALICE, "/feeds")
    [bob_feeds] = await bot.say(BOB, "/feeds")
    assert bot.own_feeds(bob_feeds) == bot.own_feeds(alice_feeds) != []
    await _export(bot, BOB)
    assert read_opml(bot.api.documents[1].data) == read_opml(document.data)  # the same outlines


async def _export(bot: Bot, chat_id: int) -> list[str | None]:
    before = len(bot.api.documents)
    bot.api.push_message(chat_id, "/export", user_id=chat_id)
    await bot.api.wait_for(lambda: len(bot.api.documents) > before)
    return [bot.api.documents[-1].caption]


async def test_an_import_lists_each_refused_feed_with_its_reason(bot: Bot) -> None:
    data = opml(
        bot.feeds.url("/one.xml"), bot.feeds.url("/default.xml"), bot.feeds.url("/missing.xml"),
        "ftp://files.example/feed", bot.feeds.url("/one.xml"),
    )  # fmt: skip
    _, summary = await bot.send_file(BOB, data, 2, caption="/import")
    head, *refused = summary.split("\n")
    assert head == "OPML import: added 1, already present 1, refused 2:"
    assert refused[0].startswith(f"• {bot.feeds.url('/missing.xml')} — ") and "404" in refused[0]
    assert refused[1].startswith("• ftp://files.example/feed — ")
    [listing] = await bot.say(BOB, "/feeds")
    assert len(bot.own_feeds(listing)) == 1


@pytest.mark.parametrize(
    ("data", "size", "why"),
    [
        (BOMB, None, "That file is not safe to read (unsafe XML: entity declarations"),
        (b"x" * 100, 5_000_000, "That file is 5,000,000 bytes; an OPML file may be at most"),
        (opml(*(f"http://f{i}.example/rss" for i in range(3000))), None,
         "That OPML file lists 3000 feeds; one import may add at most 200."),
        (b"<html><body>not a list</body></html>", None, "That file is not an OPML subscription"),
    ],
    ids=["entities", "huge", "thousands", "not-opml"],
)  # fmt: skip
async def test_a_hostile_opml_file_gets_one_line_and_nothing_is_stored(
    bot: Bot, data: bytes, size: int | None, why: str
) -> None:
    [answer] = await bot.send_file(BOB, data, 1, caption="/import", size=size)
    assert answer.startswith(why) and answer.endswith("Nothing was added.")
    [listing] = await bot.say(BOB, "/feeds")
    assert bot.own_feeds(listing) == []
    fetched = [seen.path for seen in bot.feeds.requests if seen.path != "/default.xml"]
    assert fetched == []  # no listed feed was even fetched
    if size is not None:
        assert bot.api.calls_of("getFile") == []  # announced too big: never downloaded
