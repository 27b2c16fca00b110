"""`storywatch demo`: the real pipeline against bundled feeds served on 127.0.0.1, offline."""

from __future__ import annotations

import asyncio
import io
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import TextIO

from bot.compose.app import App, build_app
from bot.demo.server import DemoFeedServer
from bot.settings import FeedConfig, Settings

OUTLETS = {
    "/balkan.xml": "Balkan Defence Wire",
    "/fer.xml": "Free Europe Radio Desk",
    "/ankara.xml": "Ankara Dispatch",
}


class DemoClock:
    """A clock the demo moves forward, so feed cadences pass in seconds, not minutes."""

    def __init__(self, start: datetime) -> None:
        self.at = start

    def now(self) -> datetime:
        return self.at

    def advance(self, minutes: int) -> None:
        self.at += timedelta(minutes=minutes)


def _doc(name: str) -> bytes:
    return resources.files("bot.demo").joinpath(name).read_bytes()


def _say(out: TextIO, text: str) -> None:
    out.write(f"\n=== {text}\n")
    out.flush()


async def _step(app: App, out: TextIO, clock: DemoClock, title: str) -> None:
    clock.advance(15)
    _say(out, title)
    report = await app.poller.poll_once()
    out.write(
        f"(poll: {report.feeds} feeds, {report.articles} new articles, "
        f"{report.messages} messages planned)\n"
    )
    await app.deliverer.drain()


async def _demo(out: TextIO, db: Path) -> None:
    server = DemoFeedServer()
    await server.start()
    server.publish("/balkan.xml", _doc("a1.xml"))
    server.publish("/fer.xml", _doc("b1.xml"))
    feeds = [FeedConfig(url=server.url(p), name=n) for p, n in OUTLETS.items()]
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{db}",
        allow_private_feeds=True,
        feeds=feeds,
        telegram_bot_token=None,
        slack_bot_token=None,
    )
    clock = DemoClock(datetime(2021, 3, 23, 18, 0, tzinfo=UTC))
    app = await build_app(settings, clock=clock, console=(io.StringIO(), out))
    console = app.runtimes["console"]
    try:
        await _script(app, console, out, clock, server)
    finally:
        await app.close()
        await server.stop()


async def _script(
    app: App, console: object, out: TextIO, clock: DemoClock, server: DemoFeedServer
) -> None:
    from bot.console.app import ConsoleRuntime

    assert isinstance(console, ConsoleRuntime)
    _say(out, "1. A user subscribes in the console chat and watches three things")
    for line in ("/start", "/watch S-400", "/watch F-35", "/watch Cavusoglu", "/watchlist"):
        out.write(f"> {line}\n")
        await console.type(line)
    await app.rules.refresh()
    first = "2. First poll: two outlets report the same Brussels meeting -> ONE alert listing both"
    await _step(app, out, clock, first + " sources")
    server.publish("/ankara.xml", _doc("c2.xml"))
    server.publish("/balkan.xml", _doc("a2.xml"))
    later = "3. Later poll: a third outlet brings new facts -> an Update threaded under the alert;"
    await _step(app, out, clock, later + " the first outlet only edited its headline -> nothing")
    await _step(app, out, clock, "4. Another poll: nothing changed (feeds answer 304) -> nothing")
    out.write("\n> /status\n")
    await console.type("/status")


def main() -> int:
    """Run the demo in a temporary folder; prints what the user receives, step by step."""
    with tempfile.TemporaryDirectory(prefix="storywatch-demo-") as tmp:
        asyncio.run(_demo(sys.stdout, Path(tmp) / "demo.db"))
    print("\nDemo finished. Run `storywatch run` to start the bot for real.")
    return 0
