"""OPML in and out, for the chat-facing /import and /export and the `storywatch opml` tool.

Reading: the XML prologue is vetted by bot.feeds.xmlguard first (entity declarations and
external DTDs are refused wherever they hide: billion laughs, quadratic blow-up, XXE), then
listparser, a maintained subscription-list parser, reads the outlines. Only bytes are ever
given to listparser: a str starting with "http" would make it fetch that URL itself.
Writing: xml.etree builds the document, so every title and URL is escaped by the library.
"""

from __future__ import annotations

import asyncio
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from datetime import datetime
from email.utils import format_datetime

import listparser

from bot.feeds.xmlguard import UnsafeXML, check_xml
from bot.services.chat.opml_import import OpmlError, OpmlFeed

TITLE = "storywatch feeds"


class ListparserOpml:
    """The OpmlCodec port on listparser and ElementTree."""

    async def read(self, data: bytes) -> list[OpmlFeed]:
        # Parsing a 1 MB list takes a noticeable moment: off the event loop.
        return await asyncio.to_thread(read_opml, data)

    def write(self, feeds: Sequence[OpmlFeed], now: datetime) -> bytes:
        return write_opml(feeds, now)


def read_opml(data: bytes) -> list[OpmlFeed]:
    """The feed outlines of an OPML document, in order; OpmlError for a file to refuse."""
    try:
        check_xml(data)
    except UnsafeXML as exc:
        raise OpmlError(f"That file is not safe to read ({exc}).") from None
    try:
        data.decode("utf-8")  # listparser decodes as UTF-8 and would raise on anything else
    except UnicodeDecodeError:
        raise OpmlError("That file is not UTF-8 text, so it is not an OPML file.") from None
    parsed = listparser.parse(data)
    if not str(parsed.get("version", "")).startswith("opml"):
        raise OpmlError("That file is not an OPML subscription list.")
    return [
        OpmlFeed(str(feed["url"]), " ".join(str(feed.get("title", "")).split()))
        for feed in parsed["feeds"]
        if str(feed.get("url", "")).strip()
    ]


def write_opml(feeds: Sequence[OpmlFeed], now: datetime) -> bytes:
    """An OPML 2.0 document listing `feeds`."""
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = TITLE
    ET.SubElement(head, "dateCreated").text = format_datetime(now)
    body = ET.SubElement(root, "body")
    for feed in feeds:
        title = feed.title or feed.url
        ET.SubElement(body, "outline", type="rss", text=title, title=title, xmlUrl=feed.url)
    ET.indent(root)
    return bytes(ET.tostring(root, encoding="utf-8", xml_declaration=True)) + b"\n"
