"""A WebSub hub on 127.0.0.1 for tests: takes subscriptions, verifies them, pushes, denies, dies.

Real HTTP both ways: subscribers POST to `url`, and the hub GETs and POSTs their callbacks.
Verification happens before the hub answers the subscribe request (as many hubs do), so once
the subscriber's request returns, the outcome is known: no sleeping, no polling.

    hub = await FakeHub.start()
    hub.url                              # http://127.0.0.1:PORT/hub
    hub.answer = 503                     # refuse the next requests (default 202)
    await hub.push(topic, body)          # signed sha256 with the subscriber's secret
    await hub.push(topic, body, secret="wrong") / (..., algorithm=None)  # forged / unsigned
    await hub.verify(sub, "subscribe")   # a verification GET of our own making (a replay)
    await hub.stop()                     # the hub goes away: connections refused
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field

import aiohttp
from aiohttp import web


@dataclass
class HubSubscription:
    """What a subscriber asked for, as the hub remembers it."""

    topic: str
    callback: str
    secret: str
    lease_seconds: int | None
    mode: str = "subscribe"
    verified: bool = False


@dataclass
class FakeHub:
    runner: web.AppRunner
    url: str
    answer: int = 202
    verify_at_once: bool = True  # False: the request is taken, the test verifies when it likes
    lease_seconds: int | None = None  # granted; None: what the subscriber asked
    requests: list[HubSubscription] = field(default_factory=list)
    subscribers: dict[tuple[str, str], HubSubscription] = field(default_factory=dict)
    session: aiohttp.ClientSession | None = None

    @classmethod
    async def start(cls) -> FakeHub:
        app = web.Application()
        hub = cls(web.AppRunner(app, access_log=None), "", session=aiohttp.ClientSession())
        app.router.add_post("/hub", hub._request)
        await hub.runner.setup()
        await web.TCPSite(hub.runner, "127.0.0.1", 0).start()
        hub.url = f"http://127.0.0.1:{hub.runner.addresses[0][1]}/hub"
        return hub

    async def stop(self) -> None:
        await self.runner.cleanup()
        if self.session is not None:
            await self.session.close()
            self.session = None

    async def _request(self, request: web.Request) -> web.Response:
        form = await request.post()
        lease = form.get("hub.lease_seconds")
        sub = HubSubscription(
            str(form["hub.topic"]), str(form["hub.callback"]), str(form.get("hub.secret", "")),
            int(str(lease)) if lease else None, str(form["hub.mode"]),
        )  # fmt: skip
        self.requests.append(sub)
        if self.answer >= 300 or not self.verify_at_once:
            return web.Response(status=self.answer)
        status, _ = await self.verify(sub, sub.mode)
        if status == 200 and sub.mode == "subscribe":
            sub.verified = True
            self.subscribers[(sub.topic, sub.callback)] = sub
        elif status == 200:
            self.subscribers.pop((sub.topic, sub.callback), None)
        return web.Response(status=202)

    async def verify(
        self, sub: HubSubscription, mode: str, *, topic: str | None = None
    ) -> tuple[int, str]:
        """A verification GET to `sub`'s callback: (status, body)."""
        challenge = secrets.token_hex(8)
        params = {"hub.mode": mode, "hub.topic": topic or sub.topic, "hub.challenge": challenge}
        granted = self.lease_seconds or sub.lease_seconds
        if mode == "subscribe" and granted:
            params["hub.lease_seconds"] = str(granted)
        assert self.session is not None
        async with self.session.get(sub.callback, params=params) as answer:
            body = await answer.text()
        if answer.status == 200 and mode != "denied":
            assert body == challenge, "the subscriber must echo the challenge"
        return answer.status, body

    async def deny(self, sub: HubSubscription, reason: str = "not allowed") -> int:
        assert self.session is not None
        params = {"hub.mode": "denied", "hub.topic": sub.topic, "hub.reason": reason}
        async with self.session.get(sub.callback, params=params) as answer:
            return answer.status

    def subscriber(self, topic: str) -> HubSubscription:
        [sub] = [s for (t, _), s in self.subscribers.items() if t == topic]
        return sub

    async def push(
        self, topic: str, body: bytes, *, algorithm: str | None = "sha256",
        secret: str | None = None, callback: str | None = None,
    ) -> int:  # fmt: skip
        """Content distribution to `topic`'s subscriber; returns the HTTP status it answered."""
        sub = self.subscriber(topic)
        headers = {"Content-Type": "application/rss+xml"}
        if algorithm is not None:
            key = (secret if secret is not None else sub.secret).encode()
            digest = hmac.new(key, body, getattr(hashlib, algorithm)).hexdigest()
            headers["X-Hub-Signature"] = f"{algorithm}={digest}"
        assert self.session is not None
        async with self.session.post(callback or sub.callback, data=body,
                                     headers=headers) as answer:  # fmt: skip
            await answer.read()
            return answer.status
