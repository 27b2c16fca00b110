"""A small world for end-to-end tests: three outlets on a local feed server, the bot, a chat."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Any

from feedserver import FeedServer
from support import Item, RecordingNotifier, SettableClock, rss

from bot.compose.app import App, build_app
from bot.services.chat.ports import CommandContext
from bot.settings import FeedConfig, Settings

__all__ = ["DEVELOPMENT", "MEETING_A", "MEETING_B", "T0", "UNRELATED", "Item", "World", "ask"]

T0 = datetime(2021, 3, 23, 16, 0, tzinfo=UTC)

MEETING_A = Item(
    "Blinken and Cavusoglu clash over S-400 at NATO meeting in Brussels",
    "US Secretary of State Antony Blinken pressed Turkish Foreign Minister Mevlut Cavusoglu in "
    "Brussels to drop the Russian S-400 air defense system. Turkey says the purchase is final.",
    "http://outlet-a.example/s400-brussels?utm_source=rss",
    "a-1",
    T0,
)
MEETING_B = Item(
    "Blinken tells Turkey to give up Russian S-400 system",
    "Antony Blinken told Mevlut Cavusoglu at the NATO meeting in Brussels that Turkey should not "
    "keep the Russian S-400 air defense system, the State Department said.",
    "http://outlet-b.example/blinken-s400",
    "b-1",
    T0.replace(hour=17),
)
DEVELOPMENT = Item(
    "Cavusoglu rejects Blinken's S-400 demand, says second battery talks near end",
    "Mevlut Cavusoglu said Turkey will keep the Russian S-400 air defense system despite Antony "
    'Blinken\'s demand in Brussels. "Talks on a second S-400 battery are in their final stage," '
    "Cavusoglu said, adding that a contract is expected within 60 days.",
    "http://outlet-c.example/second-battery",
    "c-1",
    T0.replace(day=24, hour=8),
)
UNRELATED = Item(
    "Dutch navy commissions a new frigate",
    "The frigate joins the fleet at Den Helder on Tuesday.",
    "http://outlet-a.example/frigate",
    "a-0",
    T0,
)


async def ask(app: App, text: str) -> str:
    async def admin() -> bool:
        return True

    ctx = CommandContext("console", "console", "tester", admin)
    return (await app.commands.handle(ctx, text)).text


class World:
    """Three outlets on a local feed server, the bot, and what the chat received."""

    def __init__(self, server: FeedServer, database_url: str) -> None:
        self.server, self.database_url = server, database_url
        self.clock = SettableClock(T0.replace(hour=18))
        self.notifier = RecordingNotifier()
        self.app: App | None = None
        for name in ("a", "b", "c"):
            server.set(f"/{name}.xml", rss(f"Outlet {name.upper()}", []))

    async def start(self, **overrides: Any) -> App:
        """The bot on this world's feeds; `overrides`: settings beyond the defaults."""
        feeds = [FeedConfig(url=self.server.url(f"/{n}.xml"), name=n) for n in "abc"]
        settings = Settings(
            database_url=self.database_url, allow_private_feeds=True, feeds=feeds, **overrides
        )
        console = (io.StringIO(), io.StringIO())
        self.app = await build_app(
            settings, clock=self.clock, console=console, notifiers={"console": self.notifier}
        )
        return self.app

    async def stop(self) -> None:
        if self.app is not None:
            await self.app.close()
            self.app = None

    def publish(self, outlet: str, *items: Item) -> None:
        self.server.set(f"/{outlet}.xml", rss(f"Outlet {outlet.upper()}", list(items)))

    async def poll_and_deliver(self) -> None:
        assert self.app is not None
        self.clock.advance(minutes=30)
        await self.app.poller.poll_once()
        await self.app.deliverer.drain()
