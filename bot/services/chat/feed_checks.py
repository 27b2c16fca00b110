"""/addfeed checks run in the background: the chat gets "checking…" at once and the result
later, so one slow feed (a server sending 1 byte/s, a 4 MB feed) never holds up a command.

A chat may have at most `per_chat` checks in flight in this process; more are refused with one
line. A check that dies with the process is simply not answered: nothing was stored yet.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial

from bot.core.models import Chat
from bot.core.user_text import without_unsafe
from bot.services.chat import replies
from bot.services.chat.ports import CommandContext, CommandReply, FeedAdding
from bot.services.ports import Clock

log = logging.getLogger(__name__)

ChatKey = tuple[str, str]  # (platform, platform chat id)


@dataclass(frozen=True, slots=True)
class FeedProbe:
    """A feed URL fetched and parsed once with every safety rule: its title, how many items
    it lists and its newest headline, or one clear line saying why it cannot be read."""

    title: str | None = None
    error: str | None = None
    items: int = 0
    newest: str | None = None


FeedCheck = Callable[[str], Awaitable[FeedProbe]]
Send = Callable[[CommandReply], Awaitable[None]]
Check = Callable[[], Awaitable[CommandReply]]
HEADLINE_LIMIT = 160  # the newest headline, as shown in the answer
USAGE = "Usage: /addfeed URL, e.g. /addfeed https://example.com/rss.xml"


class FeedChecks:
    """Background jobs with a per-chat bound; `aclose` cancels what is still running."""

    def __init__(self, per_chat: int = 3) -> None:
        self.per_chat = per_chat
        self._running: Counter[ChatKey] = Counter()
        self._tasks: set[asyncio.Task[None]] = set()

    def start(self, key: ChatKey, check: Check, answer: Send) -> bool:
        """Run `check` for chat `key`, then `answer` its reply; False (and nothing run) when the
        chat already has `per_chat` checks in flight. The slot is free again once the check
        itself is done, before its answer is sent."""
        if self._running[key] >= self.per_chat:
            return False
        self._running[key] += 1
        job = self._run(key, check, answer)
        task = asyncio.get_running_loop().create_task(job, name=f"feed-check {key[0]}:{key[1]}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return True

    async def _run(self, key: ChatKey, check: Check, answer: Send) -> None:
        try:
            reply = await check()
        except Exception:  # a bug must still end in an answer, not in silence
            log.exception("feed check for %s failed", key)
            reply = CommandReply("Could not check that feed; please try again later.")
        finally:
            self._running[key] -= 1
            if self._running[key] <= 0:
                del self._running[key]
        try:
            await answer(reply)
        except Exception:
            log.exception("could not send a feed check's result to %s", key)

    async def aclose(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


class FollowUp:
    """A later reply to one command, sent only after the command's own reply went out, so
    "checking…" always comes before the result. Adapters call `answered()` once the first
    reply is sent (or failed: then the follow-up is still tried)."""

    def __init__(self, send: Send) -> None:
        self._send = send
        self._answered = asyncio.Event()

    def answered(self) -> None:
        self._answered.set()

    async def __call__(self, reply: CommandReply) -> None:
        await self._answered.wait()
        await self._send(reply)


class FeedAdder:
    """/addfeed: check the feed once with every safety rule, then add it to the chat."""

    def __init__(
        self, store: FeedAdding, clock: Clock, check: FeedCheck, checks: FeedChecks
    ) -> None:
        self._store, self._clock, self._check, self._checks = store, clock, check, checks

    async def add(self, ctx: CommandContext, chat: Chat, url: str) -> CommandReply:
        """ "Checking…" now and the result through `ctx.followup`; inline when it has none."""
        if not url or " " in url:
            return CommandReply(USAGE)
        if ctx.followup is None:
            return await self._check_and_add(chat, url)
        key = (ctx.platform, ctx.platform_chat_id)
        check = partial(self._checked, chat, url)
        if not self._checks.start(key, check, ctx.followup):
            return CommandReply(
                f"This chat already has {self._checks.per_chat} feed checks running; "
                "wait for their results, then try again."
            )
        return CommandReply(f"Checking {url} … the result follows here.")

    async def _checked(self, chat: Chat, url: str) -> CommandReply:
        return await replies.answering(self._check_and_add(chat, url))

    async def _check_and_add(self, chat: Chat, url: str) -> CommandReply:
        probe = await self._check(url)
        if probe.error is not None:
            return CommandReply(f"Could not add that feed: {probe.error}")
        feed = await self._store.add_chat_feed(
            chat.id, url, shown_title(probe, url), self._clock.now()
        )
        return CommandReply(f"Added feed {feed.id}: {feed.title} — {contents(probe)}")


def shown_title(probe: FeedProbe, url: str) -> str:
    """The feed's title as stored and shown (its URL when it has none)."""
    return without_unsafe(probe.title or "").strip() or url


def contents(probe: FeedProbe) -> str:
    """ "12 items, newest: Headline" — what the chat will be reading."""
    if not probe.items:
        return "no items yet"
    count = f"{probe.items} item" + ("s" if probe.items != 1 else "")
    newest = " ".join(without_unsafe(probe.newest or "").split())
    newest = newest if len(newest) <= HEADLINE_LIMIT else newest[: HEADLINE_LIMIT - 1] + "…"
    return f"{count}, newest: {newest}" if newest else count
