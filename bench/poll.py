"""Full poll cycles over N feeds served on 127.0.0.1; prints one JSON line last.

Cycle 1 fetches and parses every feed; later cycles are mostly 304 with every 50th feed
bringing a new item, as a real feed list behaves. Usage: python bench/poll.py [FEEDS] [CYCLES]
"""

from __future__ import annotations

import asyncio
import io
import json
import resource
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.app import build_app
from bot.services.ports import CommandContext
from bot.settings import FeedConfig, Settings


class Clock:
    def __init__(self) -> None:
        self.at = datetime(2026, 11, 1, 9, tzinfo=UTC)  # the farm's newest items are from now

    def now(self) -> datetime:
        return self.at


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start_farm(port: int) -> subprocess.Popen[str]:
    farm = subprocess.Popen(
        [sys.executable, str(Path(__file__).with_name("feedfarm.py")), "50", str(port)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert farm.stdout is not None and farm.stdout.readline().strip() == "ready"
    return farm


def _next_cycle(port: int) -> None:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/cycle", method="POST")
    urllib.request.urlopen(request).read()


async def _admin() -> bool:
    return True


async def _bench(feeds: int, cycles: int, port: int, db: Path) -> dict[str, object]:
    urls = [FeedConfig(url=f"http://127.0.0.1:{port}/feed/{n}.xml") for n in range(feeds)]
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{db}",
        allow_private_feeds=True,
        feeds=urls,
        poll_concurrency=200,
        per_host_concurrency=200,
    )
    clock = Clock()
    app = await build_app(settings, clock=clock, console=(io.StringIO(), io.StringIO()))
    ctx = CommandContext("console", "console", "bench", _admin)
    for query in ("missile defense", "summit -storm", "sanctions"):
        await app.commands.handle(ctx, f"/watch {query}")
    timings, articles = [], 0
    for _ in range(cycles):
        clock.at += timedelta(hours=1)
        started = time.perf_counter()
        report = await app.poller.poll_once()
        timings.append(time.perf_counter() - started)
        articles += report.articles
        await asyncio.to_thread(_next_cycle, port)
    await app.close()
    return {"cycle_seconds": [round(t, 2) for t in timings], "articles": articles}


def main() -> None:
    feeds = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    cycles = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    port = _free_port()
    farm = _start_farm(port)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            result = asyncio.run(_bench(feeds, cycles, port, Path(tmp) / "bench.db"))
    finally:
        farm.terminate()
    seconds = result["cycle_seconds"]
    assert isinstance(seconds, list)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "bench": "poll",
                "feeds": feeds,
                "cycles": cycles,
                **result,
                "first_cycle_seconds": seconds[0],
                "steady_cycle_seconds": max(seconds[1:] or seconds),
                "feeds_per_second_steady": round(feeds / max(seconds[1:] or seconds), 1),
                "peak_rss_mb": round(peak_mb, 1),
                "database": "sqlite",
                "note": "per-host cap raised to 100: every bench feed is on 127.0.0.1",
            }
        )
    )


if __name__ == "__main__":
    main()
