"""The chat flow's contracts: what a platform adapter calls and gets back, and what the
commands ask of storage and of the digests."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from bot.core.models import Chat, ChatSettings, StoryView, WatchRule
from bot.services.records import ChatStatus, FeedInfo


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


class FeedAdding(Protocol):
    """/addfeed's one write."""

    async def add_chat_feed(
        self, chat_id: int, url: str, title: str, now: datetime
    ) -> FeedInfo: ...


class ChatsPort(Protocol):
    """Chats as the command layer finds, subscribes, configures and removes them."""

    async def chat_by_platform(self, platform: str, platform_id: str) -> Chat | None: ...
    async def chat_creator(self, chat_id: int) -> str: ...
    async def upsert_chat(
        self, platform: str, platform_id: str, thread_id: str | None, user_id: str, now: datetime
    ) -> Chat: ...
    async def save_settings(self, chat_id: int, settings: ChatSettings) -> None: ...
    async def delete_chat(self, chat_id: int) -> None: ...
    async def migrate_chat(self, platform: str, old_id: str, new_id: str) -> None: ...


class CommandStore(ChatsPort, FeedAdding, Protocol):
    """Everything the chat commands read and change (role `chat`)."""

    async def remove_chat_feed(self, chat_id: int, key: str) -> FeedInfo | None: ...
    async def chat_feeds(self, chat_id: int) -> list[FeedInfo]: ...
    async def add_rule(self, chat_id: int, query: str, limit: int, now: datetime) -> WatchRule: ...
    async def remove_rule(self, chat_id: int, key: str) -> WatchRule | None: ...
    async def chat_rules(self, chat_id: int) -> list[WatchRule]: ...
    async def mute(self, chat_id: int, story_id: str) -> bool: ...
    async def story_sources(self, story_id: str) -> StoryView | None: ...
    async def release_held(self, chat_id: int) -> int: ...
    async def chat_status(self, chat_id: int) -> ChatStatus: ...


class DigestNow(Protocol):
    """/digest now: the digest of what came since the last one, queued for this chat."""

    async def send_now(self, chat: Chat) -> str: ...
