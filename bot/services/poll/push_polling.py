"""Polling beside WebSub: each read offers the feed's hub, and a pushed feed is polled slowly.

`PushAwareReader` wraps the `FeedReader` the poller (or a cluster fetch worker) uses, so the
poll path needs no change: after a successful read it tells the WebSub service which hub the
feed names, and if a hub pushes the feed now, its next poll is `safety_interval` away (the
safety net that catches what a failing hub did not push). A subscription that lapses or is
denied is not live, so the feed's next read is scheduled normally again by itself.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Protocol

from bot.core.websub import safety_poll_at
from bot.services.ports import FeedReader, FeedReadResult, FeedRef

log = logging.getLogger(__name__)


class PushedFeeds(Protocol):
    """What the reader asks of the WebSub service (`WebSubService`)."""

    async def observe(
        self, feed_id: int, hub: str | None, topic: str | None, *, modified: bool = True
    ) -> bool: ...


class PushAwareReader:
    """A `FeedReader` that offers hubs to WebSub and slows the polls of pushed feeds."""

    def __init__(self, inner: FeedReader, websub: PushedFeeds, *, safety_interval: timedelta):
        self._inner, self._websub, self._safety = inner, websub, safety_interval

    async def read(self, feed: FeedRef, now: datetime) -> FeedReadResult:
        result = await self._inner.read(feed, now)
        if result.error is not None:
            return result
        try:
            pushed = await self._websub.observe(
                feed.id, result.hub, result.topic, modified=not result.not_modified
            )
        except Exception:  # WebSub is an extra: a failure here must not fail the poll
            log.exception("feed %s: WebSub bookkeeping failed", feed.id)
            return result
        if not pushed:
            return result
        return replace(result, next_poll_at=safety_poll_at(result.next_poll_at, now, self._safety))
