"""The chat-command use case, shared by every platform: one neutral command set, plain replies."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace

from bot.core.matcher import validate_query
from bot.core.models import Chat, ChatMode
from bot.core.policy import parse_hhmm, parse_quiet_hours, parse_timezone
from bot.core.query import QueryError
from bot.core.user_text import number_key, split_command, unsafe_character
from bot.services.chat import replies
from bot.services.chat.everyday_commands import EverydayCommands
from bot.services.chat.feed_checks import FeedAdder, FeedCheck, FeedChecks
from bot.services.chat.ports import Button, CommandContext, CommandReply, CommandStore
from bot.services.errors import RuleLimitReached
from bot.services.ports import Clock

MAX_ARGUMENT = 1000
Handler = Callable[[Chat, str], Awaitable[CommandReply]]

READ_ONLY = {"help", "watchlist", "feeds", "status", "preview", "export"}


class CommandService:
    """Implements the CommandPort for Telegram, Slack and the console alike."""

    def __init__(
        self,
        store: CommandStore,
        clock: Clock,
        check_feed: FeedCheck,
        *,
        max_rules: int = 50,
        feed_checks: FeedChecks | None = None,
        everyday: EverydayCommands | None = None,
    ) -> None:
        self._store, self._clock = store, clock
        self._max_rules = max_rules
        self._checks = feed_checks or FeedChecks()
        self._adder = FeedAdder(store, clock, check_feed, self._checks)
        self._everyday = everyday or EverydayCommands()
        self._handlers = self._table()

    def _table(self) -> dict[str, Handler]:
        """Each command's handler, by name (the everyday ones included)."""
        return {
            "help": self._help,
            "watch": self._watch,
            "unwatch": self._unwatch,
            "watchlist": self._watchlist,
            "feeds": self._feeds,
            "removefeed": self._removefeed,
            "digest": self._digest,
            "timezone": self._timezone,
            "mode": self._mode,
            "quiet": self._quiet,
            "pause": self._pause,
            "resume": self._resume,
            "status": self._status,
            "stop": self._stop,
            "mute": self._mute,
            **self._everyday.handlers(),
        }

    async def aclose(self) -> None:
        """Stop the feed checks still running (their chats get no answer; nothing was stored)."""
        await self._checks.aclose()

    def command_list(self) -> list[tuple[str, str]]:
        return list(replies.COMMANDS)

    async def handle(self, ctx: CommandContext, text: str) -> CommandReply:
        bad = unsafe_character(text)
        if bad is not None:
            return CommandReply(replies.unsafe(bad))
        return await replies.answering(self._handle(ctx, *split_command(text)))

    async def on_button(self, ctx: CommandContext, data: str) -> CommandReply:
        if unsafe_character(data) is not None:
            return CommandReply(replies.BUTTON_INVALID)
        return await replies.answering(self._on_button(ctx, data))

    async def _handle(self, ctx: CommandContext, name: str, args: str) -> CommandReply:
        if name == "start":
            return await self._start(ctx)
        if name not in self._handlers and name not in ("addfeed", "import"):
            return CommandReply(replies.unknown(name))
        if len(args) > MAX_ARGUMENT:
            return CommandReply(
                f"That is too long ({len(args)} characters); keep it under {MAX_ARGUMENT}."
            )
        found = await self._find(ctx)
        if name not in READ_ONLY and not await self._may_configure(ctx, found):
            return CommandReply(replies.NOT_ADMIN)
        chat = await self._chat(ctx, found)
        if name == "addfeed":  # the one command that answers twice: "checking…", then the result
            return await self._adder.add(ctx, chat, args)
        if name == "import":  # it reads the file sent with the command, then answers twice
            return await self._everyday.import_(ctx, chat)
        return await self._handlers[name](chat, args)

    async def _on_button(self, ctx: CommandContext, data: str) -> CommandReply:
        action, _, value = data.partition(":")
        if action == "sources":
            return await self._sources(value)
        found = await self._find(ctx)
        if action not in ("mute", "stop") or not await self._may_configure(ctx, found):
            return CommandReply(
                replies.NOT_ADMIN if action in ("mute", "stop") else replies.BUTTON_INVALID
            )
        chat = await self._chat(ctx, found)
        if action == "mute":
            return await self._mute(chat, value)
        await self._store.delete_chat(chat.id)
        return CommandReply(
            "Unsubscribed. This chat's rules, feeds and settings are deleted. "
            "Send /start to come back."
        )

    async def migrate_chat(self, platform: str, old_id: str, new_id: str) -> None:
        await self._store.migrate_chat(platform, old_id, new_id)

    async def _find(self, ctx: CommandContext) -> Chat | None:
        """The chat the command came from, looked up once per command."""
        return await self._store.chat_by_platform(ctx.platform, ctx.platform_chat_id)

    async def _may_configure(self, ctx: CommandContext, chat: Chat | None) -> bool:
        if chat is not None and await self._store.chat_creator(chat.id) == ctx.user_id:
            return True
        return await ctx.is_admin()

    async def _chat(self, ctx: CommandContext, found: Chat | None) -> Chat:
        """The chat, subscribing it (again) if it is new or was deactivated."""
        if found is not None and found.active:
            return found
        return await self._store.upsert_chat(
            ctx.platform, ctx.platform_chat_id, ctx.thread_id, ctx.user_id, self._clock.now()
        )

    async def _start(self, ctx: CommandContext) -> CommandReply:
        if not await self._may_configure(ctx, await self._find(ctx)):
            return CommandReply(replies.NOT_ADMIN)
        await self._store.upsert_chat(
            ctx.platform, ctx.platform_chat_id, ctx.thread_id, ctx.user_id, self._clock.now()
        )
        return CommandReply(replies.WELCOME)

    async def _help(self, chat: Chat, args: str) -> CommandReply:
        return CommandReply(replies.help_text())

    async def _watch(self, chat: Chat, args: str) -> CommandReply:
        if not args:
            return CommandReply(replies.WATCH_USAGE)
        try:
            query = validate_query(args)
            rule = await self._store.add_rule(chat.id, query, self._max_rules, self._clock.now())
        except QueryError as exc:
            return CommandReply(f"{exc}\n{replies.WATCH_USAGE}")
        except RuleLimitReached as exc:
            return CommandReply(f"Not added: {exc}. Remove one with /unwatch ID first.")
        recent = await self._everyday.recent_lines(chat, query)
        return CommandReply(
            "\n".join(filter(None, (f"Watching #{rule.number}: {rule.query}", recent)))
        )

    async def _unwatch(self, chat: Chat, args: str) -> CommandReply:
        if not args:
            return CommandReply("Usage: /unwatch ID or /unwatch QUERY (see /watchlist for IDs).")
        key = number_key(args)
        removed = None if key is None else await self._store.remove_rule(chat.id, key)
        if removed is None:
            return CommandReply(
                f"No rule {_quoted(args)} here. /watchlist shows your rules and IDs."
            )
        return CommandReply(f"Stopped watching #{removed.number}: {removed.query}")

    async def _watchlist(self, chat: Chat, args: str) -> CommandReply:
        rules = await self._store.chat_rules(chat.id)
        return CommandReply(replies.watchlist(rules))

    async def _feeds(self, chat: Chat, args: str) -> CommandReply:
        return CommandReply(replies.feeds(await self._store.chat_feeds(chat.id)))

    async def _removefeed(self, chat: Chat, args: str) -> CommandReply:
        if not args:
            return CommandReply("Usage: /removefeed ID or /removefeed URL (see /feeds).")
        key = number_key(args)
        removed = None if key is None else await self._store.remove_chat_feed(chat.id, key)
        if removed is None:
            return CommandReply(
                f"This chat did not add a feed {_quoted(args)}; default feeds stay. See /feeds."
            )
        return CommandReply(f"Removed feed {removed.id}: {removed.title}")

    async def _digest(self, chat: Chat, args: str) -> CommandReply:
        if args.lower() == "off":
            return await self._save(chat, "Daily digest is off.", digest_time=None)
        if args.lower() == "now":
            return await self._everyday.digest_now(chat)
        try:
            at = parse_hhmm(args)
        except ValueError as exc:
            return CommandReply(f"{exc}. Usage: /digest HH:MM, /digest off or /digest now")
        return await self._save(
            chat, f"Daily digest at {at} ({chat.settings.timezone}).", digest_time=at
        )

    async def _timezone(self, chat: Chat, args: str) -> CommandReply:
        try:
            zone = parse_timezone(args)
        except ValueError as exc:
            return CommandReply(str(exc))
        return await self._save(chat, f"Time zone set to {zone}.", timezone=zone)

    async def _mode(self, chat: Chat, args: str) -> CommandReply:
        try:
            mode = ChatMode(args.lower())
        except ValueError:
            return CommandReply(
                "Usage: /mode instant|digest|both — instant: alerts only; "
                "digest: the daily digest only; both: alerts and digest."
            )
        return await self._save(chat, f"Mode set to {mode.value}.", mode=mode)

    async def _quiet(self, chat: Chat, args: str) -> CommandReply:
        try:
            hours = parse_quiet_hours(args)
        except ValueError as exc:
            return CommandReply(f"{exc}. Usage: /quiet 22:00-07:00 or /quiet off")
        start, end = hours or (None, None)
        text = (
            f"Quiet hours {start}–{end}: alerts wait until they end."
            if hours
            else "Quiet hours are off."
        )
        return await self._save(chat, text, quiet_start=start, quiet_end=end)

    async def _pause(self, chat: Chat, args: str) -> CommandReply:
        return await self._save(chat, "Paused: everything waits until /resume.", paused=True)

    async def _resume(self, chat: Chat, args: str) -> CommandReply:
        reply = await self._save(chat, "Resumed.", paused=False)
        held = await self._store.release_held(chat.id)
        return CommandReply(
            f"{reply.text} {held} held message(s) are on their way." if held else reply.text
        )

    async def _save(self, chat: Chat, text: str, **changes: object) -> CommandReply:
        await self._store.save_settings(chat.id, replace(chat.settings, **changes))  # type: ignore[arg-type]
        return CommandReply(text)

    async def _status(self, chat: Chat, args: str) -> CommandReply:
        rules = await self._store.chat_rules(chat.id)
        feeds = await self._store.chat_feeds(chat.id)
        status = await self._store.chat_status(chat.id)
        return CommandReply(replies.status(chat, rules, feeds, status, self._clock.now()))

    async def _stop(self, chat: Chat, args: str) -> CommandReply:
        return CommandReply(
            "This deletes this chat's rules, feeds and settings. Sure?",
            (Button("Yes, unsubscribe", "stop:confirm"),),
        )

    async def _mute(self, chat: Chat, args: str) -> CommandReply:
        if not args:
            return CommandReply("Use the “Mute story” button under an alert (or /mute STORY_ID).")
        view = await self._store.story_sources(args)
        if view is None:
            return CommandReply(f"No story {args!r}.")
        await self._store.mute(chat.id, args)
        return CommandReply(f"Muted: {view.headline}. Its developments will not be sent here.")

    async def _sources(self, story_id: str) -> CommandReply:
        view = await self._store.story_sources(story_id)
        if view is None:
            return CommandReply("That story is no longer known.")
        lines = [f"{view.headline} — {len(view.sources)} source(s):"]
        lines += [f"• {s.name}: {s.url}" for s in view.sources]
        return CommandReply("\n".join(lines))


def _quoted(text: str) -> str:
    """The user's key, shortened, for a "not found" line."""
    return repr(text if len(text) <= 40 else text[:40] + "…")
