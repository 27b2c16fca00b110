"""Conditional, size-capped, redirect-checked HTTP GET of feeds, with per-host concurrency caps."""

from __future__ import annotations

import asyncio
import email.utils
import re
import socket
import zlib
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypedDict
from urllib.parse import urljoin, urlsplit

import aiohttp

from bot.feeds.safety import Refused, check_url
from bot.feeds.transport import AiohttpTransport, HttpxTransport, RawResponse, Transport

DEFAULT_USER_AGENT = "storywatch/0.1 (news alert bot; feed reader)"
_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
)
_MAX_AGE = re.compile(r"(?:^|,)\s*max-age\s*=\s*\"?(\d+)", re.IGNORECASE)


class FetchError(Exception):
    """A fetch that produced no feed; the message is one clear line for the user."""

    def __init__(self, message: str, *, retry_after: timedelta | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class FetchResult:
    """A successful fetch: 200 with the decoded body, or 304 with an empty one."""

    url: str  # after redirects
    status: int
    headers: Mapping[str, str]
    body: bytes = b""

    @property
    def not_modified(self) -> bool:
        return self.status == 304


def is_modified(status: int) -> bool:
    """False when the server answered our conditional GET with 304 Not Modified."""
    return status != 304


def retry_after(headers: Mapping[str, str], now: datetime) -> timedelta | None:
    """Retry-After as a wait from `now` (seconds or an HTTP date); None if absent or invalid."""
    value = headers.get("retry-after", "").strip()
    if value.isdigit():
        return timedelta(seconds=min(int(value), 10**7))
    when = _http_date(value)
    return None if when is None else max(when - now, timedelta(0))


def cache_max_age(headers: Mapping[str, str]) -> timedelta | None:
    """Cache-Control max-age, unless the response must not be cached at all."""
    control = headers.get("cache-control", "")
    if re.search(r"no-store|no-cache", control, re.IGNORECASE):
        return None
    match = _MAX_AGE.search(control)
    return timedelta(seconds=min(int(match.group(1)), 10**7)) if match else None


def expires_at(headers: Mapping[str, str]) -> datetime | None:
    """The Expires header as an aware UTC datetime; None if absent or invalid ("0", "-1")."""
    return _http_date(headers.get("expires", "").strip())


def _http_date(value: str) -> datetime | None:
    if not value:
        return None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def size_label(max_bytes: int) -> str:
    return f"{max_bytes / 1_000_000:g} MB" if max_bytes >= 100_000 else f"{max_bytes} bytes"


def _inflater(encoding: str) -> zlib._Decompress | None:
    """A decompressor for one Content-Encoding; we only ever ask for gzip or deflate."""
    encoding = encoding.strip().lower()
    if encoding in ("", "identity"):
        return None
    if encoding in ("gzip", "x-gzip"):
        return zlib.decompressobj(16 + zlib.MAX_WBITS)
    if encoding == "deflate":
        return zlib.decompressobj(32 + zlib.MAX_WBITS)  # zlib-wrapped, as the RFC says
    raise FetchError(f"unsupported Content-Encoding: {encoding[:40]}")


def gunzip_capped(data: bytes, max_bytes: int) -> bytes:
    """Gunzip `data`, keeping at most `max_bytes + 1` bytes (enough to tell it is too big)."""
    try:
        return _inflate(_inflater("gzip"), data, max_bytes + 1)
    except zlib.error:
        raise FetchError("could not decompress gzip data") from None


async def read_capped(chunks: AsyncIterator[bytes], encoding: str, max_bytes: int) -> bytes:
    """Decode `chunks` (raw body bytes) and stop as soon as the DECODED size passes `max_bytes`.

    Decompression is bounded per step (max_length), so a gzip bomb costs at most
    `max_bytes` of memory: an HTTP client's own decoder inflates a whole network chunk at once.
    """
    inflater = _inflater(encoding)
    body = bytearray()
    try:
        async for raw in chunks:
            body += _inflate(inflater, raw, max_bytes + 1 - len(body))
            if len(body) > max_bytes:
                raise FetchError(f"response larger than {size_label(max_bytes)}")
        if inflater is not None:
            body += inflater.flush()
    except zlib.error:
        raise FetchError(f"could not decompress the response ({encoding})") from None
    if len(body) > max_bytes:
        raise FetchError(f"response larger than {size_label(max_bytes)}")
    return bytes(body)


def _inflate(inflater: zlib._Decompress | None, raw: bytes, room: int) -> bytes:
    if inflater is None:
        return raw[:room]
    out = inflater.decompress(raw, room)
    while inflater.unconsumed_tail and len(out) < room:
        out += inflater.decompress(inflater.unconsumed_tail, room - len(out))
    return out


def _transport(given: Any, allow_private: bool, max_connections: int, user_agent: str) -> Transport:
    """aiohttp, with addresses vetted at connect time; an httpx transport when a test gives one."""
    if given is not None:
        return HttpxTransport(given, user_agent=user_agent)
    return AiohttpTransport(
        allow_private=allow_private, max_connections=max_connections, user_agent=user_agent
    )


class FetchOptions(TypedDict, total=False):
    """The fetcher's options, for the readers that pass them on (defaults: Fetcher's)."""

    allow_private: bool
    timeout: float
    max_bytes: int
    per_host: int
    max_redirects: int
    user_agent: str
    transport: Any
    max_connections: int


class Fetcher:
    """Fetches feed documents safely; `fetch` raises only `FetchError`.

    With `transport` given (tests: an httpx transport), connections bypass the address
    check; the scheme check and everything else still apply. Concurrency is capped here,
    overall and per host, so a request never queues inside the connection pool: its
    deadline starts when it may open (or reuse) a connection, not when it was queued.
    """

    def __init__(
        self,
        *,
        allow_private: bool = False,
        timeout: float = 10.0,
        max_bytes: int = 5_000_000,
        per_host: int = 4,
        max_redirects: int = 5,
        user_agent: str = DEFAULT_USER_AGENT,
        transport: Any = None,
        max_connections: int = 100,
    ) -> None:
        self._timeout = timeout
        self._max_bytes = max_bytes
        self._per_host = per_host
        self._max_redirects = max_redirects
        self._slots: dict[str, asyncio.Semaphore] = {}
        self._connections = asyncio.Semaphore(max_connections)
        self._transport = _transport(transport, allow_private, max_connections, user_agent)

    async def aclose(self) -> None:
        await self._transport.aclose()

    async def fetch(
        self, url: str, *, now: datetime, etag: str | None = None, last_modified: str | None = None
    ) -> FetchResult:
        """GET `url` (conditionally), following at most `max_redirects` checked redirects."""
        headers = {"Accept": _ACCEPT, "Accept-Encoding": "gzip, deflate"}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        for _ in range(self._max_redirects + 1):
            try:
                check_url(url)
            except Refused as exc:
                raise FetchError(str(exc)) from None
            outcome = await self._guarded_hop(url, headers, now)
            if isinstance(outcome, FetchResult):
                return outcome
            url = outcome
        raise FetchError("too many redirects")

    async def _guarded_hop(
        self, url: str, headers: dict[str, str], now: datetime
    ) -> FetchResult | str:
        """One request under the host's and the pool's caps, with a whole-request deadline."""
        host = urlsplit(url).hostname or ""
        slot = self._slots.setdefault(host, asyncio.Semaphore(self._per_host))
        async with slot, self._connections:
            try:
                async with asyncio.timeout(self._timeout):
                    return await self._hop(url, headers, now)
            except FetchError:
                raise
            except TimeoutError:
                raise FetchError(f"timed out after {self._timeout:g}s") from None
            except Refused as exc:
                raise FetchError(str(exc)) from None
            except (aiohttp.ClientConnectorDNSError, socket.gaierror):
                raise FetchError(f"could not resolve {host}") from None
            except Exception as exc:  # the transport's own errors: one line, never a traceback
                if isinstance(exc.__cause__, Refused):
                    raise FetchError(str(exc.__cause__)) from None
                raise FetchError(_network_error(host, exc)) from None

    async def _hop(self, url: str, headers: dict[str, str], now: datetime) -> FetchResult | str:
        """A FetchResult, or the next URL when the answer is a redirect."""
        async with self._transport.get(url, headers) as response:
            location = response.headers.get("location")
            if response.status in (301, 302, 303, 307, 308) and location:
                return urljoin(response.url, location.strip())
            if not is_modified(response.status):
                return FetchResult(response.url, 304, response.headers)
            check_status(response, now)
            length = response.headers.get("content-length", "")
            if length.isdigit() and int(length) > self._max_bytes:
                raise FetchError(f"response larger than {size_label(self._max_bytes)}")
            body = await read_capped(response.chunks, response.content_encoding, self._max_bytes)
            return FetchResult(response.url, response.status, response.headers, body)


def check_status(response: RawResponse, now: datetime) -> None:
    """Raise `FetchError` for any non-2xx answer, with the wait a 429/503 asked for."""
    status, host = response.status, urlsplit(response.url).hostname
    if status in (429, 503):
        wait = retry_after(response.headers, now)
        shown = "" if wait is None else f" (retry after {int(wait.total_seconds())}s)"
        raise FetchError(f"HTTP {status} from {host}{shown}", retry_after=wait)
    if not 200 <= status < 300:
        raise FetchError(f"HTTP {status} from {host}")


def _network_error(host: str, exc: Exception) -> str:
    if isinstance(exc, aiohttp.ClientConnectorError | ConnectionError):
        return f"could not connect to {host}"
    detail = str(exc).splitlines()[0][:100] if str(exc) else type(exc).__name__
    return f"network error talking to {host}: {detail}"
