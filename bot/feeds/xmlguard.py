"""XML safety: a document's prologue read by a real XML parser (expat through defusedxml).

Feeds never need entity declarations or external DTDs; they are how billion-laughs and
quadratic-blowup bombs and XXE file reads are built. A hand-written scan of the DOCTYPE can
be fooled (a "]>" hidden in a comment inside the internal subset ends it early), so the
prologue is parsed by expat with defusedxml's handlers, which refuse every entity
declaration and external reference wherever the parser finds it, and our own DOCTYPE
handler refuses external DTDs. Parsing stops at the root element: a DTD cannot come later.
"""

from __future__ import annotations

import re
import xml.parsers.expat
import xml.sax
from collections.abc import Iterator
from typing import Any

from defusedxml import DefusedXmlException
from defusedxml.expatreader import DefusedExpatParser

# The one external DTD still seen in the wild: feedparser strips it unread.
_NETSCAPE_RSS = "-//netscape communications//dtd rss 0.91//en"
_CHUNK = 64 * 1024
_PROLOGUE_LIMIT = 1_000_000  # characters of prologue read at most (a DTD has no business
#                              being this long; the root element normally starts in the
#                              first kilobyte)
_ENTITY = re.compile(r"<!entity", re.IGNORECASE)
_DOCTYPE = re.compile(r"<!doctype[^>\[]*\[?", re.IGNORECASE)


class UnsafeXML(Exception):
    """XML with constructs that can expand, loop or read files (entities, external DTDs)."""


def decoded_prefix(body: bytes, limit: int = _CHUNK) -> str:
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


class _RootReached(Exception):
    """The prologue is over: nothing after the root's start tag can declare anything."""


class _PrologueHandler(xml.sax.handler.ContentHandler):
    def startElement(self, name: str, attrs: Any) -> None:
        raise _RootReached


class _PrologueParser(DefusedExpatParser):  # type: ignore[misc]
    """defusedxml's expat reader (no entities, no external references) that also refuses
    an external DTD, except the Netscape RSS 0.91 one."""

    def __init__(self) -> None:
        super().__init__(forbid_dtd=False, forbid_entities=True, forbid_external=True)
        self.doctype_open = False
        self.setContentHandler(_PrologueHandler())

    def reset(self) -> None:
        super().reset()
        self._parser.StartDoctypeDeclHandler = self._doctype
        self._parser.EndDoctypeDeclHandler = self._doctype_end

    def _doctype(self, name: str, sysid: str | None, pubid: str | None, internal: int) -> None:
        self.doctype_open = True
        if (sysid or pubid) and (pubid or "").lower() != _NETSCAPE_RSS:
            raise UnsafeXML("unsafe XML: external DTD references are not allowed")

    def _doctype_end(self) -> None:
        self.doctype_open = False

    def defused_external_entity_ref_handler(
        self, context: str | None, base: str | None, sysid: str | None, pubid: str | None
    ) -> int:
        if context is None and (pubid or "").lower() == _NETSCAPE_RSS:
            return 1  # the Netscape DTD itself: skipped unread
        raise UnsafeXML("unsafe XML: external DTD references are not allowed")


def check_xml(body: bytes) -> None:
    """Raise `UnsafeXML` if the document declares entities or references an external DTD."""
    parser = _PrologueParser()
    try:
        for text in _prologue_chunks(body):
            parser.feed(text)
    except _RootReached:
        return
    except UnsafeXML:
        raise
    except DefusedXmlException:
        raise UnsafeXML("unsafe XML: entity declarations are not allowed") from None
    except (xml.sax.SAXException, xml.parsers.expat.ExpatError):
        _check_unreadable(decoded_prefix(body, _PROLOGUE_LIMIT))
        return
    if parser.doctype_open:
        raise UnsafeXML("unsafe XML: DOCTYPE declaration too long")
    if len(decoded_prefix(body, _PROLOGUE_LIMIT + 1)) > _PROLOGUE_LIMIT:
        raise UnsafeXML("unsafe XML: no root element in the first 1 MB")


def _check_unreadable(text: str) -> None:
    """A prologue expat cannot read (feedparser's lenient parser still will): refuse any
    entity declaration, internal subset or external DTD in it rather than trust it. What is
    left passes: a bare `<!doctype html>` (HTML pages are told apart later)."""
    if _ENTITY.search(text):
        raise UnsafeXML("unsafe XML: entity declarations are not allowed")
    doctype = _DOCTYPE.search(text)
    if doctype is None:
        return
    if "[" in doctype.group(0):
        raise UnsafeXML("unsafe XML: a DOCTYPE the XML parser cannot read")
    external = re.search(r"\b(?:SYSTEM|PUBLIC)\b", doctype.group(0), re.IGNORECASE)
    if external and _NETSCAPE_RSS not in doctype.group(0).lower():
        raise UnsafeXML("unsafe XML: external DTD references are not allowed")


def _prologue_chunks(body: bytes) -> Iterator[str]:
    """The document as text, chunk by chunk, up to `_PROLOGUE_LIMIT` characters; leading
    whitespace and byte order marks removed (expat wants the XML declaration first).
    Only the first chunk is decoded unless the prologue goes on past it."""
    first = decoded_prefix(body, _CHUNK)
    start = 3 if first.startswith("\xef\xbb\xbf") else 0  # a UTF-8 BOM read as Latin-1
    yield first[start:].lstrip("\ufeff \t\r\n")
    if len(first) == _CHUNK:
        rest = decoded_prefix(body, _PROLOGUE_LIMIT)[_CHUNK:]
        for at in range(0, len(rest), _CHUNK):
            yield rest[at : at + _CHUNK]
