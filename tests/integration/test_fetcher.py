"""HttpFeedReader over real HTTP on 127.0.0.1: conditional GET, caps, redirects, refusals."""

from __future__ import annotations

import asyncio
import gzip
import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from feedserver import FeedServer

import bot.feeds.reader as reader_module
from bot.feeds.fetcher import FetchError, cache_max_age, expires_at, read_capped, retry_after
from bot.feeds.reader import HttpFeedReader
from bot.services.ports import FeedReadResult, FeedRef

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "feeds"
NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
RSS = (
    '<?xml version="1.0"?><rss version="2.0"><channel><title>Local News</title>'
    "<item><title>Dam opens</title><link>/news/dam?utm_source=rss&amp;id=3</link>"
    "<guid>https://local.example/news/dam</guid></item></channel></rss>"
)
XML = {"Content-Type": "application/rss+xml; charset=utf-8"}


async def read(url: str, feed: FeedRef | None = None, **options: Any) -> FeedReadResult:
    options.setdefault("allow_private", True)
    async with HttpFeedReader(**options) as reader:
        return await reader.read(feed or FeedRef(id=1, url=url), NOW)


@pytest.fixture
def server() -> Any:
    with FeedServer() as running:
        yield running


async def test_reads_a_feed_resolving_links_and_stripping_tracking(server: FeedServer) -> None:
    server.set("/feed.xml", RSS, headers=XML)
    result = await read(server.url("/feed.xml"))
    assert result.error is None and result.title == "Local News"
    (article,) = result.articles
    assert article.url == server.url("/news/dam?id=3")  # resolved, utm_source stripped
    assert result.next_poll_at == NOW + timedelta(minutes=10)


async def test_304_with_matching_etag_costs_no_parsing(
    server: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.set("/feed.xml", RSS, headers=XML, etag='"v1"')
    first = await read(server.url("/feed.xml"))
    assert first.etag == '"v1"' and first.articles

    def must_not_parse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a 304 must not be parsed")

    monkeypatch.setattr(reader_module, "parse_feed", must_not_parse)
    ref = FeedRef(id=1, url=server.url("/feed.xml"), etag=first.etag, last_modified="x")
    second = await read(ref.url, ref)
    assert second.not_modified and second.error is None and second.articles == ()
    assert second.etag == '"v1"'
    assert server.requests[-1].headers["if-none-match"] == '"v1"'
    assert server.requests[-1].headers["if-modified-since"] == "x"


async def test_cache_headers_stretch_the_next_poll(server: FeedServer) -> None:
    server.set("/feed.xml", RSS, headers={"Cache-Control": "public, max-age=1800"})
    result = await read(server.url("/feed.xml"))
    assert result.next_poll_at == NOW + timedelta(minutes=30)


async def test_html_page_is_a_clear_error(server: FeedServer) -> None:
    server.set("/", "<!doctype html><html><body>Welcome</body></html>", headers={})
    result = await read(server.url("/"))
    assert result.error == "not a feed: looks like an HTML page"
    assert result.articles == ()


async def test_http_500_is_an_error_with_backoff(server: FeedServer) -> None:
    server.set("/feed.xml", "oops", status=500)
    ref = FeedRef(id=1, url=server.url("/feed.xml"), error_count=2, etag='"old"')
    result = await read(ref.url, ref)
    assert result.error == "HTTP 500 from 127.0.0.1"
    assert result.next_poll_at == NOW + timedelta(minutes=40)  # third error: 10 min * 2^2
    assert result.etag == '"old"'


async def test_404_is_an_error(server: FeedServer) -> None:
    assert (await read(server.url("/missing"))).error == "HTTP 404 from 127.0.0.1"


@pytest.mark.parametrize("status", [429, 503])
async def test_retry_after_is_honoured(server: FeedServer, status: int) -> None:
    server.set("/feed.xml", "slow down", status=status, headers={"Retry-After": "7200"})
    result = await read(server.url("/feed.xml"))
    assert result.error == f"HTTP {status} from 127.0.0.1 (retry after 7200s)"
    assert result.next_poll_at == NOW + timedelta(hours=2)


async def test_body_over_the_cap_is_refused(server: FeedServer) -> None:
    server.set("/big.xml", RSS + " " * 5000)
    result = await read(server.url("/big.xml"), max_bytes=1000)
    assert result.error == "response larger than 1000 bytes"


async def test_gzip_bomb_is_stopped(server: FeedServer) -> None:
    bomb = gzip.compress(b"\0" * 50_000_000, compresslevel=9)
    server.set("/bomb.xml", bomb, headers={"Content-Encoding": "gzip", **XML})
    result = await read(server.url("/bomb.xml"))
    assert len(bomb) < 100_000
    assert result.error == "response larger than 5 MB"


async def test_gzip_bomb_decoding_stops_early() -> None:
    bomb = gzip.compress(b"\0" * 50_000_000, compresslevel=9)
    chunks = [bomb[i : i + 1024] for i in range(0, len(bomb), 1024)]
    consumed = 0

    async def raw() -> AsyncIterator[bytes]:
        nonlocal consumed
        for chunk in chunks:
            consumed += 1
            yield chunk

    with pytest.raises(FetchError, match="larger than"):
        await read_capped(raw(), "gzip", 1_000_000)
    assert consumed < len(chunks) / 10  # a tenth of the input covers 5 MB of output


async def test_gzip_encoded_feed_is_decoded(server: FeedServer) -> None:
    server.set("/feed.xml", gzip.compress(RSS.encode()), headers={"Content-Encoding": "gzip"})
    assert (await read(server.url("/feed.xml"))).title == "Local News"


async def test_redirects_are_followed_a_few_times(server: FeedServer) -> None:
    server.redirect("/old", "/older")
    server.redirect("/older", server.url("/feed.xml"))
    server.set("/feed.xml", RSS)
    assert (await read(server.url("/old"))).title == "Local News"


async def test_redirect_loop_is_an_error(server: FeedServer) -> None:
    server.redirect("/a", "/b")
    server.redirect("/b", "/a")
    result = await read(server.url("/a"), max_redirects=3)
    assert result.error == "too many redirects"
    assert server.count("/a") + server.count("/b") == 4


async def test_redirect_to_a_file_url_is_refused(server: FeedServer) -> None:
    server.redirect("/feed.xml", "file:///etc/passwd")
    result = await read(server.url("/feed.xml"))
    assert result.error == "refused: only http and https feeds are allowed (got file:)"


async def test_a_server_that_never_answers_times_out(server: FeedServer) -> None:
    server.hang("/slow")
    result = await read(server.url("/slow"), timeout=0.3)
    assert result.error == "timed out after 0.3s"


async def test_closed_port_is_a_connection_error() -> None:
    with socket.socket() as probe:  # a port nobody listens on: bind, then close
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = await read(f"http://127.0.0.1:{port}/feed.xml")
    assert result.error == "could not connect to 127.0.0.1"


@pytest.mark.parametrize(
    ("host", "message"),
    [
        ("127.0.0.1", "refused: 127.0.0.1 is a loopback address"),
        ("localhost", "refused: localhost resolves to a loopback address (127.0.0.1)"),
        ("[::ffff:127.0.0.1]", "refused: ::ffff:127.0.0.1 is a loopback address"),
    ],
)
async def test_private_addresses_are_refused(server: FeedServer, host: str, message: str) -> None:
    server.set("/feed.xml", RSS)
    result = await read(f"http://{host}:{server.port}/feed.xml", allow_private=False)
    assert result.error is not None and result.error.startswith(message.split(" (")[0])
    assert server.count("/feed.xml") == 0  # refused before connecting


async def test_a_name_with_any_private_record_is_refused(
    server: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def records(host: str, port: int, **kwargs: object) -> list[Any]:
        tcp = (socket.AF_INET, socket.SOCK_STREAM, 6, "")
        return [(*tcp, ("93.184.216.34", port)), (*tcp, ("10.1.2.3", port))]

    monkeypatch.setattr(asyncio.get_running_loop(), "getaddrinfo", records)
    result = await read(f"http://rebind.test:{server.port}/feed.xml", allow_private=False)
    assert result.error == "refused: rebind.test resolves to a private address (10.1.2.3)"


async def test_connects_to_the_address_it_resolved_and_checked(
    server: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # "feeds.test" does not exist in DNS: success proves the connection went to the vetted IP.
    async def records(host: str, port: int, **kwargs: object) -> list[Any]:
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]

    monkeypatch.setattr(asyncio.get_running_loop(), "getaddrinfo", records)
    server.set("/feed.xml", RSS)
    result = await read(f"http://feeds.test:{server.port}/feed.xml", allow_private=True)
    assert result.title == "Local News"
    assert server.requests[-1].headers["host"] == f"feeds.test:{server.port}"


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://x.example/f", "/etc/passwd", ""])
async def test_non_http_sources_are_refused(url: str) -> None:
    result = await read(url)
    assert result.error is not None and result.error.startswith("refused:")


async def test_per_host_cap_limits_concurrent_requests() -> None:
    active: dict[str, int] = {}
    peak: dict[str, int] = {}
    both_full = asyncio.Event()

    async def handler(request: httpx.Request) -> httpx.Response:
        host = request.url.host
        active[host] = active.get(host, 0) + 1
        peak[host] = max(peak.get(host, 0), active[host])
        if sum(active.values()) == 4:
            both_full.set()  # two hosts x cap 2: proves caps are per host, not global
        await both_full.wait()
        active[host] -= 1
        return httpx.Response(200, content=RSS.encode())

    urls = [f"http://{host}/f{n}" for host in ("a.test", "b.test") for n in range(5)]
    async with HttpFeedReader(per_host=2, transport=httpx.MockTransport(handler)) as reader:
        async with asyncio.timeout(5):
            results = await asyncio.gather(*(reader.read(FeedRef(1, u), NOW) for u in urls))
    assert all(r.error is None for r in results)
    assert peak == {"a.test": 2, "b.test": 2}


async def test_shared_feeds_never_raise_over_http(server: FeedServer) -> None:
    files = sorted(p for p in SHARED.glob("*/*") if p.is_file() and "LICENSE" not in p.name)
    if not files:
        pytest.skip("shared feed data absent")
    for n, path in enumerate(files):
        server.set(f"/{n}", path.read_bytes(), headers=XML)
    async with HttpFeedReader(allow_private=True) as reader:
        results = await asyncio.gather(
            *(reader.read(FeedRef(n, server.url(f"/{n}")), NOW) for n in range(len(files)))
        )
    for path, result in zip(files, results, strict=True):
        assert result.error is None or "\n" not in result.error, path
        if "hostile" in str(path) and path.suffix == ".xml":
            assert result.error is not None, path


def test_header_questions() -> None:
    headers = httpx.Headers(
        {"Cache-Control": "max-age=600", "Expires": "Thu, 01 Jan 2026 13:00:00 GMT"}
    )
    assert cache_max_age(headers) == timedelta(minutes=10)
    assert cache_max_age(httpx.Headers({"Cache-Control": "no-cache, max-age=60"})) is None
    assert expires_at(headers) == NOW + timedelta(hours=1)
    assert expires_at(httpx.Headers({"Expires": "0"})) is None
    assert retry_after(httpx.Headers({"Retry-After": "120"}), NOW) == timedelta(minutes=2)
    date = httpx.Headers({"Retry-After": "Thu, 01 Jan 2026 12:30:00 GMT"})
    assert retry_after(date, NOW) == timedelta(minutes=30)
    assert retry_after(httpx.Headers({"Retry-After": "soon"}), NOW) is None
    assert retry_after(httpx.Headers({}), NOW) is None
