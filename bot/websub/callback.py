"""The WebSub callback endpoint: `/websub/<token>` turned into `WebSubService` calls.

GET  (verification of intent): the challenge echoed only when the service confirms the
     request was ours, for this topic and mode; anything else 404, nothing stored.
POST (content distribution): unknown token 410 (the hub drops the subscription); a body
     over the limit 413; otherwise 2xx whether or not the signature was valid (the spec
     says so: a forger learns nothing), and only a valid one is parsed and stored. A body
     that could not be stored (database down) is 500, so the hub delivers it again.
No access log: the path carries the token, which is as good as the subscription's key.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from aiohttp import web

from bot.services.poll.websub import PushOutcome, WebSubService

log = logging.getLogger(__name__)

_SERVICE: web.AppKey[WebSubService] = web.AppKey("websub_service", WebSubService)
_MAX: web.AppKey[int] = web.AppKey("websub_max_bytes", int)
_GATE: web.AppKey[asyncio.Semaphore] = web.AppKey("websub_gate", asyncio.Semaphore)
PUSHES_AT_ONCE = 8  # bodies read at once: max_feed_bytes each, so memory stays bounded


def callback_app(service: WebSubService, max_bytes: int = 5_000_000) -> web.Application:
    """The callback routes; serve them at the public base URL's root."""
    app = web.Application(client_max_size=max_bytes)
    app[_SERVICE], app[_MAX] = service, max_bytes
    app[_GATE] = asyncio.Semaphore(PUSHES_AT_ONCE)
    app.router.add_get("/websub/{token}", _verify)
    app.router.add_post("/websub/{token}", _push)
    return app


async def _verify(request: web.Request) -> web.Response:
    query = request.query
    mode, topic = query.get("hub.mode", ""), query.get("hub.topic", "")
    challenge = query.get("hub.challenge", "")
    lease = _int(query.get("hub.lease_seconds"))
    if mode in ("subscribe", "unsubscribe") and not challenge:
        raise web.HTTPNotFound
    service = request.app[_SERVICE]
    answered = await service.verify(
        request.match_info["token"], mode, topic, lease, query.get("hub.reason", "")
    )
    if not answered:
        raise web.HTTPNotFound
    return web.Response(text=challenge if mode != "denied" else "", content_type="text/plain")


async def _push(request: web.Request) -> web.Response:
    if (request.content_length or 0) > request.app[_MAX]:
        raise web.HTTPRequestEntityTooLarge(request.app[_MAX], request.content_length or 0)
    service = request.app[_SERVICE]
    if not await service.knows(request.match_info["token"]):
        raise web.HTTPGone  # before reading a byte: a stranger cannot make us buffer bodies
    async with request.app[_GATE]:
        body = await request.read()  # over client_max_size while streaming: 413 from aiohttp
        return await _take(request, service, body)


async def _take(request: web.Request, service: WebSubService, body: bytes) -> web.Response:
    try:
        outcome = await service.receive(
            request.match_info["token"],
            body,
            request.headers.get("X-Hub-Signature"),
            request.headers.get("Content-Type"),
        )
    except Exception:  # the path holds the token: log without the request
        log.exception("a pushed body could not be stored; the hub will send it again")
        raise web.HTTPInternalServerError from None
    if outcome is PushOutcome.UNKNOWN:
        raise web.HTTPGone
    return web.Response(status=202)


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


@dataclass
class Served:
    """A running callback server; `port` is the one bound (useful with port 0)."""

    runner: web.AppRunner
    port: int

    async def aclose(self) -> None:
        await self.runner.cleanup()


async def serve(app: web.Application, host: str, port: int) -> Served:
    """Listen on host:port, without an access log (see the module doc)."""
    # A malformed request (a 9 KB request line) makes aiohttp log a traceback quoting the
    # path, which holds a token: its handler logs go to a logger that keeps only criticals.
    quiet = logging.getLogger("bot.websub.http")
    quiet.setLevel(logging.CRITICAL)
    runner = web.AppRunner(app, access_log=None, handle_signals=False, logger=quiet)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound = port
    if runner.addresses:
        bound = int(runner.addresses[0][1])
    return Served(runner, bound)
