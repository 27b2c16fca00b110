"""Host names no lookup could find get one clear line: from /addfeed and from check-feed."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from feedserver import FeedServer
from world import World, ask

from bot.feeds.safety import check_url
from bot.tools.check_feed import main

BAD = [
    ("http://" + "a" * 300 + ".com/", "the host name has 304 characters (at most 253)"),
    ("http://" + "a" * 64 + ".com/", "a part of the host name is longer than 63 characters"),
    ("http://xn--.com/", "malformed A-label, no Punycode eligible content found"),
    ("http://xn--zz.com/", "invalid A-label"),
    ("http://news..example/", "an empty part in the host name"),
]


@pytest.fixture
async def world(database_url: str) -> AsyncIterator[World]:
    with FeedServer() as server:
        w = World(server, database_url)
        await w.start()
        yield w
        await w.stop()


@pytest.mark.parametrize(("url", "reason"), BAD)
async def test_addfeed_says_the_address_is_not_valid(world: World, url: str, reason: str) -> None:
    assert world.app is not None
    before = await ask(world.app, "/feeds")
    reply = await ask(world.app, f"/addfeed {url}")
    assert reply == f"Could not add that feed: that is not a valid address: {reason}"
    assert await ask(world.app, "/feeds") == before  # nothing stored


@pytest.mark.parametrize(("url", "reason"), BAD)
def test_check_feed_says_the_address_is_not_valid(
    url: str, reason: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([url]) == 1
    out, err = capsys.readouterr()
    assert out == "" and err == f"error: that is not a valid address: {reason}\n"


@pytest.mark.parametrize(
    "url", ["http://bücher.example/feed", "http://xn--bcher-kva.example/", "http://a_b.example/"]
)
def test_international_and_underscore_names_are_valid(url: str) -> None:
    check_url(url)  # raises for an invalid address
