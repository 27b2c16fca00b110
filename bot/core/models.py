"""Neutral domain objects shared by every layer: articles, stories, chats and outbound messages."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


@dataclass(frozen=True, slots=True)
class Article:
    """One feed item, already cleaned.

    `id` is the identity key (see bot.feeds.parser for the rule): the same item seen again,
    even with an edited title or a new pubDate, has the same id.
    """

    id: str
    feed_id: int
    url: str
    title: str
    text: str
    published: datetime  # timezone-aware UTC
    source: str


class StoryKind(StrEnum):
    """What an article means for its story."""

    NEW = "new"
    REPEAT = "repeat"  # nothing new: the story's alert gains a source (an edit)
    DEVELOPMENT = "development"  # new facts: threaded update under the first alert


@dataclass(frozen=True, slots=True)
class Source:
    """An outlet that reported a story, with its link."""

    name: str
    url: str


@dataclass(frozen=True, slots=True)
class StoryView:
    """What a chat is shown about a story at one moment."""

    story_id: str
    headline: str
    url: str
    summary: str
    sources: tuple[Source, ...]


@dataclass(frozen=True, slots=True)
class Highlight:
    """A snippet of article text and the [start, end) spans to show in bold."""

    text: str
    spans: tuple[tuple[int, int], ...] = ()


class ChatMode(StrEnum):
    """Which kinds of delivery a chat wants."""

    INSTANT = "instant"
    DIGEST = "digest"
    BOTH = "both"


@dataclass(frozen=True, slots=True)
class ChatSettings:
    """Per-chat preferences; stored as JSON so new keys need no migration."""

    mode: ChatMode = ChatMode.BOTH
    timezone: str = "UTC"
    digest_time: str | None = "08:00"  # local HH:MM, None = digests off
    quiet_start: str | None = None  # local HH:MM
    quiet_end: str | None = None
    paused: bool = False
    link_previews: bool = False

    def to_json(self) -> dict[str, Any]:
        return {k: (str(v) if isinstance(v, ChatMode) else v) for k, v in asdict(self).items()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ChatSettings:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        if "mode" in known:
            known["mode"] = ChatMode(known["mode"])
        return cls(**known)


@dataclass(frozen=True, slots=True)
class Chat:
    """A subscribed conversation on one platform."""

    id: int
    platform: str
    platform_id: str
    thread_id: str | None = None  # forum topic / default thread for alerts
    active: bool = True
    settings: ChatSettings = field(default_factory=ChatSettings)


@dataclass(frozen=True, slots=True)
class WatchRule:
    """A chat's watchlist entry; `number` is the short id the chat sees."""

    id: int
    chat_id: int
    number: int
    query: str


class MessageKind(StrEnum):
    """Outbox message kinds, and how a notifier delivers them."""

    ALERT = "alert"  # new message
    SOURCES = "sources"  # edit of the story's alert (a repeat)
    UPDATE = "update"  # reply threaded under the story's alert (a development)
    DIGEST = "digest"  # new message
    NOTICE = "notice"  # new plain message (e.g. alerts held during quiet hours)


@dataclass(frozen=True, slots=True)
class AlertMessage:
    """First alert for a story in a chat."""

    story: StoryView
    highlight: Highlight
    matched_terms: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class UpdateMessage:
    """A development of a story, shown as a reply under its alert."""

    story: StoryView
    whats_new: str
    source: Source
    highlight: Highlight = Highlight("")


@dataclass(frozen=True, slots=True)
class DigestItem:
    """One story line in a digest."""

    headline: str
    url: str
    summary: str
    source_count: int
    developments: int
    outlets: tuple[str, ...] = ()  # distinct outlet names, first reporter first


@dataclass(frozen=True, slots=True)
class DigestSection:
    """Stories grouped under the rule that matched them."""

    title: str
    items: tuple[DigestItem, ...]


@dataclass(frozen=True, slots=True)
class DigestMessage:
    """A daily digest."""

    title: str
    sections: tuple[DigestSection, ...]
    more: int = 0  # stories left out by the length cap ("and N more")


@dataclass(frozen=True, slots=True)
class NoticeMessage:
    """A plain informational message (held alerts folded after quiet hours, etc.)."""

    text: str
    stories: tuple[StoryView, ...] = ()


OutboundMessage = AlertMessage | UpdateMessage | DigestMessage | NoticeMessage
