"""Reply latency of other chats while one chat runs slow /addfeed checks (target: p99 <= 1 s).

Run: python bench/chat_latency.py [--chats 20] [--rate 10] [--seconds 10]. The real bot
(python-telegram-bot with its rate limiter, the command service, SQLite) talks to the fake Bot API
on 127.0.0.1; one chat sends three /addfeed commands for a feed that answers one byte a second,
and while those checks run the other chats send `rate` commands a second between them (open
loop, round robin). Latency is from the update being offered to the bot until the fake Bot API
receives the answer. With `--big-items N` a second chat adds a feed of N tiny items served
at full speed (the issue's 4 MB, 100,000-item feed), whose parse runs while others are typed.
The offered rate stays below Telegram's 30 messages/s, which the bot's rate
limiter enforces for all chats together: past it, every reply queues behind that limit whatever
the bot does. The last printed line is JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from aiohttp import web
from fakes.slow_feed import SlowFeed
from fakes.telegram_api import FakeBotApi
from pydantic import SecretStr

from bot.compose.app import build_app
from bot.settings import Settings

SLOW_CHAT, BIG_CHAT = 1, 2
COMMANDS = ("/watch S-400", "/watchlist", "/status", "/feeds", "/unwatch 1")


async def _ask(api: FakeBotApi, chat: int, text: str) -> float:
    """Send one command; seconds until its answer reached the Bot API."""
    started = time.perf_counter()
    asked = api.push_message(chat, text, user_id=chat)
    await api.wait_for(
        lambda: any(
            (m.reply_parameters or {}).get("message_id") == asked["message_id"]
            for m in api.messages_to(chat)
        ),
        timeout=60,
    )
    return time.perf_counter() - started


async def _second_answer(api: FakeBotApi, asked: dict[str, object], into: list[float]) -> None:
    """Record when the second reply to `asked` (the /addfeed result) reaches the Bot API."""
    await api.wait_for(
        lambda: (
            sum(
                (m.reply_parameters or {}).get("message_id") == asked["message_id"]
                for m in api.messages_to(BIG_CHAT)
            )
            >= 2
        ),
        timeout=600,
    )
    into.append(time.perf_counter())


async def _offer(api: FakeBotApi, chats: int, rate: float, seconds: float) -> list[float]:
    """`rate` commands a second for `seconds`, round robin over the other chats."""
    asks = []
    for n in range(int(rate * seconds)):
        chat = 1000 + n % chats
        asks.append(asyncio.create_task(_ask(api, chat, COMMANDS[n // chats % len(COMMANDS)])))
        await asyncio.sleep(1 / rate)  # the offered load, not synchronisation
    return list(await asyncio.gather(*asks))


def big_feed(items: int) -> bytes:
    """An RSS document of `items` minimal items (about 40 bytes each)."""
    body = "".join(f"<item><guid>i{n}</guid><title>t{n}</title></item>" for n in range(items))
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>Big</title>{body}'.encode() + (
        b"</channel></rss>"
    )


@asynccontextmanager
async def serving(body: bytes) -> AsyncIterator[str]:
    """Serve `body` at full speed on 127.0.0.1; yields its URL."""
    app = web.Application()

    async def feed(request: web.Request) -> web.Response:
        return web.Response(body=body, content_type="application/rss+xml")

    app.router.add_get("/big.xml", feed)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}/big.xml"
    finally:
        await runner.cleanup()


def _big_check_seconds(asked_at: float, answered_at: list[float]) -> float | None:
    return round(answered_at[0] - asked_at, 2) if answered_at else None


async def run(chats: int, rate: float, seconds: float, big_items: int) -> dict[str, object]:
    big_answered: list[float] = []
    async with FakeBotApi() as api, SlowFeed() as slow, serving(big_feed(big_items)) as big:
        with tempfile.TemporaryDirectory() as tmp:
            settings = Settings(
                telegram_bot_token=SecretStr(api.token),
                telegram_api_base_url=api.base_url,
                database_url=f"sqlite+aiosqlite:///{tmp}/bench.db",
                allow_private_feeds=True,
                fetch_timeout_seconds=300,
                max_feed_bytes=50_000_000,
                feeds=[],
            )
            app = await build_app(settings)
            await app.start()
            try:
                for n in range(3):
                    api.push_message(SLOW_CHAT, f"/addfeed {slow.url(f'/{n}.xml')}", user_id=1)
                await slow.wait_in_flight(3)
                big_asked = time.perf_counter()
                if big_items:
                    asked = api.push_message(BIG_CHAT, f"/addfeed {big}", user_id=BIG_CHAT)
                    watcher = asyncio.create_task(_second_answer(api, asked, big_answered))
                latencies = sorted(await _offer(api, chats, rate, seconds))
                if big_items:
                    await watcher
                still_running = slow.in_flight
            finally:
                slow.release()
                await app.close()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    return {
        "bench": "chat_latency",
        "other_chats": chats,
        "offered_commands_per_s": rate,
        "replies": len(latencies),
        "slow_checks_in_flight_throughout": still_running == 3,
        "big_feed_items": big_items,
        "big_feed_check_s": _big_check_seconds(big_asked, big_answered),
        "p50_s": round(statistics.median(latencies), 4),
        "p99_s": round(p99, 4),
        "max_s": round(latencies[-1], 4),
        "p99_within_1s": p99 <= 1.0,
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chats", type=int, default=20)
    parser.add_argument("--rate", type=float, default=10)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--big-items", type=int, default=0)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args.chats, args.rate, args.seconds, args.big_items))))


if __name__ == "__main__":
    main()
