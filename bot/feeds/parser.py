"""Feed bytes → `Article`s: safety checks first, then feedparser, then cleaning and identity.

Rule order: empty body → unsafe XML (entities, external DTDs) → HTML page → feedparser →
malformed with nothing recovered → entries (deduplicated by id, first wins).
"""

from __future__ import annotations

import calendar
import hashlib
import io
import re
import time
import xml.sax
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import feedparser

from bot.core.furniture import is_boilerplate
from bot.core.models import Article
from bot.core.plaintext import normalise_space, plain_text
from bot.core.urls import canonical_url
from bot.feeds.itemcap import cut_items
from bot.feeds.xmlguard import UnsafeXML, check_xml, decoded_prefix

MAX_TEXT_CHARS = 20_000  # a full-content feed can carry a book per item; matching needs far less
_HTML_PAGE = re.compile(
    r"\A(?:\ufeff|\xef\xbb\xbf)?\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html\b)",
    re.IGNORECASE | re.DOTALL,
)


class FeedError(Exception):
    """The document is not a usable feed; the message is one clear line for the user."""


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    """A parsed feed: its title, its articles (newest first as published) and its <ttl>."""

    title: str | None
    articles: tuple[Article, ...]
    ttl_minutes: int | None = None
    hub: str | None = None  # WebSub: <link rel="hub"> (Atom, or atom:link in RSS)
    self_url: str | None = None  # WebSub: <link rel="self">, the topic to subscribe to


def parse_feed(
    body: bytes,
    *,
    feed_url: str,
    feed_id: int,
    now: datetime,
    content_type: str | None = None,
    max_items: int | None = None,
) -> ParsedFeed:
    """Parse one feed document; raises `FeedError` (only) for anything unusable.

    With `max_items`, at most that many articles come back: the newest (see `itemcap`)."""
    _refuse_non_feeds(body)
    if max_items is not None:
        body = cut_items(body, max_items)
    parsed = _run_feedparser(body, feed_url, content_type)
    feed: Mapping[str, Any] = parsed.get("feed", {})
    entries: list[Mapping[str, Any]] = list(parsed.get("entries", []))
    if not entries:
        _check_empty(parsed, content_type)
    title = plain_text(str(feed.get("title") or "")) or None
    source = title or (urlsplit(feed_url).hostname or feed_url)
    articles = _unique(to_article(e, feed_url, feed_id, source, now) for e in entries)
    if max_items is not None and len(articles) > max_items:
        articles = sorted(articles, key=lambda a: a.published, reverse=True)[:max_items]
    return ParsedFeed(title, tuple(articles), _ttl(feed), *_websub_links(feed))


def _refuse_non_feeds(body: bytes) -> None:
    """Nothing, gzip, unsafe XML and HTML pages never reach feedparser: one clear line each."""
    if not body.strip():
        raise FeedError("not a feed: the response is empty")
    if body.startswith(b"\x1f\x8b"):
        raise FeedError("not a feed: gzip-compressed data")
    try:
        check_xml(body)
    except UnsafeXML as exc:
        raise FeedError(str(exc)) from None
    if _HTML_PAGE.match(decoded_prefix(body, 4096)):
        raise FeedError("not a feed: looks like an HTML page")


def _run_feedparser(body: bytes, feed_url: str, content_type: str | None) -> Any:
    try:
        return _feedparser(body, feed_url, content_type)
    except Exception as exc:  # third-party code on hostile input: still one clear line
        raise FeedError(f"not a feed: the feed parser failed ({type(exc).__name__})") from exc


def _feedparser(body: bytes, feed_url: str, content_type: str | None) -> Any:
    # A stream, never bytes or str: feedparser treats a str as a URL to fetch, and
    # tries bytes as a local file name before parsing them as a document.
    # Without a content type feedparser flags every document as suspect; XML is the default.
    headers = {"content-location": feed_url, "content-type": content_type or "application/xml"}
    return feedparser.parse(
        io.BytesIO(body),
        response_headers=headers,
        sanitize_html=False,  # we strip all markup ourselves
        resolve_relative_uris=False,  # only affects HTML content, which we reduce to text
    )


def _check_empty(parsed: Mapping[str, Any], content_type: str | None) -> None:
    """A feed with no entries is fine if well formed; broken or unrecognised, it is an error."""
    exc = parsed.get("bozo_exception")
    if parsed.get("bozo") and isinstance(exc, xml.sax.SAXException):
        detail = normalise_space(str(exc))[:120]
        raise FeedError(f"not a feed: malformed XML with no readable items ({detail})")
    if not parsed.get("version") and (content_type or "").lower().startswith("text/html"):
        raise FeedError("not a feed: looks like an HTML page")
    if not parsed.get("version"):
        raise FeedError("not a feed: no RSS, Atom or RDF document found")


def _ttl(feed: Mapping[str, Any]) -> int | None:
    try:
        ttl = int(str(feed.get("ttl", "")).strip())
    except ValueError:
        return None
    return ttl if ttl > 0 else None


def _websub_links(feed: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """The feed's first rel="hub" and rel="self" links (http/https only)."""
    found: dict[str, str] = {}
    for link in feed.get("links") or ():
        rel, href = str(link.get("rel") or ""), str(link.get("href") or "").strip()
        if rel in ("hub", "self") and _is_web_url(href):
            found.setdefault(rel, href)
    return found.get("hub"), found.get("self")


def _unique(articles: Iterator[Article | None]) -> list[Article]:
    """Drop empty entries and repeated ids (some feeds list an item twice); first one wins."""
    seen: dict[str, Article] = {}
    for article in articles:
        if article is not None and article.id not in seen:
            seen[article.id] = article
    return list(seen.values())


def to_article(
    entry: Mapping[str, Any], feed_url: str, feed_id: int, source: str, now: datetime
) -> Article | None:
    """One feedparser entry as an `Article`, or None if it has no title, text or link."""
    title = plain_text(str(entry.get("title") or ""))
    text = _without_boilerplate(plain_text(_entry_html(entry), paragraphs=True))[:MAX_TEXT_CHARS]
    link = _entry_link(entry, feed_url)
    guid = normalise_space(str(entry.get("id") or ""))
    if not (title or text or link):
        return None
    return Article(
        id=article_id(guid=guid, url=link, title=title, text=text, feed_url=feed_url),
        feed_id=feed_id,
        url=link or _guid_as_url(guid),
        title=title or text[:120],
        text=text,
        published=_published(entry, now),
        source=source,
    )


def _entry_html(entry: Mapping[str, Any]) -> str:
    """The fullest text an entry carries: content, else summary/description."""
    for content in entry.get("content") or ():
        value = content.get("value") if isinstance(content, Mapping) else None
        if value:
            return str(value)
    return str(entry.get("summary") or "")


def _entry_link(entry: Mapping[str, Any], feed_url: str) -> str:
    raw = str(entry.get("link") or "").strip()
    return canonical_url(raw, base=feed_url) if raw else ""


def _guid_as_url(guid: str) -> str:
    return canonical_url(guid) if _is_web_url(guid) else ""


def _published(entry: Mapping[str, Any], now: datetime) -> datetime:
    """Published, else updated, else the fetch time; feedparser's struct_time is UTC."""
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        # Plain dict lookup: FeedParserDict would silently (and noisily) alias keys.
        value = dict.get(entry, key) if isinstance(entry, dict) else entry.get(key)
        if isinstance(value, time.struct_time):
            try:
                return datetime.fromtimestamp(calendar.timegm(value), UTC)
            except (OverflowError, ValueError, OSError):
                continue
    return now.astimezone(UTC)


def _is_web_url(value: str) -> bool:
    return value.lower().startswith(("http://", "https://"))


def article_id(*, guid: str, url: str, title: str, text: str, feed_url: str) -> str:
    """The identity of an item, stable when its title is edited or its pubDate changes.

    Rule, in order:
    1. A GUID that is a web URL → its canonical form, as a URL ("u:"). The same story is
       often syndicated through several feeds with the same permalink GUID; treating it as
       that URL makes it one article, and matches feeds that give only a <link>.
    2. Any other GUID → "g:", scoped by the canonical feed URL, because opaque GUIDs
       ("1234", "post-17") are only unique within their own feed.
    3. No GUID → the canonical link ("u:").
    4. Neither → a hash of normalised title and text ("h:"): the last resort, and the only
       rule under which an edit makes a new article (there is nothing else to go by).
    The key is hashed (SHA-256, 128 bits kept) so ids have a bounded length.
    """
    if guid and _is_web_url(guid):
        return "u:" + _digest(canonical_url(guid))
    if guid:
        return "g:" + _digest(canonical_url(feed_url) + "\n" + guid)
    if url:
        return "u:" + _digest(url)
    return "h:" + _digest(normalise_space(title).lower() + "\n" + normalise_space(text).lower())


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _without_boilerplate(text: str) -> str:
    """Paragraphs minus "Subscribe to…", "Accessibility links", image captions and the like,
    so they neither match watch rules nor show up in alert snippets."""
    return "\n".join(line for line in text.splitlines() if not is_boilerplate(line))
