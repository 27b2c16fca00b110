"""What the bot refuses to fetch: non-HTTP URLs, invalid host names, non-public addresses."""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from urllib.parse import urlsplit

import idna

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
ALLOWED_SCHEMES = frozenset({"http", "https"})


class Refused(Exception):
    """A URL or address the bot will not fetch; the message is one clear line."""


class InvalidAddress(Refused):
    """A URL whose host no name lookup could ever find (too long, broken IDNA)."""


def check_url(url: str) -> None:
    """Refuse anything but an absolute http(s) URL with a valid host (no file:, ftp:, data: ...)."""
    scheme, sep, _ = url.partition(":")
    if not sep or scheme.lower() not in ALLOWED_SCHEMES:
        shown = f"{scheme.lower()}:" if sep else repr(url[:60])
        raise Refused(f"refused: only http and https feeds are allowed (got {shown})")
    try:
        parts = urlsplit(url)
        host, _ = parts.hostname, parts.port
    except ValueError as exc:
        raise InvalidAddress(f"that is not a valid address: {_lower_first(str(exc))}") from None
    if not host:
        raise Refused("refused: the URL has no host")
    check_host(host)


MAX_HOST_CHARS = 253  # DNS: a name is at most 253 characters, a label at most 63


def check_host(host: str) -> None:
    """Raise `InvalidAddress` unless `host` is an IP address or a name DNS could hold.

    Checked up front with the IDNA rules, so a 300-letter label or a broken punycode label
    ("xn--") is one clear line instead of an encoder error deep inside name resolution.
    """
    try:
        ipaddress.ip_address(host.strip("[]").split("%")[0])
        return
    except ValueError:
        pass
    if len(host) > MAX_HOST_CHARS:
        raise InvalidAddress(
            f"that is not a valid address: the host name has {len(host)} characters "
            f"(at most {MAX_HOST_CHARS})"
        )
    for label in host.rstrip(".").split("."):
        _check_label(label)


_ASCII_LABEL = re.compile(r"[A-Za-z0-9_-]{1,63}")  # "_": not DNS-proper, but seen in use


def _check_label(label: str) -> None:
    if len(label) > 63:
        raise InvalidAddress(
            "that is not a valid address: a part of the host name is longer than 63 characters"
        )
    if label.isascii() and not label.lower().startswith("xn--"):
        if not _ASCII_LABEL.fullmatch(label):
            shown = repr(label) if label else "an empty part"
            raise InvalidAddress(f"that is not a valid address: {shown} in the host name")
        return
    try:  # an internationalised label, or one in its punycode form
        idna.encode(label, uts46=True)
    except (idna.IDNAError, UnicodeError, ValueError) as exc:
        detail = str(exc)[:100] or type(exc).__name__
        raise InvalidAddress(f"that is not a valid address: {_lower_first(detail)}") from None


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def address_problem(ip: IPAddress) -> str | None:
    """Why `ip` must not be fetched from (e.g. "private"), or None if it is a public address."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1 in disguise
    checks = (
        ("loopback", ip.is_loopback),
        ("unspecified", ip.is_unspecified),
        ("link-local", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("private", ip.is_private),
        ("reserved", ip.is_reserved),
        # Catch-all for shared/CGNAT, documentation and benchmark ranges.
        ("non-public", not ip.is_global),
    )
    return next((name for name, hit in checks if hit), None)


async def resolve_public(host: str, port: int, *, allow_private: bool) -> list[str]:
    """Resolve `host` and return its addresses, refusing if ANY of them is non-public.

    Checking every address (not just the first) means a name that mixes public and
    private records cannot get a connection to the private one on a later try.
    """
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not allow_private:
        for address in addresses:
            problem = address_problem(ipaddress.ip_address(address.split("%")[0]))
            if problem and address == host.strip("[]"):
                raise Refused(f"refused: {address} is a {problem} address")
            if problem:
                raise Refused(f"refused: {host} resolves to a {problem} address ({address})")
    return addresses
