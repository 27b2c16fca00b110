"""/import and /export: a chat's own feeds as OPML, out and in.

An import adds every listed feed with the same checks as /addfeed (each URL fetched and
parsed once with every safety rule), then answers with one summary: added N, already
present M, refused K with each reason. A file that cannot be trusted as a whole (unsafe or
malformed XML, too big, too many feeds) gets one line and nothing is stored; the feeds
that pass are stored together in one transaction, so nothing is ever stored half-way.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Protocol

from bot.core.models import Chat
from bot.core.user_text import unsafe_character
from bot.services.chat import replies
from bot.services.chat.feed_checks import FeedCheck, FeedChecks, FeedProbe, shown_title
from bot.services.chat.ports import Attachment, CommandContext, CommandReply, ReplyFile
from bot.services.ports import Clock
from bot.services.records import FeedInfo

log = logging.getLogger(__name__)
CHECKS_AT_ONCE = 4  # one import's feed checks in flight together
MAX_URL = 1000
PROMPT = (
    "Send an OPML file with the caption /import (in Telegram, or as a reply to this message; "
    "in Slack, share it in the channel with the comment @storywatch import)."
)


class OpmlError(Exception):
    """The OPML document as a whole cannot be used; the message is one line for the chat."""


@dataclass(frozen=True, slots=True)
class OpmlFeed:
    """One feed outline: its URL and the title the list gives it."""

    url: str
    title: str


class OpmlCodec(Protocol):
    """Reads and writes OPML subscription lists (an adapter: XML lives there)."""

    async def read(self, data: bytes) -> list[OpmlFeed]: ...

    def write(self, feeds: Sequence[OpmlFeed], now: datetime) -> bytes: ...


class FeedLists(Protocol):
    """The storage an import and an export need."""

    async def chat_feed_urls(self, chat_id: int) -> set[str]: ...

    async def own_feeds(self, chat_id: int) -> list[FeedInfo]: ...

    async def add_chat_feeds(
        self, chat_id: int, feeds: Sequence[tuple[str, str]], now: datetime
    ) -> int: ...


@dataclass(frozen=True, slots=True)
class OpmlLimits:
    """How big an OPML file and how long a list one import may be."""

    max_bytes: int = 1_000_000
    max_feeds: int = 200


@dataclass(slots=True)
class ImportSummary:
    """What one import did, for the one summary line."""

    added: int = 0
    present: int = 0
    refused: list[tuple[str, str]] = field(default_factory=list)

    def text(self) -> str:
        refused = self.refused
        head = f"OPML import: added {self.added}, already present {self.present}, "
        head += f"refused {len(refused)}" + (":" if refused else ".")
        return "\n".join([head, *(f"• {_short(url)} — {why}" for url, why in refused)])


class OpmlService:
    """The import and export use cases for one deployment."""

    def __init__(
        self,
        feeds: FeedLists,
        codec: OpmlCodec,
        check: FeedCheck,
        clock: Clock,
        checks: FeedChecks,
        limits: OpmlLimits | None = None,
    ) -> None:
        self._feeds, self._codec, self._check, self._clock = feeds, codec, check, clock
        self._checks, self.limits = checks, limits or OpmlLimits()

    async def export(self, chat: Chat) -> CommandReply:
        """/export: the chat's own feeds (not the defaults) as an .opml file."""
        data = await self.export_bytes(chat)
        own = len(await self._feeds.own_feeds(chat.id))
        caption = (
            f"{own} feed(s) added in this chat, as OPML."
            if own
            else (
                "This chat has added no feeds of its own yet (the default feeds are not exported)."
            )
        )
        return CommandReply(caption, file=ReplyFile("storywatch-feeds.opml", data))

    async def export_bytes(self, chat: Chat) -> bytes:
        own = await self._feeds.own_feeds(chat.id)
        return self._codec.write([OpmlFeed(f.url, f.title) for f in own], self._clock.now())

    async def start_import(self, ctx: CommandContext, chat: Chat) -> CommandReply:
        """/import: read and vet the file now; check its feeds in the background."""
        if ctx.attachment is None:
            return CommandReply(PROMPT)
        try:
            listed = await self._listed(ctx.attachment)
        except OpmlError as exc:
            return CommandReply(f"{exc} Nothing was added.")
        if ctx.followup is None:
            return await self.import_feeds(chat, listed)
        job = partial(self._answered, chat, listed)
        if not self._checks.start((ctx.platform, ctx.platform_chat_id), job, ctx.followup):
            return CommandReply(
                "This chat already has feed checks running; wait for their results, then try again."
            )
        return CommandReply(
            f"Checking {len(listed)} feed(s) from the OPML file … the summary follows here."
        )

    async def _listed(self, attachment: Attachment) -> list[OpmlFeed]:
        cap = self.limits.max_bytes
        if attachment.size is not None and attachment.size > cap:
            raise OpmlError(_too_big(attachment.size, cap))
        try:
            data = await attachment.read(cap)
        except Exception as exc:  # a platform download, a local file: the chat gets one line
            log.warning("could not read an /import file: %s: %s", type(exc).__name__, exc)
            raise OpmlError(f"Could not read that file ({type(exc).__name__}).") from exc
        if len(data) > cap:
            raise OpmlError(_too_big(len(data), cap))
        return await self.read(data)

    async def read(self, data: bytes) -> list[OpmlFeed]:
        """The distinct feeds of an OPML document, or OpmlError for the whole file."""
        listed = list({f.url: f for f in await self._codec.read(data)}.values())
        if len(listed) > self.limits.max_feeds:
            raise OpmlError(
                f"That OPML file lists {len(listed)} feeds; one import may add "
                f"at most {self.limits.max_feeds}."
            )
        if not listed:
            raise OpmlError("That OPML file lists no feeds (no outline has an xmlUrl).")
        return listed

    async def _answered(self, chat: Chat, listed: list[OpmlFeed]) -> CommandReply:
        return await replies.answering(self.import_feeds(chat, listed))

    async def import_feeds(self, chat: Chat, listed: list[OpmlFeed]) -> CommandReply:
        """Check every new feed, store those that pass in one transaction, summarise."""
        known = await self._feeds.chat_feed_urls(chat.id)
        summary = ImportSummary(present=sum(f.url in known for f in listed))
        fresh = [f for f in listed if f.url not in known]
        gate = asyncio.Semaphore(CHECKS_AT_ONCE)
        probes = await asyncio.gather(*(self._probe(gate, f.url) for f in fresh))
        passed = []
        for feed, probe in zip(fresh, probes, strict=True):
            if probe.error is None:
                passed.append((feed.url, shown_title(probe, feed.title or feed.url)))
            else:
                summary.refused.append((feed.url, probe.error))
        summary.added = await self._feeds.add_chat_feeds(chat.id, passed, self._clock.now())
        summary.present += len(passed) - summary.added  # added meanwhile by another command
        return CommandReply(summary.text())

    async def _probe(self, gate: asyncio.Semaphore, url: str) -> FeedProbe:
        bad = unsafe_character(url)
        if bad is not None:
            return FeedProbe(error=f"the URL contains a control character ({bad})")
        if len(url) > MAX_URL:
            return FeedProbe(error=f"the URL is longer than {MAX_URL} characters")
        async with gate:
            return await self._check(url)


def _too_big(size: int, cap: int) -> str:
    return f"That file is {size:,} bytes; an OPML file may be at most {cap:,} bytes."


def _short(url: str) -> str:
    return url if len(url) <= 120 else url[:119] + "…"
