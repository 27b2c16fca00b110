"""The fetcher's one narrow port: GET a URL, get status, headers and raw body chunks.

`AiohttpTransport` is the real one. Its connections are vetted twice, both at connect time:
the resolver refuses a name if ANY of its addresses is non-public, and the socket factory
refuses every address a socket is about to connect to (IP literals skip the resolver, so
this is where they are caught). The socket goes to exactly the vetted address, so a name
cannot be re-resolved to 127.0.0.1 between check and connect (DNS rebinding), and every
redirect hop is a new request through the same checks. No proxies from the environment (a
proxy would make us vet the proxy's address instead of the feed's), no cookies, and no
automatic decompression: the fetcher inflates within its size cap itself.

`HttpxTransport` adapts an `httpx` transport (tests use `httpx.MockTransport`); it makes no
connections of its own, so there is nothing for it to vet.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import AsyncIterator, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult

from bot.feeds.safety import Refused, address_problem, resolve_public

_CHUNK = 64 * 1024


@dataclass(frozen=True, slots=True)
class RawResponse:
    """One HTTP answer as the fetcher sees it: body still encoded (gzip/deflate) and unread."""

    url: str
    status: int
    headers: Mapping[str, str]
    chunks: AsyncIterator[bytes]
    content_encoding: str = ""


class Transport(Protocol):
    """Sends one GET (never following redirects) and yields the answer while it is open."""

    def get(
        self, url: str, headers: Mapping[str, str]
    ) -> AbstractAsyncContextManager[RawResponse]: ...

    async def aclose(self) -> None: ...


class _VettedResolver(AbstractResolver):
    """Resolves with the event loop's resolver and refuses non-public names."""

    def __init__(self, *, allow_private: bool) -> None:
        self._allow_private = allow_private

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        addresses = await resolve_public(host, port, allow_private=self._allow_private)
        return [_result(host, address, port) for address in addresses]

    async def close(self) -> None:
        return None


def _result(host: str, address: str, port: int) -> ResolveResult:
    ip = ipaddress.ip_address(address.split("%")[0])
    family = socket.AF_INET6 if ip.version == 6 else socket.AF_INET
    return ResolveResult(
        hostname=host,
        host=address,
        port=port,
        family=family,
        proto=0,
        flags=socket.AI_NUMERICHOST,
    )


def _vetted_socket_factory(allow_private: bool) -> Any:
    """A socket factory that refuses to connect to a non-public address."""

    def make(addr_info: tuple[Any, ...]) -> socket.socket:
        family, kind, proto, _, address = addr_info
        if not allow_private:
            shown = str(address[0]).split("%")[0]
            problem = address_problem(ipaddress.ip_address(shown))
            if problem:
                raise Refused(f"refused: {shown} is a {problem} address")
        sock = socket.socket(family=family, type=kind, proto=proto)
        sock.setblocking(False)
        return sock

    return make


def _refuse_private_literal(url: str) -> None:
    """An IP-literal host, named as the user wrote it (the socket factory would see it
    normalised: ::ffff:7f00:1 for [::ffff:127.0.0.1])."""
    host = (urlsplit(url).hostname or "").split("%")[0]
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return
    problem = address_problem(ip)
    if problem:
        raise Refused(f"refused: {host} is a {problem} address")


def vetted_connector(*, allow_private: bool, limit: int) -> aiohttp.TCPConnector:
    """A connection pool whose every connection is vetted as above (the WebSub hub client
    posts to hubs a feed named: the same rules as fetching that feed)."""
    return aiohttp.TCPConnector(
        limit=limit,
        resolver=_VettedResolver(allow_private=allow_private),
        socket_factory=_vetted_socket_factory(allow_private),
        keepalive_timeout=5.0,
    )


def refuse_private_literal(url: str) -> None:
    """Raise Refused for a URL whose host is a non-public IP literal."""
    _refuse_private_literal(url)


class AiohttpTransport:
    """The real transport: one aiohttp session with a vetted connection pool."""

    def __init__(self, *, allow_private: bool, max_connections: int, user_agent: str) -> None:
        self._allow_private = allow_private
        connector = aiohttp.TCPConnector(
            limit=max_connections,
            limit_per_host=0,  # the fetcher's per-host slots cap hosts
            resolver=_VettedResolver(allow_private=allow_private),
            socket_factory=_vetted_socket_factory(allow_private),
            keepalive_timeout=5.0,
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            timeout=aiohttp.ClientTimeout(total=None),  # the fetcher sets the deadline
            auto_decompress=False,
            trust_env=False,
            cookie_jar=aiohttp.DummyCookieJar(),
            headers={"User-Agent": user_agent},
        )

    @asynccontextmanager
    async def get(self, url: str, headers: Mapping[str, str]) -> AsyncIterator[RawResponse]:
        if not self._allow_private:
            _refuse_private_literal(url)
        async with self._session.get(url, headers=dict(headers), allow_redirects=False) as got:
            yield RawResponse(
                str(got.url),
                got.status,
                got.headers,
                got.content.iter_chunked(_CHUNK),
                got.headers.get("content-encoding", ""),
            )

    async def aclose(self) -> None:
        await self._session.close()


class HttpxTransport:
    """An `httpx.AsyncBaseTransport` behind the same port (tests: `httpx.MockTransport`)."""

    def __init__(self, transport: Any, *, user_agent: str) -> None:
        import httpx  # only for callers that bring an httpx transport

        self._client = httpx.AsyncClient(
            transport=transport,
            follow_redirects=False,
            trust_env=False,
            headers={"User-Agent": user_agent},
        )

    @asynccontextmanager
    async def get(self, url: str, headers: Mapping[str, str]) -> AsyncIterator[RawResponse]:
        import httpx

        try:
            async with self._client.stream("GET", url, headers=dict(headers)) as got:
                if got.is_stream_consumed:  # built in memory: already read and decoded
                    chunks, encoding = _single(got.content), ""
                else:
                    chunks, encoding = got.aiter_raw(), got.headers.get("content-encoding", "")
                yield RawResponse(str(got.url), got.status_code, got.headers, chunks, encoding)
        except httpx.ConnectError as exc:  # the fetcher knows the standard library's errors
            raise ConnectionError(str(exc)) from exc
        except httpx.TimeoutException as exc:
            raise TimeoutError(str(exc)) from exc

    async def aclose(self) -> None:
        await self._client.aclose()


async def _single(data: bytes) -> AsyncIterator[bytes]:
    yield data
