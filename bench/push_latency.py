"""Push latency: a hub publishing real items -> the article saved by the bot (target p50 <= 5 s,
p99 <= 30 s on the loopback).

Run: python bench/push_latency.py [--speed 3600] [--max-gap 1] [--limit N]. The real items
of ../shared/data/stories-real and stories-real-2 (each outlet one feed) are replayed in
`published` order onto a fake hub (tests/fakehub.py) on 127.0.0.1, which pushes each item,
signed, to the bot's real callback: `callback_app` + `WebSubService` + `PushIngest` into the
poller's save path through `GroupedSaves`, on SQLite. The feeds are subscribed first through
the real subscribe-and-verify exchange. Time is compressed (`speed` data seconds per wall
second, and no wall gap longer than `max-gap` seconds), but each latency is real wall time:
from the moment the item is published until the bot has committed the article (with its
stories, matches and outbox rows) and answered the hub. A chat watches "coronavirus", so
alerts are planned too. The bot's clock follows the items' publishing times, so stories form
as they did. The last printed line is JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import re
import socket
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from fakehub import FakeHub
from sqlalchemy import func, select
from support import Item, RecordingNotifier, SettableClock, rss

from bot.compose.app import App, build_app
from bot.core.websub import START_SPREAD
from bot.services.chat.ports import CommandContext
from bot.services.poll.push_saves import GroupedSaves
from bot.services.poll.websub import WebSubService
from bot.settings import FeedConfig, Settings
from bot.storage import tables as t
from bot.storage.websub import WebSubStore
from bot.websub.callback import callback_app, serve
from bot.websub.hub import HubClient
from bot.websub.ingest import PushIngest

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
SETS = ("stories-real-2", "stories-real")  # in time order: 22-24 Apr, then 27-29 Apr 2020


def load_articles(data: Path = DATA) -> list[dict[str, Any]]:
    """Both sets' articles, oldest first, with `published` as a datetime."""
    rows = []
    for name in SETS:
        for line in (data / name / "articles.jsonl").read_text().splitlines():
            row = json.loads(line)
            row["published"] = datetime.fromisoformat(row["published"].replace("Z", "+00:00"))
            rows.append(row)
    return sorted(rows, key=lambda r: (r["published"], r["id"]))


def feed_url(source: str) -> str:
    return f"https://{re.sub(r'[^a-z0-9]+', '-', source.lower()).strip('-')}.example/rss"


async def push_latencies(
    articles: list[dict[str, Any]] | None = None, *, speed: float = 3600.0,
    max_gap: float = 1.0,
) -> list[float]:  # fmt: skip
    """Seconds from each item's publication to its article being saved, one per item."""
    articles = articles if articles is not None else load_articles()
    with tempfile.TemporaryDirectory() as tmp:
        clock = SettableClock(articles[0]["published"] - timedelta(hours=1))
        app = await _bot(Path(tmp), articles, clock)
        hub = await FakeHub.start()
        try:
            return await _with_hub(app, hub, clock, articles, speed, max_gap)
        finally:
            await hub.stop()
            await app.close()


async def _bot(tmp: Path, articles: list[dict[str, Any]], clock: SettableClock) -> App:
    sources = sorted({a["source"] for a in articles})
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp / 'bench.db'}", parse_workers=0,
        feeds=[FeedConfig(url=feed_url(s), name=s) for s in sources],
    )  # fmt: skip
    app = await build_app(settings, clock=clock, console=(io.StringIO(), io.StringIO()),
                          notifiers={"console": RecordingNotifier()})  # fmt: skip
    await app.commands.handle(
        CommandContext("console", "console", "bench", _yes), "/watch coronavirus"
    )
    return app


async def _yes() -> bool:
    return True


async def _with_hub(
    app: App, hub: FakeHub, clock: SettableClock, articles: list[dict[str, Any]],
    speed: float, max_gap: float,
) -> list[float]:  # fmt: skip
    port = _free_port()
    client = HubClient(allow_private=True)
    ingest = PushIngest(GroupedSaves(app.poller.save_pushed), clock)
    service = WebSubService(WebSubStore(app.store.engine), client, ingest, clock,
                            base_url=f"http://127.0.0.1:{port}", batch=100)  # fmt: skip
    served = await serve(callback_app(service), "127.0.0.1", port)
    try:
        await _subscribe_all(app, service, hub, clock)
        latencies = await _replay(hub, clock, articles, speed, max_gap)
        await _check_saved(app, articles)
        return latencies
    finally:
        await served.aclose()
        await client.aclose()


async def _subscribe_all(
    app: App, service: WebSubService, hub: FakeHub, clock: SettableClock
) -> None:
    async with app.store.engine.connect() as conn:
        feeds = (await conn.execute(select(t.feeds.c.id, t.feeds.c.url))).all()
    for feed_id, url in feeds:
        await service.offer(feed_id, hub.url, url)
    clock.advance(seconds=START_SPREAD.total_seconds())
    await service.tick()
    if len(hub.subscribers) != len(feeds):
        raise SystemExit(f"only {len(hub.subscribers)} of {len(feeds)} feeds subscribed")


async def _replay(
    hub: FakeHub, clock: SettableClock, articles: list[dict[str, Any]], speed: float,
    max_gap: float,
) -> list[float]:  # fmt: skip
    """Publish each item at its (compressed) time; each push runs on its own, as a hub's do."""
    started, offset, previous = time.perf_counter(), 0.0, articles[0]["published"]
    pushes = []
    for row in articles:
        offset += min((row["published"] - previous).total_seconds() / speed, max_gap)
        previous = row["published"]
        await asyncio.sleep(max(0.0, started + offset - time.perf_counter()))
        clock.at = max(clock.at, row["published"])
        pushes.append(asyncio.create_task(_push(hub, row, started + offset)))
    return list(await asyncio.gather(*pushes))


async def _push(hub: FakeHub, row: dict[str, Any], published_at: float) -> float:
    item = Item(row["title"], row["text"], row["url"], row["id"], row["published"])
    status = await hub.push(feed_url(row["source"]), rss(row["source"], [item]))
    if status != 202:
        raise SystemExit(f"push answered {status}")
    return time.perf_counter() - published_at


async def _check_saved(app: App, articles: list[dict[str, Any]]) -> None:
    """Every item pushed is stored (once: pushes of the same link are one article)."""
    async with app.store.engine.connect() as conn:
        stored = int(await conn.scalar(select(func.count()).select_from(t.articles)) or 0)
    links = len({a["url"] for a in articles})
    if stored < links * 0.95:
        raise SystemExit(f"only {stored} articles stored for {links} distinct links")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _quantile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q * 100) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--speed", type=float, default=3600.0)
    parser.add_argument("--max-gap", type=float, default=1.0)
    parser.add_argument("--limit", type=int, default=None)
    args = parser.parse_args()
    articles = load_articles()[: args.limit]
    latencies = asyncio.run(push_latencies(articles, speed=args.speed, max_gap=args.max_gap))
    summary = {
        "bench": "push_latency", "count": len(latencies),
        "p50_s": round(_quantile(latencies, 0.50), 3),
        "p90_s": round(_quantile(latencies, 0.90), 3),
        "p99_s": round(_quantile(latencies, 0.99), 3),
        "max_s": round(max(latencies), 3), "speed": args.speed,
    }  # fmt: skip
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
