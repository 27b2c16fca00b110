"""WebSub push, in the processes that take part (only when public_base_url is set): the
service over its store and hub client, the reader that offers hubs and slows pushed feeds'
polls, and the callback listener with its subscription tick."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING

from bot.core.models import Article
from bot.services.poll.push_polling import PushAwareReader
from bot.services.poll.websub import WebSubService
from bot.services.ports import FeedReader
from bot.settings import Settings
from bot.storage.websub import WebSubStore
from bot.websub.callback import Served, callback_app, serve
from bot.websub.hub import HubClient
from bot.websub.ingest import PushIngest

if TYPE_CHECKING:
    from bot.compose.kit import Kit

log = logging.getLogger(__name__)

Sink = Callable[[Sequence[Article]], Awaitable[int]]


def push_service(kit: Kit, sink: Sink) -> WebSubService | None:
    """The WebSub service whose pushes go to `sink`, or None when push is off."""
    s = kit.settings
    if not s.pushes() or s.public_base_url is None:
        return None
    hub = HubClient(allow_private=s.allow_private_feeds, timeout=s.fetch_timeout_seconds)
    kit.process.closers.append(hub.aclose)
    ingest = PushIngest(sink, kit.clock, max_bytes=s.max_feed_bytes, max_items=s.max_items_per_feed)
    store = WebSubStore(kit.store.engine)
    return WebSubService(store, hub, ingest, kit.clock, base_url=s.public_base_url)


def push_aware(settings: Settings, reader: FeedReader, websub: WebSubService | None) -> FeedReader:
    """`reader`, offering each feed's hub after a read and polling pushed feeds slowly."""
    if websub is None:
        return reader
    safety = timedelta(hours=settings.push_poll_hours)
    return PushAwareReader(reader, websub, safety_interval=safety)


def inbox_sink(kit: Kit) -> Sink:
    """A cluster's pushes: into the story stage's inbox, as a fetch worker queues polls (the
    ops role's next plan wakes the story stage when articles wait)."""
    store = WebSubStore(kit.store.engine)

    async def sink(articles: Sequence[Article]) -> int:
        return await store.queue_pushed(articles, kit.clock.now())

    return sink


def take_pushes(kit: Kit, websub: WebSubService) -> None:
    """Serve the hubs' callbacks on websub_port and (re)subscribe on every poll tick."""
    s = kit.settings
    served: list[Served] = []

    async def start() -> None:
        app = callback_app(websub, s.max_feed_bytes)
        served.append(await serve(app, s.listen_host, s.websub_port))
        where = f"{s.listen_host}:{s.websub_port}"
        log.info("WebSub callbacks on %s (%s/websub/…)", where, s.public_base_url)

    async def stop() -> None:
        for listener in served:
            await listener.aclose()

    kit.process.starters.append(start)
    kit.process.closers.append(stop)
    kit.loop("websub", websub.tick, s.poll_tick_seconds, at_start=True)
