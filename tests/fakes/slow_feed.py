"""A feed server on 127.0.0.1 that trickles its answer one byte a second until released.

    async with SlowFeed() as slow:
        url = slow.url("/a.xml")          # any path serves the same small RSS document
        await slow.wait_in_flight(3)      # three requests are being trickled right now
        slow.release()                    # the rest of every answer goes out at once

Tests synchronise on its condition (requests in flight), never on sleeps; the one-second
trickle only makes the feed as slow as a hostile one would be.
"""

from __future__ import annotations

import asyncio
import contextlib

from aiohttp import web

RSS = (
    b'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
    b"<title>Slow Outlet</title><link>http://slow.example/</link>"
    b"<item><title>A slow item</title><link>http://slow.example/1</link>"
    b"<guid>slow-1</guid><description>Served one byte a second.</description></item>"
    b"</channel></rss>"
)


class SlowFeed:
    """Counts requests in flight; `release()` lets every one of them (and later ones) finish."""

    def __init__(self, trickle_seconds: float = 1.0) -> None:
        self.in_flight = 0
        self.finished = 0
        self._trickle = trickle_seconds
        self._released = asyncio.Event()
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.root = ""

    async def __aenter__(self) -> SlowFeed:
        app = web.Application()
        app.router.add_get("/{path:.*}", self._serve)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.root = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.release()
        if self._runner is not None:
            await self._runner.cleanup()

    def url(self, path: str) -> str:
        return self.root + path

    def release(self) -> None:
        self._released.set()

    async def wait_in_flight(self, count: int, timeout: float = 10) -> None:  # noqa: ASYNC109
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(lambda: self.in_flight >= count)

    async def _count(self, delta: int) -> None:
        async with self._changed:
            self.in_flight += delta
            self.finished += delta < 0
            self._changed.notify_all()

    async def _serve(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/rss+xml"})
        response.content_length = len(RSS)
        await response.prepare(request)
        await self._count(+1)
        try:
            sent = 0
            while sent < len(RSS) and not self._released.is_set():
                await response.write(RSS[sent : sent + 1])
                sent += 1
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._released.wait(), self._trickle)
            await response.write(RSS[sent:])
            await response.write_eof()
        finally:
            await self._count(-1)
        return response
