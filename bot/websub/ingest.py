"""Pushed feed bodies through the polling path: size cap, XML safety, parser, item cap, sink."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence

from bot.core.models import Article
from bot.feeds.parser import FeedError, parse_feed
from bot.feeds.reader import DEFAULT_MAX_ITEMS
from bot.services.ports import Clock

log = logging.getLogger(__name__)

# Where parsed articles go: `Poller.save_pushed` (the embedded `all` mode: stories, matches
# and outbox in one transaction) or `WebSubStore.queue_pushed` (a cluster: the story
# stage's inbox, as a fetch worker would queue them). Returns the new articles taken.
ArticleSink = Callable[[Sequence[Article]], Awaitable[int]]


class PushIngest:
    """A `PushSink`: parses a pushed body exactly as a polled one (`parse_feed`, whose first
    rule is the XML safety check) and hands the articles to `sink`, where the same dedup as
    polling (stored or queued already, by id or url) applies."""

    def __init__(
        self,
        sink: ArticleSink,
        clock: Clock,
        *,
        max_bytes: int = 5_000_000,
        max_items: int | None = DEFAULT_MAX_ITEMS,
    ) -> None:
        self._sink, self._clock = sink, clock
        self._max_bytes, self._max_items = max_bytes, max_items

    async def __call__(
        self, feed_id: int, feed_url: str, body: bytes, content_type: str | None
    ) -> int | None:
        """New articles taken, or None when the body is no usable feed (dropped)."""
        if len(body) > self._max_bytes:
            log.warning("feed %s: pushed body over the size limit, dropped", feed_id)
            return None
        try:
            parsed = await asyncio.to_thread(
                parse_feed,
                body,
                feed_url=feed_url,
                feed_id=feed_id,
                now=self._clock.now(),
                content_type=content_type,
                max_items=self._max_items,
            )
        except FeedError as exc:
            log.warning("feed %s: pushed body dropped: %s", feed_id, exc)
            return None
        return await self._sink(parsed.articles)
