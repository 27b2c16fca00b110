"""Digest building: group matched stories by rule, rank them, cap the length; fold held alerts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.core.models import DigestItem, DigestMessage, DigestSection, NoticeMessage, StoryView

SUMMARY_LIMIT = 160
# Spelled out rather than strftime("%a %b"), which follows the process locale.
_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True, slots=True)
class DigestEntry:
    """A story that matched one of the chat's rules since its last digest."""

    rule_label: str  # the rule's query, e.g. "S-400"
    story_id: str
    headline: str
    url: str
    summary: str
    outlets: tuple[str, ...]  # distinct outlet names, first reporter first
    developments: int
    last_seen: datetime

    @property
    def source_count(self) -> int:
        return len(self.outlets)


def one_line(text: str, limit: int = SUMMARY_LIMIT) -> str:
    """`text` on one line, cut at a word boundary to at most `limit` characters with "…"."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    cut = flat[: limit - 1]
    space = cut.rfind(" ")
    # A single huge "word" (a URL, a run of CJK text) is cut mid-word rather than dropped.
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:.-–—") + "…"


def digest_date_label(at: datetime, timezone: str) -> str:
    """The chat's local date of `at` as in a digest title, e.g. "Sat 21 Nov"."""
    local = at.astimezone(ZoneInfo(timezone))
    return f"{_WEEKDAYS[local.weekday()]} {local.day} {_MONTHS[local.month - 1]}"


def _first_per_story(entries: Sequence[DigestEntry]) -> list[DigestEntry]:
    """One entry per story: the first, so a story two rules matched sits under the first rule."""
    seen: dict[str, DigestEntry] = {}
    for entry in entries:
        seen.setdefault(entry.story_id, entry)
    return list(seen.values())


def _rank_key(entry: DigestEntry) -> tuple[int, datetime]:
    return entry.source_count, entry.last_seen


def _item(entry: DigestEntry) -> DigestItem:
    return DigestItem(
        headline=" ".join(entry.headline.split()),
        url=entry.url,
        summary=one_line(entry.summary),
        source_count=entry.source_count,
        developments=entry.developments,
        outlets=entry.outlets,
    )


def build_digest(
    entries: Sequence[DigestEntry], *, local_date_label: str, max_items: int = 12
) -> DigestMessage | None:
    """A digest of `entries`, or None when there is nothing to send.

    Sections follow the order in which rules first appear in `entries` (callers pass them in
    rule order). Stories rank by distinct outlets, then by recency; the cap keeps the best
    `max_items` stories across all sections, and `more` counts the rest ("and N more").
    """
    if max_items < 1:
        raise ValueError("max_items must be at least 1")
    stories = _first_per_story(entries)
    if not stories:
        return None
    kept = sorted(stories, key=_rank_key, reverse=True)[:max_items]
    by_rule: dict[str, list[DigestItem]] = {entry.rule_label: [] for entry in stories}
    for entry in kept:
        by_rule[entry.rule_label].append(_item(entry))
    sections = tuple(
        DigestSection(title=rule, items=tuple(items)) for rule, items in by_rule.items() if items
    )
    return DigestMessage(
        title=f"Your storywatch digest — {local_date_label}",
        sections=sections,
        more=len(stories) - len(kept),
    )


def fold_held_alerts(stories: Sequence[StoryView], now_label: str) -> NoticeMessage:
    """Alerts held during quiet hours or a pause, as ONE notice listing each story once.

    A story held several times (its alert, then developments) appears once, in the place it
    first appeared, with its latest view (most sources). `now_label` is the local time the
    hold ended, e.g. "07:00". Raises ValueError for no stories: an empty notice is noise.
    """
    latest: dict[str, StoryView] = {}
    for story in stories:
        latest[story.story_id] = story  # re-assigning keeps the first position in a dict
    if not latest:
        raise ValueError("no held alerts to fold")
    count = len(latest)
    noun = "story" if count == 1 else "stories"
    return NoticeMessage(
        text=f"While you were away: {count} {noun} (held until {now_label})",
        stories=tuple(latest.values()),
    )
