"""A tiny feed server on 127.0.0.1 for the demo, with ETags so unchanged feeds answer 304."""

from __future__ import annotations

import hashlib

from aiohttp import web


class DemoFeedServer:
    """Serves in-memory feed documents whose content the demo swaps between polls."""

    def __init__(self) -> None:
        self._docs: dict[str, bytes] = {}
        self.requests = 0
        self._runner: web.AppRunner | None = None
        self.port = 0

    def publish(self, path: str, body: bytes) -> None:
        self._docs[path] = body

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    async def _serve(self, request: web.Request) -> web.Response:
        self.requests += 1
        body = self._docs.get(request.path)
        if body is None:
            return web.Response(status=404, text="no such feed")
        etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers={"ETag": etag})
        return web.Response(body=body, content_type="application/rss+xml", headers={"ETag": etag})

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/{name}", self._serve)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
