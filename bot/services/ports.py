"""The contracts every flow shares: where messages go, who sends them, the clock, the feed
reader, and a running chat platform. Each flow's own ports live in its package."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from bot.core.models import Article, Chat, OutboundMessage


@dataclass(frozen=True, slots=True)
class Address:
    """Where a message goes on a platform."""

    platform_id: str
    thread_id: str | None = None
    link_previews: bool = False


class Notifier(Protocol):
    """Delivers neutral messages on one platform; returns the platform's message reference."""

    async def send(self, to: Address, message: OutboundMessage) -> str: ...

    async def edit(self, to: Address, ref: str, message: OutboundMessage) -> str: ...

    async def reply(self, to: Address, parent: str, message: OutboundMessage) -> str: ...


class Clock(Protocol):
    """Source of the current time (UTC, timezone-aware)."""

    def now(self) -> datetime: ...


@dataclass(frozen=True, slots=True)
class FeedRef:
    """A feed due for polling, with what the last fetch remembered."""

    id: int
    url: str
    etag: str | None = None
    last_modified: str | None = None
    error_count: int = 0
    pace: str | None = None  # the feed's publishing-rate state (JSON), when polling is paced


@dataclass(frozen=True, slots=True)
class FeedReadResult:
    """The outcome of reading one feed once.

    On success `error` is None; on 304 `not_modified` is True and `articles` is empty.
    On failure `error` is one clear line (shown to the chat that added the feed) and
    `articles` is empty. `next_poll_at` already honours TTL/Cache-Control/Expires/
    Retry-After and error backoff.
    """

    feed_id: int
    next_poll_at: datetime
    articles: tuple[Article, ...] = ()
    title: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    not_modified: bool = False
    error: str | None = None
    hub: str | None = None  # WebSub: the hub the feed names (Link header first, then the feed)
    topic: str | None = None  # WebSub: the feed's own ("self") URL, to subscribe to
    pace: str | None = None  # the feed's new rate state; None keeps the stored one


class FeedReader(Protocol):
    """Fetches and parses feeds; never raises for feed problems (they come back as `error`)."""

    async def read(self, feed: FeedRef, now: datetime) -> FeedReadResult: ...


class ActiveChats(Protocol):
    """The chats that still receive messages."""

    async def active_chats(self) -> list[Chat]: ...


class Runtime(Protocol):
    """A running chat platform: answers commands; started and stopped with its process."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


class Sender(Protocol):
    """A platform's outbound side: its notifier, connected by `start`, closed by `stop`."""

    @property
    def notifier(self) -> Notifier: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...
