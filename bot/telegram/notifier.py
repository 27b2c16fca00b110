"""Notifier over the Telegram Bot API: renders neutral messages and maps PTB errors at the edge."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Awaitable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import TypeVar

from telegram import Bot, Message, ReplyParameters
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    RetryAfter,
    TelegramError,
)

from bot.core.models import OutboundMessage
from bot.services.errors import (
    DeliveryError,
    DestinationGone,
    MessageGone,
    MessageRejected,
    RateLimited,
    TransientError,
)
from bot.services.ports import Address
from bot.telegram.render import PARSE_MODE, TelegramText, render

log = logging.getLogger(__name__)
T = TypeVar("T")

# Bad Request descriptions (lower-case fragments) that mean the chat cannot receive messages.
GONE_CHAT = (
    "chat not found",
    "bot was kicked",
    "group chat was deactivated",
    "chat_write_forbidden",
    "not enough rights to send",
    "have no rights to send",
    "need administrator rights",
    "message thread not found",
)
# ...and those that mean the message we edit or reply to no longer exists.
GONE_MESSAGE = (
    "message to edit not found",
    "message to be replied not found",
    "message_id_invalid",
    "message can't be edited",
)
NOT_MODIFIED = "message is not modified"


class ChatMigratedAway(DestinationGone):
    """The group became a supergroup: this address is gone, `new_chat_id` replaces it.

    Telegram also posts a service message with migrate_to_chat_id, which the handlers turn
    into CommandPort.migrate_chat. `send` follows the move once by itself, so this escapes
    only if the new chat refuses too (a DestinationGone: the chat is really unreachable).
    """

    def __init__(self, new_chat_id: int) -> None:
        super().__init__(f"chat migrated to supergroup {new_chat_id}")
        self.new_chat_id = new_chat_id


def chat_ref(platform_id: str) -> int | str:
    """Numeric ids as int: PTB's rate limiter treats every str chat id as a group."""
    return int(platform_id) if platform_id.lstrip("-").isdigit() else platform_id


def retry_seconds(error: RetryAfter) -> float:
    with warnings.catch_warnings():
        # PTB 22 warns that `retry_after` will become a timedelta; accept both shapes quietly.
        warnings.simplefilter("ignore")
        value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def translate(error: TelegramError) -> DeliveryError:
    """Our error family for a PTB error.

    Any other Bad Request (say, an entity Telegram refuses to parse, a text too long) is
    MessageRejected: Telegram refused this message itself, so the outbox tries it only a few
    times and then gives it up instead of holding the chat's later messages behind it.
    """
    text = error.message.lower()
    if isinstance(error, RetryAfter):
        return RateLimited(retry_seconds(error))
    if isinstance(error, ChatMigrated):
        return ChatMigratedAway(error.new_chat_id)
    if isinstance(error, Forbidden) or (
        isinstance(error, BadRequest) and any(f in text for f in GONE_CHAT)
    ):
        return DestinationGone(error.message)
    if isinstance(error, BadRequest) and any(f in text for f in GONE_MESSAGE):
        return MessageGone(error.message)
    if isinstance(error, BadRequest):
        return MessageRejected(error.message)
    # TimedOut, NetworkError (5xx), Conflict, InvalidToken: retry with backoff.
    return TransientError(f"{type(error).__name__}: {error.message}")


@contextmanager
def parent_left_behind() -> Iterator[None]:
    """A migrated group's messages stay in the old chat: edits and replies become MessageGone.

    The outbox then sends anew, and `send` follows the migration. Retrying the same message id
    in the new supergroup could edit an unrelated message of ours there.
    """
    try:
        yield
    except ChatMigratedAway as moved:
        raise MessageGone(str(moved)) from moved


async def translated(call: Awaitable[T]) -> T:
    """Await a Bot API call, raising only our DeliveryError family."""
    try:
        return await call
    except TelegramError as error:
        raise translate(error) from error


class TelegramNotifier:
    """Implements Notifier for Telegram.

    A message longer than one Telegram message goes out as several, in order; the returned
    reference is the FIRST one's id (it carries the buttons, and edits/replies target it).
    If a later chunk fails, the error propagates and the outbox retries the whole message,
    so the first chunks may arrive twice: at-least-once, never lost.
    """

    def __init__(self, bot: Bot) -> None:
        self._bot = bot

    async def send(self, to: Address, message: OutboundMessage) -> str:
        out = render(message, link_previews=to.link_previews)
        try:
            return await self._send(to, out, None)
        except ChatMigratedAway as moved:
            # The handlers record the new id when Telegram's migration service message arrives;
            # until then deliver there, so the alert is not lost nor the chat deactivated.
            log.warning("chat %s is now %s; delivering there", to.platform_id, moved.new_chat_id)
            return await self._send(
                Address(str(moved.new_chat_id), None, to.link_previews), out, None
            )

    async def reply(self, to: Address, parent: str, message: OutboundMessage) -> str:
        # No allow_sending_without_reply: if the story's alert is gone we want MessageGone,
        # so the outbox sends the update anew as the story's new anchor message.
        out = render(message, link_previews=to.link_previews)
        with parent_left_behind():
            return await self._send(to, out, parent)

    async def edit(self, to: Address, ref: str, message: OutboundMessage) -> str:
        """Replace the text of message `ref`; alerts always render to one chunk (see render)."""
        out = render(message, link_previews=to.link_previews)
        with parent_left_behind():
            await self._edit(to, ref, out)
        return ref

    async def _edit(self, to: Address, ref: str, out: TelegramText) -> None:
        try:
            await self._bot.edit_message_text(
                out.chunks[0],
                chat_id=chat_ref(to.platform_id),
                message_id=int(ref),
                parse_mode=PARSE_MODE,
                reply_markup=out.keyboard,
                link_preview_options=out.link_preview_options,
            )
        except BadRequest as error:
            # Same text again (a retried edit that had in fact arrived) is already the goal.
            if NOT_MODIFIED not in error.message.lower():
                raise translate(error) from error
        except TelegramError as error:
            raise translate(error) from error

    async def _send(self, to: Address, out: TelegramText, parent: str | None) -> str:
        first: Message | None = None
        for chunk in out.chunks:
            sent = await translated(self._send_chunk(to, out, chunk, parent, first is None))
            first = first or sent
        assert first is not None  # render always yields at least one chunk
        return str(first.message_id)

    def _send_chunk(
        self, to: Address, out: TelegramText, chunk: str, parent: str | None, is_first: bool
    ) -> Awaitable[Message]:
        reply = ReplyParameters(message_id=int(parent)) if parent and is_first else None
        return self._bot.send_message(
            chat_ref(to.platform_id),
            chunk,
            parse_mode=PARSE_MODE,
            reply_markup=out.keyboard if is_first else None,
            link_preview_options=out.link_preview_options,
            message_thread_id=int(to.thread_id) if to.thread_id else None,
            reply_parameters=reply,
        )
