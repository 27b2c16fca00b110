"""The polling half of the in-memory store: FeedClaims, SeenArticles and PlanReads and save_poll.

Semantics follow bot/storage/feeds.py, polls.py and store.py: a due feed is claimed for a
lease; saving its poll ends the claim; a failed read counts an error and keeps the reader's
backoff; articles, stories and matches are inserted once (a second insert is ignored).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.services.ports import FeedReadResult, FeedRef
from bot.services.records import PollBatch, StoredArticle
from fakes.memory_outbox import StoredChat, StoredRow, StoredStory


@dataclass
class StoredFeed:
    """A feed row: what it is, who reads it, and what its last poll left."""

    id: int
    url: str
    title: str
    is_default: bool
    next_poll_at: datetime
    readers: set[int]  # chats that added it
    etag: str | None = None
    last_modified: str | None = None
    error_count: int = 0
    last_error: str | None = None
    last_ok_at: datetime | None = None
    claimed_by: str | None = None
    claimed_until: datetime | None = None
    pace: str | None = None

    def ref(self) -> FeedRef:
        return FeedRef(
            self.id, self.url, self.etag, self.last_modified, self.error_count, self.pace
        )


class MemoryPolls:
    """What the poller asks of storage; the state lives on MemoryStore."""

    chats: dict[int, StoredChat]
    feeds: dict[int, StoredFeed]
    articles: dict[str, StoredArticle]
    stories: dict[str, StoredStory]
    matches: dict[tuple[int, str], tuple[str, datetime]]
    mutes: set[tuple[int, str]]
    rows: dict[int, StoredRow]
    saved: list[PollBatch]  # every batch save_poll wrote, in order

    # --- FeedClaims ---------------------------------------------------------------------------
    async def due_feeds(
        self, now: datetime, limit: int, *, worker: str = "",
        lease: timedelta = timedelta(seconds=30),
    ) -> list[FeedRef]:  # fmt: skip
        due = sorted(
            (f for f in self.feeds.values()
             if f.next_poll_at <= now and (f.claimed_until is None or f.claimed_until <= now)
             and (f.is_default or any(self.chats[c].chat.active for c in f.readers))),
            key=lambda f: f.next_poll_at,
        )[:limit]  # fmt: skip
        for f in due:
            f.claimed_by, f.claimed_until = worker, now + lease
        return [f.ref() for f in due]

    async def renew_feed_claims(self, ids: Sequence[int], worker: str, until: datetime) -> None:
        for f in self._held(ids, worker):
            f.claimed_until = until

    async def release_feeds(self, ids: Sequence[int], worker: str) -> None:
        for f in self._held(ids, worker):
            f.claimed_by = f.claimed_until = None

    def _held(self, ids: Sequence[int], worker: str) -> list[StoredFeed]:
        return [
            self.feeds[i] for i in ids if i in self.feeds and self.feeds[i].claimed_by == worker
        ]

    # --- SeenArticles, PlanReads and save_poll ----------------------------------------------
    async def known_articles(self, ids: Sequence[str], urls: Sequence[str]) -> set[str]:
        stored_urls = {s.article.url for s in self.articles.values()}
        return {i for i in ids if i in self.articles} | {u for u in urls if u in stored_urls}

    async def recent_articles(self, since: datetime) -> list[StoredArticle]:
        found = [s for s in self.articles.values() if s.article.published >= since]
        return sorted(found, key=lambda s: s.article.published)

    async def followers(self, story_ids: Sequence[str]) -> dict[str, dict[int, bool]]:
        result: dict[str, dict[int, bool]] = {s: {} for s in story_ids}
        for chat_id, story_id in self.matches:
            if story_id in result and self.chats[chat_id].chat.active:
                result[story_id][chat_id] = (chat_id, story_id) in self.mutes
        return result

    async def feed_audience(self, feed_ids: Sequence[int]) -> dict[int, frozenset[int] | None]:
        audience: dict[int, frozenset[int] | None] = {}
        for i in feed_ids:
            feed = self.feeds.get(i)
            readers = frozenset(feed.readers) if feed else frozenset()
            audience[i] = None if feed and feed.is_default else readers
        return audience

    async def save_poll(self, batch: PollBatch, now: datetime) -> None:
        self.saved.append(batch)
        for result in batch.feed_results:
            self._save_feed(result, now)
        for stored in batch.articles:
            self.articles.setdefault(stored.article.id, stored)
        for story_id, record in batch.stories.items():
            old = self.stories.get(story_id)
            first = old.first_seen if old else record.first_seen
            grown = (old.developments if old else 0) + record.new_developments
            self.stories[story_id] = StoredStory(record.view, first, record.last_seen, grown)
        for m in batch.matches:
            self.matches.setdefault((m.chat_id, m.story_id), (m.rule_label, now))
        self.write_messages(batch.messages, now)  # type: ignore[attr-defined]

    def _save_feed(self, r: FeedReadResult, now: datetime) -> None:
        f = self.feeds[r.feed_id]
        f.next_poll_at, f.claimed_by, f.claimed_until = r.next_poll_at, None, None
        if r.error is not None:
            f.error_count, f.last_error = f.error_count + 1, r.error
            return
        f.error_count, f.last_error, f.last_ok_at = 0, None, now
        f.pace = r.pace or f.pace
        if not r.not_modified:
            f.etag, f.last_modified, f.title = r.etag, r.last_modified, r.title or f.title
