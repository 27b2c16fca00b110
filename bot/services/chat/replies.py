"""The words of the command replies: help, lists and status, as plain text."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Sequence
from datetime import datetime

from bot.core.cadence import is_failing
from bot.core.models import Chat, WatchRule
from bot.core.policy import next_digest_at
from bot.core.query import describe_query_language
from bot.services.chat.ports import CommandReply
from bot.services.errors import AdminCheckFailed, StorageUnavailable
from bot.services.records import ChatStatus, FeedInfo

log = logging.getLogger(__name__)

COMMANDS: tuple[tuple[str, str], ...] = (
    ("start", "Subscribe this chat"),
    ("help", "How to write watch queries"),
    ("watch", "Watch a query: /watch S-400"),
    ("preview", "What a query would catch, not saved: /preview S-400"),
    ("unwatch", "Stop watching: /unwatch ID"),
    ("watchlist", "List watched queries"),
    ("feeds", "List feeds and their health"),
    ("addfeed", "Add a feed: /addfeed URL"),
    ("removefeed", "Remove a feed: /removefeed ID"),
    ("import", "Add the feeds of an OPML file sent with /import"),
    ("export", "This chat's feeds as an OPML file"),
    ("digest", "Daily digest time: /digest 08:00, off or now"),
    ("timezone", "Your time zone: /timezone Europe/Istanbul"),
    ("mode", "instant, digest or both"),
    ("quiet", "Quiet hours: /quiet 22:00-07:00 or off"),
    ("pause", "Hold all messages"),
    ("resume", "Send held messages"),
    ("status", "Rules, feeds, last alert, next digest"),
    ("mute", "Mute a story's developments"),
    ("stop", "Unsubscribe and delete this chat's data"),
)

WELCOME = (
    "Welcome to storywatch: one alert per news story, then only what is new.\n"
    '1. /watch S-400 (or any words, names, "phrases") to follow a topic.\n'
    "2. You get one alert per story, however many outlets report it; developments "
    "arrive as replies.\n"
    "3. /help for the query language, /digest 08:00 and /timezone for the daily digest."
)
NOT_ADMIN = (
    "Only chat admins can change storywatch settings here; anyone can use /watchlist and /status."
)
STORAGE_UNAVAILABLE = "Storage is unavailable right now, so nothing was changed. Try again later."
ADMIN_CHECK_FAILED = "Could not check admin rights just now, so nothing was changed. Try again."
BUTTON_INVALID = "That button is no longer valid."
WATCH_USAGE = 'Usage: /watch QUERY, e.g. /watch S-400 -India or /watch "air defense" Turkey'


def unsafe(character: str) -> str:
    """Reply to a command holding a control character."""
    return f"That contains a control character ({character}); please type it again without it."


def unknown(name: str) -> str:
    """Reply to a command we do not have."""
    return f"I don't know /{name[:40]}. /help lists what I can do."


def help_text() -> str:
    """/help: the commands and the query language."""
    commands = "\n".join(f"/{name} — {about}" for name, about in COMMANDS)
    return f"{commands}\n\n{describe_query_language()}"


def watchlist(rules: Sequence[WatchRule]) -> str:
    """/watchlist: the chat's rules with their short ids."""
    if not rules:
        return "No rules yet. Add one with /watch S-400."
    return "Watching:\n" + "\n".join(f"#{r.number}  {r.query}" for r in rules)


def _health(feed: FeedInfo) -> str:
    if feed.last_error is None:
        return "ok"
    state = "failing" if is_failing(feed.error_count) else "error"
    return f"{state} ({feed.error_count}x): {feed.last_error}"


def feeds(items: Sequence[FeedInfo]) -> str:
    """/feeds: every feed the chat reads and its health."""
    if not items:
        return "No feeds. Add one with /addfeed URL."
    lines = [
        f"{f.id}. {f.title or f.url}{'' if f.is_default else ' (added here)'} — {_health(f)}"
        for f in items
    ]
    return "Feeds:\n" + "\n".join(lines)


def _when(at: datetime | None) -> str:
    return at.strftime("%Y-%m-%d %H:%M UTC") if at else "never"


def status(
    chat: Chat,
    rules: Sequence[WatchRule],
    items: Sequence[FeedInfo],
    state: ChatStatus,
    now: datetime,
) -> str:
    """/status: rules, feeds and their health, last alert, next digest."""
    s = chat.settings
    broken = [f for f in items if f.last_error]
    quiet = f"{s.quiet_start}–{s.quiet_end}" if s.quiet_start else "off"
    lines = [
        f"Mode: {s.mode.value}{' (paused)' if s.paused else ''}; time zone {s.timezone}; "
        f"quiet hours {quiet}",
        f"Rules: {len(rules)} — "
        + (", ".join(r.query for r in rules[:5]) or "none")
        + _more(len(rules) - 5, "/watchlist"),
        f"Feeds: {len(items)}, {len(broken)} with errors" + _pushed(items),
        *(f"  ! {f.title or f.url}: {f.last_error}" for f in broken[:5]),
        *([f"  …{_more(len(broken) - 5, '/feeds')}"] if len(broken) > 5 else []),
        f"Last alert: {_when(state.last_alert_at)}",
        f"Next digest: {_when(next_digest_at(s, now))}",
    ]
    if state.pending or state.held:
        lines.append(f"Waiting to be sent: {state.pending}; held: {state.held}")
    return "\n".join(lines)


def _pushed(items: Sequence[FeedInfo]) -> str:
    """Which feeds a WebSub hub pushes (they arrive in seconds; the rest wait for a poll)."""
    pushed = [f.title or f.url for f in items if f.pushed]
    if not pushed:
        return ""
    return (
        f"; {len(pushed)} pushed by hub: "
        + ", ".join(pushed[:5])
        + _more(len(pushed) - 5, "/feeds")
    )


def _more(hidden: int, command: str) -> str:
    """What a shortened list leaves out, and where the whole of it is."""
    return f" and {hidden} more ({command} lists all)" if hidden > 0 else ""


async def answering(call: Awaitable[CommandReply]) -> CommandReply:
    """The reply, or one clear line when the database or the platform's admin check failed."""
    try:
        return await call
    except StorageUnavailable as exc:
        log.warning("command not done, storage unavailable: %s", exc)
        return CommandReply(STORAGE_UNAVAILABLE)
    except AdminCheckFailed as exc:
        log.warning("command not done, admin check failed: %s", exc)
        return CommandReply(ADMIN_CHECK_FAILED)
