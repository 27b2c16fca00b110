"""Telegram runtime: builds the PTB application, registers handlers, runs polling or a webhook."""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
from collections import Counter
from collections.abc import Awaitable, Coroutine
from typing import Any
from urllib.parse import urlsplit

from telegram import BotCommand, Update
from telegram.error import TelegramError
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder, BaseUpdateProcessor

from bot.services.chat.ports import CommandPort
from bot.services.ports import Notifier
from bot.telegram.handlers import TelegramHandlers
from bot.telegram.notifier import TelegramNotifier

log = logging.getLogger(__name__)

DEFAULT_API = "https://api.telegram.org"
# Update types we act on; everything else is not even fetched.
ALLOWED_UPDATES = ("message", "channel_post", "callback_query")
COMMAND_NAME = re.compile(r"[a-z0-9_]{1,32}")


def rate_limiter() -> AIORateLimiter:
    """Throttle below Telegram's flood limits, but never retry on our behalf.

    30 messages/s overall and 20 per minute per group/channel (group_time_period is 60 s)
    are Telegram's published limits. The ~1 message/s per private chat limit is not modelled
    here: our outbox sends one chat's messages in order, one at a time. max_retries=0 means
    a 429 is raised as RetryAfter, which the notifier turns into RateLimited so the outbox
    reschedules the very message that was refused, keeping order.
    """
    return AIORateLimiter(
        overall_max_rate=30,
        overall_time_period=1,
        group_max_rate=20,
        group_time_period=60,
        max_retries=0,
    )


def chat_key(update: object) -> int | None:
    """The chat whose updates must stay in order: a migration counts for the new supergroup,
    so commands sent there right after it see the moved data."""
    if not isinstance(update, Update):
        return None
    message = update.effective_message
    if message is not None and message.migrate_to_chat_id is not None:
        return message.migrate_to_chat_id
    chat = update.effective_chat
    return chat.id if chat is not None else None


class ChatOrderedUpdates(BaseUpdateProcessor):
    """Different chats' updates are handled concurrently; one chat's one at a time, in order.

    So a chat waiting on something slow (a database lock, a slow getChatMember) delays only
    itself. `workers` bounds how many updates run at once; a chat may have at most `per_chat`
    updates waiting, and updates past that (a flood) are dropped with a warning, so one chat
    can never occupy the whole queue.
    """

    def __init__(self, workers: int = 64, per_chat: int = 20) -> None:
        # PTB's own bound only counts tasks; ours (the semaphore) counts work being done.
        super().__init__(max_concurrent_updates=workers * per_chat)
        self._workers = asyncio.Semaphore(workers)
        self._per_chat = per_chat
        self._chats: dict[int, asyncio.Lock] = {}
        self._queued: Counter[int] = Counter()

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = chat_key(update)
        if key is None:
            async with self._workers:
                await coroutine
            return
        if self._queued[key] >= self._per_chat:
            log.warning(
                "chat %s sent more than %s updates at once; dropping one", key, self._per_chat
            )
            if isinstance(coroutine, Coroutine):
                coroutine.close()
            return
        self._queued[key] += 1
        try:
            async with self._chats.setdefault(key, asyncio.Lock()), self._workers:
                await coroutine
        finally:
            self._queued[key] -= 1
            if not self._queued[key]:
                del self._queued[key], self._chats[key]

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""


def bot_commands(pairs: list[tuple[str, str]]) -> list[BotCommand]:
    """The menu entries Telegram accepts: [a-z0-9_]{1,32} names, descriptions of 1–256 chars."""
    named = ((name.lstrip("/").lower(), about or name) for name, about in pairs)
    return [BotCommand(name, about[:256]) for name, about in named if COMMAND_NAME.fullmatch(name)]


class TelegramSender:
    """One bot account's outbound side: the PTB application's bot, rate-limited, and its
    notifier; `start` connects, nothing else (a cluster's deliver role takes no updates)."""

    def __init__(self, token: str, base_url: str | None = None, *, rate_limit: bool = True):
        self.app = build_application(token, base_url or DEFAULT_API, rate_limit)
        self.notifier: Notifier = TelegramNotifier(self.app.bot)

    async def start(self) -> None:
        await self.app.initialize()  # a no-op when the runtime of the same bot did it first

    async def stop(self) -> None:
        await self.app.shutdown()  # a no-op once shut down


class TelegramRuntime:
    """One bot account: answers commands and exposes `notifier` for outbound delivery."""

    def __init__(
        self,
        token: str,
        commands: CommandPort,
        *,
        base_url: str | None = None,
        webhook_url: str | None = None,
        webhook_secret: str | None = None,
        listen: str = "0.0.0.0",
        port: int = 8443,
        rate_limit: bool = True,
        sender: TelegramSender | None = None,
    ) -> None:
        self._commands = commands
        self._webhook_url = webhook_url
        # Without a secret anyone who finds the URL could post forged updates (say, a command
        # "from" an admin), so webhook mode always has one: ours, or a random one we register.
        self._webhook_secret = webhook_secret or secrets.token_urlsafe(32)
        self._listen = listen
        self._port = port
        self.sender = sender or TelegramSender(token, base_url, rate_limit=rate_limit)
        self.app = self.sender.app  # replies and alerts share one connection and rate limiter
        TelegramHandlers(commands).install(self.app)

    @property
    def notifier(self) -> Notifier:
        return self.sender.notifier

    async def start(self) -> None:
        """Connect, publish the command menu and start receiving updates; returns once running.

        Pending updates are never dropped: commands sent while the bot was down are answered.
        """
        await self.app.initialize()
        await self._publish_menu()
        await self._start_updates()
        await self.app.start()
        log.info("telegram bot @%s running", self.app.bot.username)

    async def _publish_menu(self) -> None:
        try:
            await self.app.bot.set_my_commands(bot_commands(self._commands.command_list()))
        except TelegramError as error:
            # The menu is a convenience; typed commands work without it, so keep starting.
            log.warning("could not publish the command menu: %s", error)

    async def _start_updates(self) -> None:
        updater = self.app.updater
        assert updater is not None  # built with the default updater
        if self._webhook_url is None:
            await updater.start_polling(allowed_updates=list(ALLOWED_UPDATES))
            return
        # PTB's webhook server answers 403 to any request without this secret token header.
        await updater.start_webhook(
            listen=self._listen,
            port=self._port,
            url_path=urlsplit(self._webhook_url).path.lstrip("/"),
            webhook_url=self._webhook_url,
            secret_token=self._webhook_secret,
            allowed_updates=list(ALLOWED_UPDATES),
        )

    async def stop(self) -> None:
        """Stop receiving updates, finish the ones in hand, close connections."""
        if self.app.updater is not None and self.app.updater.running:
            await self.app.updater.stop()
        if self.app.running:
            await self.app.stop()
        await self.app.shutdown()


def build_application(
    token: str, base_url: str, rate_limit: bool
) -> Application[Any, Any, Any, Any, Any, Any]:
    base = base_url.rstrip("/")
    builder = (
        ApplicationBuilder()
        .token(token)
        .base_url(f"{base}/bot")
        .base_file_url(f"{base}/file/bot")
        .job_queue(None)  # scheduling belongs to bot.scheduler, not PTB
        .concurrent_updates(ChatOrderedUpdates())
    )
    if rate_limit:
        return builder.rate_limiter(rate_limiter()).build()
    return builder.build()
