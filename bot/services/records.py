"""The records the use cases and storage exchange: plain frozen data, no behaviour."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.core.alerts import NewMatch, PlannedMessage
from bot.core.models import Article, Chat, MessageKind, StoryKind, StoryView
from bot.services.ports import FeedReadResult


@dataclass(frozen=True, slots=True)
class FeedInfo:
    """A feed as a chat sees it in /feeds and /status."""

    id: int
    url: str
    title: str
    is_default: bool
    error_count: int
    last_error: str | None
    last_ok_at: datetime | None
    pushed: bool = False  # a WebSub hub pushes it (verified, lease running)


@dataclass(frozen=True, slots=True)
class StoredArticle:
    """An article with the story it was assigned to."""

    article: Article
    story_id: str
    kind: StoryKind


@dataclass(frozen=True, slots=True)
class StoryRecord:
    """A story's current view, written with the poll."""

    view: StoryView
    first_seen: datetime
    last_seen: datetime
    new_developments: int = 0  # added to the stored count


@dataclass(slots=True)
class PollBatch:
    """Everything one poll cycle writes, in ONE transaction."""

    feed_results: list[FeedReadResult] = field(default_factory=list)
    articles: list[StoredArticle] = field(default_factory=list)
    stories: dict[str, StoryRecord] = field(default_factory=dict)
    messages: list[PlannedMessage] = field(default_factory=list)
    matches: list[NewMatch] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class OutboxRow:
    """A claimed outbox message, ready to deliver."""

    id: int
    chat: Chat
    story_id: str
    kind: MessageKind
    payload: dict[str, Any]
    attempts: int
    deferred: bool = False


@dataclass(frozen=True, slots=True)
class ChatStatus:
    """What /status shows besides rules and feeds."""

    last_alert_at: datetime | None
    pending: int
    held: int


@dataclass(frozen=True, slots=True)
class InboxItem:
    """An article a fetch worker found new, waiting for the story stage."""

    id: int
    article: Article


@dataclass(frozen=True, slots=True)
class OpsSnapshot:
    """What the database says at scrape time (the operators' gauges)."""

    feeds: int = 0
    feeds_erroring: int = 0
    feeds_failing: int = 0  # FAILING_AFTER or more errors in a row
    feeds_backing_off: int = 0  # erroring, and their next poll is pushed back
    outbox_pending: Mapping[str, int] = field(default_factory=dict)  # by platform
    outbox_failed: Mapping[str, int] = field(default_factory=dict)  # by platform
    oldest_pending_seconds: float = 0.0
    rules: int = 0  # watch rules of active chats, as stored (any process may have added one)
