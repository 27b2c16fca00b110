"""What the bot refuses to fetch or parse: non-HTTP URLs, non-public addresses, DTD tricks."""

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


class UnsafeXML(Exception):
    """XML with constructs that can expand, loop or read files (entities, external DTDs)."""


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


# XML safety. Feeds never need entity declarations or external DTDs; they are how
# billion-laughs / quadratic-blowup bombs and XXE file reads are built.
_PROLOGUE_LIMIT = 64 * 1024
# The one external DTD still seen in the wild: feedparser strips it unread.
_NETSCAPE_RSS = "-//netscape communications//dtd rss 0.91//en"


def decoded_prefix(body: bytes, limit: int = _PROLOGUE_LIMIT) -> str:
    """The start of `body` as text, decoded just well enough to read markup.

    UTF-16/32 are recognised by BOM or by the NUL pattern of "<"; everything else is read
    as Latin-1, which keeps every ASCII markup character in place whatever the charset.
    """
    head = body[: limit * 4]
    for marks, codec in (
        ((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff", b"<\x00\x00\x00", b"\x00\x00\x00<"), "utf-32"),
        ((b"\xff\xfe", b"\xfe\xff"), "utf-16"),
        ((b"<\x00", b"\x00<"), "utf-16"),
    ):
        if head.startswith(marks):
            codec = _sized_codec(head, codec)
            return head.decode(codec, errors="replace")[:limit]
    return head[:limit].decode("latin-1")


def _sized_codec(head: bytes, codec: str) -> str:
    """Pick the byte order of a BOM-less UTF-16/32 from where the NUL bytes sit."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")):
        return codec  # the BOM tells the decoder
    little = head[:1] == b"<"
    return f"{codec}-{'le' if little else 'be'}"


def check_xml(body: bytes) -> None:
    """Raise `UnsafeXML` if the document declares entities or references an external DTD."""
    found = _find_doctype(decoded_prefix(body))
    if found is None:
        return
    doctype, complete = found
    if "<!ENTITY" in doctype.upper():
        raise UnsafeXML("unsafe XML: entity declarations are not allowed")
    outer = doctype.split("[", 1)[0]
    if re.search(r"\b(SYSTEM|PUBLIC)\b", outer, re.IGNORECASE) and _NETSCAPE_RSS not in (
        outer.lower()
    ):
        raise UnsafeXML("unsafe XML: external DTD references are not allowed")
    if not complete:
        raise UnsafeXML("unsafe XML: DOCTYPE declaration too long")


def _find_doctype(text: str) -> tuple[str, bool] | None:
    """The prologue's DOCTYPE declaration and whether it ends within `text`, or None.

    Skips the XML declaration, processing instructions and comments; the first other
    markup is the DOCTYPE or the root element (after which a DOCTYPE is not one).
    """
    pos = 0
    while (lt := text.find("<", pos)) >= 0:
        if text.startswith("<?", lt):
            pos = _end_of(text, "?>", lt + 2)
        elif text.startswith("<!--", lt):
            pos = _end_of(text, "-->", lt + 4)
        elif text[lt : lt + 9].upper() == "<!DOCTYPE":
            return _doctype_at(text, lt)
        else:
            return None
    return None


def _end_of(text: str, marker: str, start: int) -> int:
    end = text.find(marker, start)
    return len(text) if end < 0 else end + len(marker)


def _doctype_at(text: str, start: int) -> tuple[str, bool]:
    gt = text.find(">", start)
    bracket = text.find("[", start)
    if bracket >= 0 and (gt < 0 or bracket < gt):
        # An internal subset holds its own ">"s: the declaration ends at "]" then ">".
        close = text.find("]", bracket)
        gt = text.find(">", close) if close >= 0 else -1
    if gt < 0:
        return text[start:], False
    return text[start : gt + 1], True
