"""Small ports the use cases depend on; adapters implement them.

Errors a notifier may raise (adapters translate SDK/HTTP errors into these at the edge):

    DeliveryError
      ├── RateLimited(retry_after)   platform said slow down: retry the same message later, in order
      ├── DestinationGone(reason)    blocked, kicked, archived: deactivate the chat
      ├── MessageGone                the message to edit/reply to no longer exists: send anew
      ├── MessageRejected            the platform refused this message itself (HTTP 400):
      │                              a few tries, then given up, so it cannot hold its chat
      └── TransientError             network error, timeout, 5xx: retry with backoff
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from bot.core.models import Article, OutboundMessage


class DeliveryError(Exception):
    """Base of everything a Notifier may raise."""


class RateLimited(DeliveryError):
    """The platform asked us to wait `retry_after` seconds before sending again."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"rate limited, retry after {retry_after:g}s")
        self.retry_after = retry_after


class DestinationGone(DeliveryError):
    """The chat can no longer receive messages (blocked, kicked, archived, deleted)."""


class MessageGone(DeliveryError):
    """The message to edit or reply to no longer exists."""


class MessageRejected(DeliveryError):
    """The platform refused this very message (malformed, too long): other messages still go."""


class TransientError(DeliveryError):
    """A temporary failure (network, timeout, 5xx): retry with backoff."""


class AdminCheckFailed(Exception):
    """The platform could not say whether the user is an admin (an API error or timeout)."""


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
class Attachment:
    """A file sent with a command (an OPML file with /import). `read(limit)` fetches at most
    `limit` + 1 bytes, so a caller can tell a file over its limit without holding all of it;
    `size` is what the platform announced, when it did."""

    name: str
    size: int | None
    read: Callable[[int], Awaitable[bytes]]


@dataclass(frozen=True, slots=True)
class ReplyFile:
    """A file sent with a reply (/export): Telegram sends a document, Slack a snippet."""

    name: str
    data: bytes


@dataclass(frozen=True, slots=True)
class CommandContext:
    """Who sent a chat command, and where; built by each platform adapter.

    `is_admin` is asked only for commands that change settings, so adapters can make
    the (possibly remote) check lazily; it raises AdminCheckFailed when the platform cannot
    answer, so a failed lookup is never mistaken for "not an admin".
    """

    platform: str
    platform_chat_id: str
    user_id: str
    is_admin: Callable[[], Awaitable[bool]]
    thread_id: str | None = None
    user_name: str = ""
    # Sends a later reply to the same command (e.g. an /addfeed result after "checking…");
    # None where the platform cannot, and then slow commands answer inline.
    followup: Callable[[CommandReply], Awaitable[None]] | None = None
    attachment: Attachment | None = None  # a file sent with the command, if any


@dataclass(frozen=True, slots=True)
class Button:
    """An inline button; `data` comes back through CommandService.on_button."""

    label: str
    data: str


@dataclass(frozen=True, slots=True)
class CommandReply:
    """The answer to a command, in plain text (adapters escape and format it)."""

    text: str
    buttons: tuple[Button, ...] = ()
    file: ReplyFile | None = None


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
    pace: str | None = None  # the feed's new rate state; None keeps the stored one


class FeedReader(Protocol):
    """Fetches and parses feeds; never raises for feed problems (they come back as `error`)."""

    async def read(self, feed: FeedRef, now: datetime) -> FeedReadResult: ...


class CommandPort(Protocol):
    """What a platform adapter calls for chat commands and button presses.

    `text` is the whole command as typed, e.g. "/watch S-400" (adapters strip a trailing
    "@botname" and turn Slack's "/storywatch watch S-400" into "/watch S-400").
    Button data conventions: "mute:<story_id>", "sources:<story_id>", "stop:confirm".
    """

    async def handle(self, ctx: CommandContext, text: str) -> CommandReply: ...

    async def on_button(self, ctx: CommandContext, data: str) -> CommandReply: ...

    async def migrate_chat(self, platform: str, old_id: str, new_id: str) -> None: ...

    def command_list(self) -> list[tuple[str, str]]: ...
