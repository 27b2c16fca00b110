"""`HubPort` over HTTP: subscription requests POSTed to a hub, with the fetcher's address rules."""

from __future__ import annotations

import aiohttp

from bot.feeds.fetcher import DEFAULT_USER_AGENT
from bot.feeds.safety import Refused, check_url
from bot.feeds.transport import refuse_private_literal, vetted_connector
from bot.services.poll.websub import HubError


class HubClient:
    """Posts `hub.mode=subscribe|unsubscribe` requests; raises `HubError` for any failure.

    A hub URL comes from a feed, that is from anyone: it is vetted like a feed URL (no
    private addresses unless `allow_private`), redirects are not followed (a 3xx is a
    failure), and the answer body is never read beyond the status line."""

    def __init__(
        self,
        *,
        allow_private: bool = False,
        timeout: float = 10.0,
        user_agent: str = DEFAULT_USER_AGENT,
    ) -> None:
        self._allow_private, self._timeout = allow_private, timeout
        self._session = aiohttp.ClientSession(
            connector=vetted_connector(allow_private=allow_private, limit=20),
            timeout=aiohttp.ClientTimeout(total=timeout),
            trust_env=False,
            cookie_jar=aiohttp.DummyCookieJar(),
            headers={"User-Agent": user_agent},
        )

    async def aclose(self) -> None:
        await self._session.close()

    async def request(
        self, hub: str, *, mode: str, topic: str, callback: str, secret: str, lease_seconds: int
    ) -> None:
        form = {"hub.mode": mode, "hub.topic": topic, "hub.callback": callback}
        if mode == "subscribe":
            form |= {"hub.secret": secret, "hub.lease_seconds": str(lease_seconds)}
        try:
            check_url(hub)
            if not self._allow_private:
                refuse_private_literal(hub)
            async with self._session.post(hub, data=form, allow_redirects=False) as answer:
                status = answer.status
        except Refused as exc:
            raise HubError(str(exc)) from None
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise HubError(f"hub unreachable ({type(exc).__name__})") from None
        if not 200 <= status < 300:
            raise HubError(f"hub answered HTTP {status}")
