"""Decides what each chat receives when an article arrives: an alert, a sources edit, an update.

Rule order for one chat and one article:
1. A chat that does not follow the story yet gets an ALERT if one of its rules matched and the
   article came from a feed the chat reads; from then on it follows the story.
2. A chat that follows the story gets a SOURCES edit when the story gained an outlet, and an
   UPDATE (threaded under the alert) when the article is a development; a muted story gets neither.
3. The chat's delivery policy (mode, quiet hours, pause) then says send now, hold, or leave it to
   the digest; nothing is dropped: held messages wait in the outbox.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.core.models import (
    AlertMessage,
    Article,
    Chat,
    Highlight,
    MessageKind,
    OutboundMessage,
    Source,
    StoryKind,
    StoryView,
    UpdateMessage,
)
from bot.core.policy import Delivery, alert_decision


@dataclass(frozen=True, slots=True)
class ChatTarget:
    """A chat concerned by an article: it matched a rule, or it already follows the story."""

    chat: Chat
    following: bool
    muted: bool = False
    rule_label: str = ""  # set when one of the chat's rules matched
    highlight: Highlight | None = None
    matched_terms: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PlannedMessage:
    """An outbox row to write.

    `held`: wait for /resume, not for a time. `deferred`: held back by quiet hours or a pause,
    so it may be folded with other deferred alerts into one message.
    """

    chat_id: int
    story_id: str
    kind: MessageKind
    dedup_key: str
    message: OutboundMessage
    not_before: datetime
    held: bool = False
    deferred: bool = False


@dataclass(frozen=True, slots=True)
class NewMatch:
    """A chat starts following a story (it feeds the digest too)."""

    chat_id: int
    story_id: str
    rule_label: str


@dataclass(frozen=True, slots=True)
class Plan:
    """Everything one article causes, written in the poll's single transaction."""

    messages: tuple[PlannedMessage, ...] = ()
    matches: tuple[NewMatch, ...] = ()


def _schedule(
    target: ChatTarget, kind: MessageKind, key: str, message: OutboundMessage, now: datetime
) -> PlannedMessage | None:
    decision, until = alert_decision(target.chat.settings, now)
    if decision is Delivery.SKIP:
        return None  # digest-only chat: the story reaches it through the digest
    held = decision is Delivery.HOLD and until is None
    chat_id, story_id = target.chat.id, message_story_id(message)
    deferred = decision is Delivery.HOLD
    return PlannedMessage(chat_id, story_id, kind, key, message, until or now, held, deferred)


def message_story_id(message: OutboundMessage) -> str:
    """The story a message is about ('' for digests and notices)."""
    return message.story.story_id if isinstance(message, AlertMessage | UpdateMessage) else ""


def _source_of(article: Article) -> Source:
    return Source(article.source, article.url)


def _for_target(
    target: ChatTarget,
    article: Article,
    kind: StoryKind,
    whats_new: str,
    view: StoryView,
    gained_source: bool,
    now: datetime,
) -> tuple[list[PlannedMessage | None], NewMatch | None]:
    marks = target.highlight or Highlight("")
    if not target.following:
        return _first_alert(target, view, marks, now)
    out: list[PlannedMessage | None] = []
    if target.muted:
        return out, None  # a muted story is silent for this chat: no edits, no updates
    if gained_source:
        edit = AlertMessage(view, marks, target.matched_terms)
        out.append(_schedule(target, MessageKind.SOURCES, "", edit, now))
    if kind is StoryKind.DEVELOPMENT:
        update = UpdateMessage(view, whats_new, _source_of(article), marks)
        out.append(_schedule(target, MessageKind.UPDATE, article.id, update, now))
    return out, None


def _first_alert(
    target: ChatTarget, view: StoryView, marks: Highlight, now: datetime
) -> tuple[list[PlannedMessage | None], NewMatch | None]:
    """A chat not following the story yet: an alert if one of its rules matched."""
    if not target.rule_label:
        return [], None
    alert = AlertMessage(view, marks, target.matched_terms)
    match = NewMatch(target.chat.id, view.story_id, target.rule_label)
    return [_schedule(target, MessageKind.ALERT, "", alert, now)], match


def plan_alerts(
    article: Article,
    kind: StoryKind,
    whats_new: str,
    view: StoryView,
    targets: Sequence[ChatTarget],
    *,
    gained_source: bool,
    now: datetime,
) -> Plan:
    """What every concerned chat should receive because of `article` (see module rules)."""
    messages: list[PlannedMessage] = []
    matches: list[NewMatch] = []
    for target in targets:
        planned, match = _for_target(target, article, kind, whats_new, view, gained_source, now)
        messages.extend(p for p in planned if p is not None)
        if match is not None:
            matches.append(match)
    return Plan(tuple(messages), tuple(matches))
