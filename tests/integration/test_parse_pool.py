"""Feeds parsed in worker processes give the same articles as in-process parsing."""

from __future__ import annotations

import asyncio
import os
import signal
from datetime import UTC, datetime, timedelta

from feedserver import FeedServer
from support import Item, rss

from bot.feeds.parser import FeedError, parse_feed
from bot.feeds.parsing import ParsePool, ParseRequest
from bot.feeds.reader import HttpFeedReader
from bot.services.ports import FeedRef

NOW = datetime(2026, 1, 1, 12, tzinfo=UTC)


def feed(n: int) -> bytes:
    items = [
        Item(f"Report {n}.{k}", f"Text {n} {k}", f"https://n{n}.example/{k}", f"{n}-{k}",
             NOW - timedelta(hours=k))
        for k in range(3)
    ]  # fmt: skip
    return rss(f"Outlet {n}", items)


def request(n: int, body: bytes | None = None) -> ParseRequest:
    return ParseRequest(body if body is not None else feed(n), f"https://n{n}.example/f", n, NOW)


async def test_many_feeds_parsed_in_a_worker_equal_parsing_in_process() -> None:
    pool = ParsePool(1)
    try:
        results = await asyncio.gather(*(pool.parse(request(n)) for n in range(40)))
    finally:
        pool.close()
    for n, parsed in enumerate(results):
        expected = parse_feed(feed(n), feed_url=f"https://n{n}.example/f", feed_id=n, now=NOW)
        assert parsed == expected


async def test_a_bad_document_is_its_own_feed_error_and_others_still_parse() -> None:
    pool = ParsePool(1)
    try:
        good, bad = await asyncio.gather(
            pool.parse(request(1)), pool.parse(request(2, b"<html><body>hi</body></html>")),
            return_exceptions=True,
        )  # fmt: skip
    finally:
        pool.close()
    assert not isinstance(good, BaseException) and good.title == "Outlet 1"
    assert isinstance(bad, FeedError) and str(bad) == "not a feed: looks like an HTML page"


async def test_a_killed_worker_fails_its_feeds_once_then_parsing_goes_on() -> None:
    pool = ParsePool(1)
    try:
        await pool.parse(request(1))
        (pid,) = pool.processes
        os.kill(pid, signal.SIGKILL)
        try:
            await pool.parse(request(2))
        except FeedError as exc:  # the job that met the dead worker
            assert str(exc) == "unexpected error: the parser process died"
        assert (await pool.parse(request(3))).title == "Outlet 3"
        assert pid not in pool.processes
    finally:
        pool.close()


async def test_the_reader_parses_in_the_pool_over_http() -> None:
    with FeedServer() as server:
        server.set("/f.xml", feed(5))
        reader = HttpFeedReader(allow_private=True, parse_pool=ParsePool(1))
        try:
            result = await reader.read(FeedRef(5, server.url("/f.xml")), NOW)
            assert reader.parser_processes
        finally:
            await reader.aclose()
    assert result.error is None and result.title == "Outlet 5"
    assert [a.title for a in result.articles] == ["Report 5.0", "Report 5.1", "Report 5.2"]
