"""A feed farm for bench/freshness.py: one RSS feed per outlet of a real publishing history.

Runs in its own process on 127.0.0.1. Time is the bench's: POST /clock (an ISO date in the
body) sets it, and each feed lists the newest 30 of its outlet's items published by then,
answering 304 to its current ETag. GET /requests?since=ISO gives each feed's request count
from that (virtual) time on. Prints "ready" on stdout once it listens.

Usage: python bench/freshfarm.py ARTICLES_JSONL PORT
"""

from __future__ import annotations

import asyncio
import bisect
import json
import subprocess
import sys
import urllib.request
from collections import defaultdict
from datetime import datetime
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape

from aiohttp import web
from feedfarm import _serve  # the same "ready" once listening

LISTED = 30  # items a feed lists: a real news feed shows its newest few dozen


def outlets(articles: Path) -> dict[str, list[dict[str, str]]]:
    """Each outlet's articles, oldest first, in outlet name order (feed n is the n-th)."""
    by: dict[str, list[dict[str, str]]] = defaultdict(list)
    for line in articles.read_text("utf-8").splitlines():
        row = json.loads(line)
        by[row["source"]].append(row)
    return {name: sorted(by[name], key=lambda r: r["published"]) for name in sorted(by)}


def published(row: dict[str, str]) -> datetime:
    return datetime.fromisoformat(row["published"].replace("Z", "+00:00"))


def _item(row: dict[str, str]) -> str:
    return (
        f"<item><title>{escape(row['title'])}</title><link>{escape(row['url'])}</link>"
        f'<guid isPermaLink="false">{row["id"]}</guid>'
        f"<pubDate>{format_datetime(published(row))}</pubDate>"
        f"<description>{escape(row['text'])}</description></item>"
    )


class FreshFarm:
    def __init__(self, articles: Path) -> None:
        self.feeds = list(outlets(articles).items())
        self.times = [[published(r) for r in rows] for _, rows in self.feeds]
        self.clock: datetime | None = None
        self.seen: list[tuple[int, datetime]] = []  # (feed, virtual time) of each request

    async def feed(self, request: web.Request) -> web.Response:
        n = int(request.match_info["n"])
        assert self.clock is not None, "POST /clock first"
        self.seen.append((n, self.clock))
        visible = bisect.bisect_right(self.times[n], self.clock)
        etag = f'"{n}-{visible}"'
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers={"ETag": etag})
        name, rows = self.feeds[n]
        items = "".join(_item(r) for r in reversed(rows[max(0, visible - LISTED) : visible]))
        body = (
            f'<?xml version="1.0"?><rss version="2.0"><channel><title>{escape(name)}</title>'
            f"<link>http://outlet{n}.example/</link>{items}</channel></rss>"
        )
        return web.Response(text=body, content_type="application/rss+xml", headers={"ETag": etag})

    async def set_clock(self, request: web.Request) -> web.Response:
        self.clock = datetime.fromisoformat(await request.text())
        return web.Response(text="ok")

    async def requests(self, request: web.Request) -> web.Response:
        since = datetime.fromisoformat(request.query["since"])
        counts = [0] * len(self.feeds)
        for n, at in self.seen:
            counts[n] += at >= since
        return web.json_response(counts)


def start_freshfarm(articles: Path, port: int) -> subprocess.Popen[str]:
    """This script as a separate process (its CPU is not the bot's); returns when ready."""
    farm = subprocess.Popen(
        [sys.executable, __file__, str(articles), str(port)], stdout=subprocess.PIPE, text=True
    )
    assert farm.stdout is not None and farm.stdout.readline().strip() == "ready"
    return farm


def set_clock(port: int, at: datetime) -> None:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/clock", data=at.isoformat().encode(), method="POST"
    )
    urllib.request.urlopen(request).read()


def request_counts(port: int, since: datetime) -> list[int]:
    url = f"http://127.0.0.1:{port}/requests?since={urllib.request.quote(since.isoformat())}"
    with urllib.request.urlopen(url) as answer:
        return [int(n) for n in json.loads(answer.read())]


def main() -> None:
    farm = FreshFarm(Path(sys.argv[1]))
    app = web.Application()
    app.router.add_get("/feed/{n}.xml", farm.feed)
    app.router.add_post("/clock", farm.set_clock)
    app.router.add_get("/requests", farm.requests)
    asyncio.run(_serve(app, int(sys.argv[2])))


if __name__ == "__main__":
    main()
