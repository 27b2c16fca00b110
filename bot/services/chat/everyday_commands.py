"""The commands that show what the bot would do or has: /preview, /digest now, /import, /export,
and the "Recent matches" tail of /watch. Each part is optional (a tool may build none)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bot.core.matcher import validate_query
from bot.core.models import Chat
from bot.core.query import QueryError
from bot.services.chat import replies
from bot.services.chat.opml_import import OpmlService
from bot.services.chat.ports import CommandContext, CommandReply, DigestNow
from bot.services.chat.recent import RecentMatches
from bot.services.errors import StorageUnavailable

Handler = Callable[[Chat, str], Awaitable[CommandReply]]
UNAVAILABLE = "That is not available in this deployment."
PREVIEW_USAGE = "Usage: /preview QUERY — shows what /watch QUERY would have caught, saves nothing."


class EverydayCommands:
    """Handlers for CommandService; nothing here changes a chat's rules or settings."""

    def __init__(
        self,
        recent: RecentMatches | None = None,
        digests: DigestNow | None = None,
        opml: OpmlService | None = None,
    ) -> None:
        self._recent, self._digests, self._opml = recent, digests, opml

    def handlers(self) -> dict[str, Handler]:
        return {"preview": self.preview, "export": self.export}

    async def recent_lines(self, chat: Chat, query: str) -> str:
        """ "Recent matches: …" for a rule just added ("" when previews are not built). The
        rule is already saved: a storage failure here must not say "nothing was changed"."""
        if self._recent is None:
            return ""
        try:
            return await self._recent.describe(chat.id, query)
        except StorageUnavailable:
            return "(Recent matches cannot be shown right now.)"

    async def preview(self, chat: Chat, args: str) -> CommandReply:
        if not args:
            return CommandReply(PREVIEW_USAGE)
        try:
            query = validate_query(args)
        except QueryError as exc:
            return CommandReply(f"{exc}\n{replies.WATCH_USAGE}")
        if self._recent is None:
            return CommandReply(UNAVAILABLE)
        tail = await self._recent.describe(chat.id, query)
        return CommandReply(f"Preview of {query} (not saved; /watch {query} to follow it)\n{tail}")

    async def digest_now(self, chat: Chat) -> CommandReply:
        if self._digests is None:
            return CommandReply(UNAVAILABLE)
        return CommandReply(await self._digests.send_now(chat))

    async def export(self, chat: Chat, args: str) -> CommandReply:
        if self._opml is None:
            return CommandReply(UNAVAILABLE)
        return await self._opml.export(chat)

    async def import_(self, ctx: CommandContext, chat: Chat) -> CommandReply:
        if self._opml is None:
            return CommandReply(UNAVAILABLE)
        return await self._opml.start_import(ctx, chat)
