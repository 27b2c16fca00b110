"""The aiohttp transport's connect-time address vetting, below the fetcher."""

from __future__ import annotations

import socket

import pytest

from bot.feeds.safety import Refused
from bot.feeds.transport import _vetted_socket_factory


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
