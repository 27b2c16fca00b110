"""What a query would have caught: the chat's recent stories in the window that it matches.

Read from the database (stored articles and their stories), not from an in-memory index, so
it answers the same in any process, including one that does not poll. Articles are read
newest first in pages and matched with the real matcher off the event loop; reading stops as
soon as enough stories are found, or after `max_scanned` articles.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from bot.core.display import story_outlets
from bot.core.matcher import RuleIndex
from bot.core.models import StoryView
from bot.services.ports import Clock

SHOWN = 3
PAGE = 1000


@dataclass(frozen=True, slots=True)
class RecentArticle:
    """A stored article of a feed the chat reads, with its story's current view."""

    id: str
    title: str
    text: str
    published: datetime
    story: StoryView


class RecentArticles(Protocol):
    """Stored articles for the preview, newest first (published, then id, descending)."""

    async def recent_for_chat(
        self, chat_id: int, since: datetime, after: tuple[datetime, str] | None, limit: int
    ) -> list[RecentArticle]: ...


@dataclass(frozen=True, slots=True)
class RecentMatch:
    """A story the query matches, and when its newest matching article was published."""

    story: StoryView
    published: datetime


class RecentMatches:
    """Finds up to SHOWN recent stories a query matches among a chat's feeds."""

    def __init__(
        self, articles: RecentArticles, clock: Clock, window: timedelta, max_scanned: int = 20_000
    ) -> None:
        self._articles, self._clock = articles, clock
        self._window, self._max_scanned = window, max_scanned

    @property
    def window_hours(self) -> float:
        return self._window.total_seconds() / 3600

    async def find(self, chat_id: int, query: str) -> list[RecentMatch]:
        """The newest stories (one line each) that `query` (already validated) matches."""
        index = await asyncio.to_thread(RuleIndex.build, [(0, query)])
        since = self._clock.now() - self._window
        found: dict[str, RecentMatch] = {}
        after: tuple[datetime, str] | None = None
        scanned = 0
        while len(found) < SHOWN and scanned < self._max_scanned:
            page = await self._articles.recent_for_chat(chat_id, since, after, PAGE)
            for match in await asyncio.to_thread(_matching, index, page):
                found.setdefault(match.story.story_id, match)
            if len(page) < PAGE:
                break
            scanned += len(page)
            after = (page[-1].published, page[-1].id)
        return list(found.values())[:SHOWN]

    async def describe(self, chat_id: int, query: str) -> str:
        """ "Recent matches:" and one line per story, or that there were none."""
        matches = await self.find(chat_id, query)
        if not matches:
            return f"Nothing in the last {self.window_hours:g} h yet."
        now = self._clock.now()
        lines = [f"• {_line(m.story)} ({age_label(now - m.published)})" for m in matches]
        return "Recent matches:\n" + "\n".join(lines)


def _matching(index: RuleIndex, page: list[RecentArticle]) -> list[RecentMatch]:
    return [RecentMatch(a.story, a.published) for a in page if index.match(a.title, a.text)]


def _line(story: StoryView) -> str:
    outlets = story_outlets(story)
    return f"{story.headline} — {outlets}" if outlets else story.headline


def age_label(age: timedelta) -> str:
    """ "just now", "25 min ago", "3 h ago", "2 d ago"."""
    minutes = int(age.total_seconds() // 60)
    if minutes < 1:
        return "just now"
    if minutes < 60:
        return f"{minutes} min ago"
    if minutes < 48 * 60:
        return f"{minutes // 60} h ago"
    return f"{minutes // (24 * 60)} d ago"
