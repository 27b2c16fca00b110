"""A feed farm for bench/poll.py: N feeds on 127.0.0.1, in its own process.

Feed n answers 304 to its current ETag; every `churn`-th feed gains a new item each cycle.
Each feed lists ten items a day apart, so only the newest three are inside a 72 h story window.
POST /cycle moves to the next cycle. Prints the port on stdout when ready.
"""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import urllib.request
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

from aiohttp import web

BASE = datetime(2026, 11, 1, tzinfo=UTC)
WORDS = (
    "missile",
    "defense",
    "parliament",
    "budget",
    "election",
    "storm",
    "summit",
    "talks",
    "minister",
    "sanctions",
    "frigate",
    "tariff",
    "court",
    "strike",
    "vaccine",
    "bank",
)


def _item(feed: int, number: int, newest: int, base: datetime = BASE) -> str:
    """Item `number`; like a real feed, items are a day apart and the newest is `newest`."""
    words = " ".join(WORDS[(feed * 7 + number * k) % len(WORDS)] for k in range(1, 9))
    when = format_datetime(base + timedelta(hours=newest) - timedelta(days=newest - number))
    return (
        f"<item><title>Feed {feed} report {number}: {words}</title>"
        f"<link>http://news{feed % 97}.example/{feed}/{number}</link>"
        f"<guid>http://news{feed % 97}.example/{feed}/{number}</guid>"
        f"<pubDate>{when}</pubDate><description>{words} {words} in region {feed}."
        f"</description></item>"
    )


class Farm:
    def __init__(self, churn: int, base: datetime = BASE) -> None:
        self.churn, self.cycle, self.base = churn, 0, base

    def version(self, feed: int) -> int:
        return self.cycle if feed % self.churn == 0 else 0

    async def feed(self, request: web.Request) -> web.Response:
        feed = int(request.match_info["n"])
        version = self.version(feed)
        etag = f'"{feed}-{version}"'
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers={"ETag": etag})
        items = "".join(
            _item(feed, n, version + 9, self.base) for n in range(version, version + 10)
        )
        body = (
            f'<?xml version="1.0"?><rss version="2.0"><channel><title>Feed {feed}</title>'
            f"<link>http://news{feed}.example/</link>{items}</channel></rss>"
        )
        return web.Response(text=body, content_type="application/rss+xml", headers={"ETag": etag})

    async def next_cycle(self, request: web.Request) -> web.Response:
        self.cycle += 1
        return web.Response(text=str(self.cycle))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_farm(port: int, churn: int = 50, base: datetime = BASE) -> subprocess.Popen[str]:
    """This script as a separate process (its CPU is not the client's); returns when ready.
    `base`: cycle 0's newest item is 9 hours after it (bench/scale.py dates items to now)."""
    farm = subprocess.Popen(
        [sys.executable, __file__, str(churn), str(port), base.isoformat()],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert farm.stdout is not None and farm.stdout.readline().strip() == "ready"
    return farm


def next_cycle(port: int) -> None:
    """Tell the farm at `port` to move on: every `churn`-th feed gains an item."""
    request = urllib.request.Request(f"http://127.0.0.1:{port}/cycle", method="POST")
    urllib.request.urlopen(request).read()


def main() -> None:
    base = datetime.fromisoformat(sys.argv[3]) if len(sys.argv) > 3 else BASE
    farm = Farm(int(sys.argv[1]) if len(sys.argv) > 1 else 50, base)
    app = web.Application()
    app.router.add_get("/feed/{n}.xml", farm.feed)
    app.router.add_post("/cycle", farm.next_cycle)
    asyncio.run(_serve(app, int(sys.argv[2]) if len(sys.argv) > 2 else 8765))


async def _serve(app: web.Application, port: int) -> None:
    """Say "ready" only once the socket listens (on_startup runs before it is bound)."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    print("ready", flush=True)
    await asyncio.Event().wait()  # until terminated


if __name__ == "__main__":
    main()
