"""`FeedReader` over HTTP: conditional fetch → parse → result with the next poll time."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any, Unpack

from bot.core.cadence import DEFAULT_INTERVAL, Hints, next_poll_at
from bot.core.models import Article
from bot.core.pace_state import PaceState, observe
from bot.core.pacing import Pacer
from bot.feeds.fetcher import (
    Fetcher,
    FetchError,
    FetchOptions,
    FetchResult,
    cache_max_age,
    expires_at,
    gunzip_capped,
    size_label,
)
from bot.feeds.links import websub_links
from bot.feeds.parser import FeedError, ParsedFeed, parse_feed
from bot.feeds.parsing import ParsePool, ParseRequest
from bot.services.ports import FeedReadResult, FeedRef

log = logging.getLogger(__name__)

# Items read per feed: the newest this many. Real feeds list 10-100; a feed listing 100,000
# would otherwise cost seconds of parsing and hundreds of MB for items nobody is alerted about.
DEFAULT_MAX_ITEMS = 500


class HttpFeedReader:
    """Reads feeds over HTTP with every safety rule; `read` never raises for feed problems."""

    def __init__(
        self,
        *,
        interval: timedelta = DEFAULT_INTERVAL,
        max_items: int | None = DEFAULT_MAX_ITEMS,
        parse_pool: ParsePool | None = None,
        pacer: Pacer | None = None,
        **fetch: Unpack[FetchOptions],
    ) -> None:
        """`fetch`: the fetcher's options (address vetting, timeouts, sizes, concurrency)."""
        self._interval, self._pacer = interval, pacer
        self._max_items, self._pool = max_items, parse_pool
        self._fetcher = Fetcher(**fetch)

    async def __aenter__(self) -> HttpFeedReader:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    @property
    def parser_processes(self) -> list[int]:
        """Process ids of the parse workers (a benchmark counts their CPU as the bot's)."""
        return self._pool.processes if self._pool is not None else []

    async def aclose(self) -> None:
        """Close connections and the parse pool (the reader owns the pool it was given)."""
        await self._fetcher.aclose()
        if self._pool is not None:
            await asyncio.to_thread(self._pool.close)

    async def read(self, feed: FeedRef, now: datetime) -> FeedReadResult:
        """Fetch (conditionally) and parse one feed; failures come back as `error`."""
        try:
            fetched = await self._fetcher.fetch(
                feed.url, now=now, etag=feed.etag, last_modified=feed.last_modified
            )
            if fetched.not_modified:
                return self._success(feed, now, fetched, None)
            parsed = await self._parse(fetched, feed, now)
        except FetchError as exc:
            return self._failure(feed, now, str(exc), exc.retry_after)
        except FeedError as exc:
            return self._failure(feed, now, str(exc), None)
        except Exception as exc:  # a bug must not stop the other feeds' polls
            log.exception("unexpected error reading feed %s", feed.url)
            return self._failure(feed, now, f"unexpected error: {type(exc).__name__}", None)
        return with_websub(self._success(feed, now, fetched, parsed), fetched, parsed)

    async def _parse(self, fetched: FetchResult, feed: FeedRef, now: datetime) -> ParsedFeed:
        """In the worker processes when there are some, else in a thread."""
        if self._pool is None:
            return await parse_in_thread(
                fetched.body, feed.url, feed.id, now, fetched, max_items=self._max_items
            )
        request = ParseRequest(
            fetched.body,
            fetched.url,
            feed.id,
            now,
            fetched.headers.get("content-type"),
            self._max_items,
        )
        return await self._pool.parse(request)

    def _success(
        self, feed: FeedRef, now: datetime, fetched: FetchResult, parsed: ParsedFeed | None
    ) -> FeedReadResult:
        asked = Hints(
            ttl_minutes=parsed.ttl_minutes if parsed else None,
            cache_max_age=cache_max_age(fetched.headers),
            expires=expires_at(fetched.headers),
        )
        interval, pace = self._paced(feed, now, parsed, asked)
        when = next_poll_at(now, interval=interval, **asked)
        return FeedReadResult(
            feed_id=feed.id,
            next_poll_at=when,
            articles=parsed.articles if parsed else (),
            title=parsed.title if parsed else None,
            # A 304 may omit validators; keep the ones that still match then.
            etag=fetched.headers.get("etag") or feed.etag,
            last_modified=fetched.headers.get("last-modified") or feed.last_modified,
            not_modified=parsed is None,
            pace=pace,
        )

    def _paced(
        self, feed: FeedRef, now: datetime, parsed: ParsedFeed | None, asked: Hints
    ) -> tuple[timedelta, str | None]:
        """The interval before publisher hints, and the feed's new rate state (none unpaced),
        which keeps the interval the publisher asks for (the pacer's budget counts it)."""
        if self._pacer is None:
            return self._interval, None
        items = [(a.id, a.published) for a in parsed.articles] if parsed else []
        hint = next_poll_at(now, interval=timedelta(0), **asked) - now
        state = observe(PaceState.from_json(feed.pace), items, now)
        state = replace(state, hint=hint.total_seconds())
        return self._pacer.interval(state, now), state.to_json()

    def _failure(
        self, feed: FeedRef, now: datetime, error: str, wait: timedelta | None
    ) -> FeedReadResult:
        errors = feed.error_count + 1
        when = next_poll_at(now, interval=self._interval, retry_after=wait, error_count=errors)
        return FeedReadResult(
            feed_id=feed.id,
            next_poll_at=when,
            etag=feed.etag,
            last_modified=feed.last_modified,
            error=error,
        )


def with_websub(result: FeedReadResult, fetched: FetchResult, parsed: ParsedFeed) -> FeedReadResult:
    """`result` with the hub and topic the response names (WebSub discovery)."""
    hub, topic = websub_links(fetched.headers, fetched.url, parsed.hub, parsed.self_url)
    return replace(result, hub=hub, topic=topic) if hub else result


async def parse_in_thread(
    body: bytes,
    feed_url: str,
    feed_id: int,
    now: datetime,
    fetched: FetchResult | None = None,
    *,
    max_items: int | None = DEFAULT_MAX_ITEMS,
) -> ParsedFeed:
    """Parse off the event loop: a 5 MB feed takes feedparser most of a second."""
    content_type = fetched.headers.get("content-type") if fetched else None
    url = fetched.url if fetched else feed_url  # relative links resolve against the final URL
    return await asyncio.to_thread(
        parse_feed,
        body,
        feed_url=url,
        feed_id=feed_id,
        now=now,
        content_type=content_type,
        max_items=max_items,
    )


@dataclass(frozen=True, slots=True)
class CheckResult:
    """One feed checked once (CLI `check-feed`, chat `/addfeed`)."""

    source: str
    title: str | None = None
    articles: tuple[Article, ...] = ()
    error: str | None = None


async def check_feed(
    source: str,
    *,
    allow_private: bool,
    now: datetime,
    allow_files: bool = False,
    fetch_timeout: float = 10.0,
    max_bytes: int = 5_000_000,
    transport: Any = None,
    max_items: int | None = DEFAULT_MAX_ITEMS,
) -> CheckResult:
    """Fetch and parse `source` once with every safety rule; never raises for feed problems.

    `allow_files` lets an operator check a local file; chat commands must leave it False,
    or a user could make the bot read files from its own disk.
    """
    try:
        if allow_files and "://" not in source:
            parsed = await _parse_file(Path(source), now, max_bytes, max_items)
        else:
            fetch = FetchOptions(allow_private=allow_private, timeout=fetch_timeout)
            return await _check_url(
                source, now, max_items, fetch | {"max_bytes": max_bytes, "transport": transport}
            )
    except (FeedError, FetchError, OSError) as exc:
        return CheckResult(source, error=_file_error(exc))
    return CheckResult(source, parsed.title, parsed.articles)


async def _check_url(
    source: str, now: datetime, max_items: int | None, fetch: FetchOptions
) -> CheckResult:
    async with HttpFeedReader(max_items=max_items, **fetch) as reader:
        result = await reader.read(FeedRef(id=0, url=source), now)
    return CheckResult(source, result.title, result.articles, result.error)


async def _parse_file(
    path: Path, now: datetime, max_bytes: int, max_items: int | None
) -> ParsedFeed:
    raw, uri = await asyncio.to_thread(_read_file, path, max_bytes)
    return await parse_in_thread(raw, uri, 0, now, max_items=max_items)


def _read_file(path: Path, max_bytes: int) -> tuple[bytes, str]:
    """The file's bytes (gunzipped if compressed, within the same cap) and its file: URI."""
    with path.open("rb") as handle:
        raw = handle.read(max_bytes + 1)
    if raw.startswith(b"\x1f\x8b"):
        raw = gunzip_capped(raw, max_bytes)
    if len(raw) > max_bytes:
        raise FeedError(f"file larger than {size_label(max_bytes)}")
    return raw, path.resolve().as_uri()


def _file_error(exc: Exception) -> str:
    if isinstance(exc, OSError):
        return f"cannot read {exc.filename}: {exc.strerror or exc}"
    return str(exc)
