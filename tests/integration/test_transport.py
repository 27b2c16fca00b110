"""Below the reader: connect-time address vetting, and when a fetch's deadline starts."""

from __future__ import annotations

import asyncio
import socket
from datetime import UTC, datetime

import pytest
from feedserver import FeedServer
from support import rss

from bot.feeds.reader import HttpFeedReader
from bot.feeds.safety import Refused
from bot.feeds.transport import _vetted_socket_factory
from bot.services.ports import FeedRef

NOW = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize("address", ["127.0.0.1", "10.0.0.7", "169.254.169.254", "::1"])
def test_no_socket_is_opened_towards_a_non_public_address(address: str) -> None:
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    make = _vetted_socket_factory(allow_private=False)
    with pytest.raises(Refused, match=f"refused: {address} is a"):
        make((family, socket.SOCK_STREAM, 6, "", (address, 80)))


def test_private_addresses_get_a_socket_when_allowed() -> None:
    make = _vetted_socket_factory(allow_private=True)
    with make((socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", 80))) as sock:
        assert sock.family == socket.AF_INET and not sock.getblocking()


async def test_the_deadline_starts_when_a_request_may_connect_not_when_it_was_queued() -> None:
    # One connection for everything: the second request waits while the first one hangs
    # until its own timeout; it must then still get its full deadline, and succeed.
    with FeedServer() as server:
        server.hang("/slow.xml")
        server.set("/fast.xml", rss("Fast", []))
        async with HttpFeedReader(allow_private=True, timeout=0.5, max_connections=1) as reader:
            slow, fast = await asyncio.gather(
                reader.read(FeedRef(1, server.url("/slow.xml")), NOW),
                reader.read(FeedRef(2, server.url("/fast.xml")), NOW),
            )
    assert slow.error == "timed out after 0.5s"
    assert fast.error is None and fast.title == "Fast"
