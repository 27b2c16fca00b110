"""Display text every renderer shares: who reported a story, and feed text that cannot spoof."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

from bot.core.models import DigestItem, StoryView, UpdateMessage

OUTLETS_SHOWN = 3  # a notification has room for a few names; the rest are counted
OUTLET_NAME_LIMIT = 48  # a feed title used as an outlet name can be any length

# Embeddings and overrides (U+202A-U+202E) and isolates (U+2066-U+2069): with these, feed text
# can reverse how the text after it reads ("gpj.exe" shown as "exe.jpg") or run into ours.
_DIRECTION_CONTROLS = dict.fromkeys((*range(0x202A, 0x202F), *range(0x2066, 0x206A)))
# Invisible direction marks (LRM, RLM, ALM): right-to-left writing needs them around numbers
# and punctuation; in a line with no right-to-left letters they can only reorder what we show.
_DIRECTION_MARKS = dict.fromkeys((0x200E, 0x200F, 0x061C))
_EVERY_DIRECTION_CHAR = _DIRECTION_CONTROLS | _DIRECTION_MARKS


def neutralise_bidi(text: str) -> str:
    """`text` without bidi overrides, embeddings and isolates, and without direction marks in
    lines that have no right-to-left letters; everything else is left as it was."""
    if text.isascii() or text.translate(_EVERY_DIRECTION_CHAR) == text:
        return text
    return "".join(_neutralise_line(line) for line in text.splitlines(keepends=True))


def _neutralise_line(line: str) -> str:
    letters = line.translate(_DIRECTION_MARKS)  # RLM and ALM count as right-to-left themselves
    if any(unicodedata.bidirectional(char) in ("R", "AL") for char in letters):
        return line.translate(_DIRECTION_CONTROLS)
    return line.translate(_EVERY_DIRECTION_CHAR)


def outlets_label(names: Iterable[str], shown: int = OUTLETS_SHOWN) -> str:
    """Distinct outlet names in order, the first `shown` named, the rest counted.

    "Reuters, AP, BBC +2 more"; "" when there are none. Each name is cut to a bounded
    length, so the label fits any platform's notification text.
    """
    distinct = list(dict.fromkeys(n for n in (" ".join(name.split()) for name in names) if n))
    named = [_short(name) for name in distinct[:shown]]
    hidden = len(distinct) - len(named)
    return ", ".join(named) + (f" +{hidden} more" if hidden else "")


def _short(name: str) -> str:
    if len(name) <= OUTLET_NAME_LIMIT:
        return name
    return name[: OUTLET_NAME_LIMIT - 1].rstrip() + "…"


def story_outlets(story: StoryView) -> str:
    """The outlets that reported a story, first reporter first."""
    return outlets_label(source.name for source in story.sources)


def update_outlets(message: UpdateMessage) -> str:
    """The outlets of a development: the one reporting it, then the story's others."""
    return outlets_label([message.source.name, *(s.name for s in message.story.sources)])


def digest_note(item: DigestItem) -> str:
    """What follows a digest headline: "Reuters, AP +1 more; 2 updates".

    A digest queued before outlet names were stored carries only their count ("3 sources").
    """
    notes = [outlets_label(item.outlets)] if item.outlets else []
    if not item.outlets and item.source_count > 1:
        notes.append(f"{item.source_count} sources")
    if item.developments:
        notes.append(f"{item.developments} update" + ("s" if item.developments > 1 else ""))
    return "; ".join(notes)
