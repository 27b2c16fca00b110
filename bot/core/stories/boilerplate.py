"""Per-feed boilerplate learned from the feed itself: what recurs across its items is not news.

A feed wraps its items in the same furniture: a show name after the headline ("… | TV Patrol"),
a section before it ("Coronavirus: …"), a dateline before the summary ("April 27, 2020 1:00 PM
SINGAPORE - "), a sign-off after it ("Subscribe to our channel …"). No list of outlets is
kept: each feed's memory of its own recent items tells what is furniture, in this order:
1. a headline's first or last segment that at least two of the feed's recent headlines had;
2. a summary's opening words that at least two recent summaries began with, cut only at a
   separator or after date-like words, so a shared first name ("President Duterte said") stays;
3. sentences mostly made of word runs that at least two recent items also had, and lines of
   generic furniture (pleas, sign-ups, credits), wherever they are; links and hashtags.
Memory is bounded per feed (a few kilobytes) and rebuilt by replaying stored articles.
"""

from __future__ import annotations

import re
import sys
import zlib
from array import array
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TypeVar

from bot.core.furniture import is_boilerplate
from bot.core.stories import terms as t

RECENT = 16  # items of a feed remembered
HITS = 2  # recent items that must share a piece for it to be furniture
FEEDS = 50_000  # feeds remembered; the least recently active are forgotten first
SERIES_GAP = timedelta(hours=6)  # the same headline again after this long is a new edition
EDITIONS = 48  # headlines remembered per feed for that, none older than EDITION_MEMORY
EDITION_MEMORY = timedelta(hours=36)

_SEGMENT = re.compile(r"\s+[|–—]\s+|\s+-\s+|:\s+")
_LINK = re.compile(r"https?://\S+|www\.\S+|(?<!\w)#\w+|\S+@\S+\.\w+")
_WORD = re.compile(r"\w+")
_DIGITS = re.compile(r"\d+")
_AFTER_CUT = re.compile(r"^\s*(?:[-–—:|)]\s*)?")
_SEPARATOR = re.compile(r"^\s*(?:[-–—:|]|\))")
_DATEY = frozenset(
    [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
        "jan",
        "feb",
        "mar",
        "apr",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
        "am",
        "pm",
        "gmt",
        "utc",
        "est",
        "edt",
        "bst",
        "aest",
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    ]
)
_SHINGLE = 4
_MAX_AFFIX_WORDS = 6


def shape(text: str) -> str:
    """Lower case with digit runs as 0: a dateline keeps its shape from one item to the next."""
    return _DIGITS.sub("0", text.lower())


T = TypeVar("T")


def _push(items: list[T], item: T, limit: int) -> None:
    """Append, forgetting the oldest past `limit`."""
    items.append(item)
    if len(items) > limit:
        del items[0]


def _interned(words: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    return tuple(sys.intern(w) for w in words)


# Kept small on purpose: a bot may follow 100,000 feeds. Plain lists (a deque costs ~600
# bytes a feed, empty), interned words (a feed repeats its vocabulary) and shingle hashes
# as 4-byte arrays (not sets of int objects): about a tenth of the memory, same answers.
@dataclass(slots=True)
class FeedMemory:
    """The recent items of one feed, reduced to the pieces furniture is recognised by."""

    affixes: list[tuple[str, str]] = field(default_factory=list)  # the last RECENT
    heads: list[tuple[str, ...]] = field(default_factory=list)  # the last RECENT
    shingles: list[array[int]] = field(default_factory=list)  # the last RECENT
    editions: list[tuple[datetime, tuple[str, ...], tuple[str, ...]]] = field(
        default_factory=list
    )  # the last EDITIONS, none older than EDITION_MEMORY

    def clean(self, title: str, text: str) -> tuple[str, str]:
        """Title and text without this feed's furniture; the item is remembered afterwards."""
        text = _LINK.sub(" ", text)
        cleaned_title = self._title(title)
        cleaned_text = self._text(text)
        return cleaned_title, cleaned_text

    def is_new_edition(
        self, template: frozenset[str], figures: frozenset[str], published: datetime
    ) -> bool:
        """True when this feed ran the same headline a while before, figures aside, or a like
        one with other figures: a daily bulletin or count is a new event each time, not a
        development of the last one."""
        while self.editions and published - self.editions[0][0] > EDITION_MEMORY:
            del self.editions[0]
        found = len(template) >= 2 and any(
            abs(published - when) >= SERIES_GAP and _edition(template, figures, words, numbers)
            for when, words, numbers in self.editions
        )
        _push(
            self.editions,
            (published, _interned(tuple(template)), _interned(tuple(figures))),
            EDITIONS,
        )
        return found

    def _title(self, title: str) -> str:
        segments = [s.strip() for s in _SEGMENT.split(title) if s.strip()]
        first, last = (shape(segments[0]), shape(segments[-1])) if len(segments) > 1 else ("", "")
        if len(segments) > 1:
            if _short(first) and sum(1 for f, _ in self.affixes if f == first) >= HITS:
                segments = segments[1:]
            recurring_last = sum(1 for _, lst in self.affixes if lst == last) >= HITS
            if len(segments) > 1 and _short(last) and recurring_last:
                segments = segments[:-1]
        _push(self.affixes, (sys.intern(first), sys.intern(last)), RECENT)
        return ": ".join(segments)

    def _text(self, text: str) -> str:
        head = _interned(_WORD.findall(shape(text[:200]))[:12])
        cut = self._shared_head(head)
        _push(self.heads, head, RECENT)
        if cut:
            text = _cut_head(text, cut)
        counts: dict[int, int] = {}
        for earlier in self.shingles:
            for h in earlier:
                counts[h] = counts.get(h, 0) + 1
        kept: list[str] = []
        mine: set[int] = set()
        for line in text.splitlines():
            for sentence in t.sentences(line):
                hashes = _shingles(sentence)
                mine |= hashes
                recurring = sum(1 for h in hashes if counts.get(h, 0) >= HITS)
                if not is_boilerplate(sentence) and 2 * recurring < max(1, len(hashes)):
                    kept.append(sentence)
        _push(self.shingles, array("I", mine), RECENT)
        return " ".join(kept)

    def _shared_head(self, head: tuple[str, ...]) -> int:
        """Words this summary opens with that HITS recent summaries opened with too."""
        shared = sorted((_common_prefix(head, h) for h in self.heads), reverse=True)
        return shared[HITS - 1] if len(shared) >= HITS and shared[HITS - 1] >= 3 else 0


class Boilerplate:
    """Feed memories, least recently used forgotten past FEEDS."""

    def __init__(self) -> None:
        self._feeds: OrderedDict[str, FeedMemory] = OrderedDict()

    def feed(self, key: str) -> FeedMemory:
        """The memory of feed `key`, created on first use."""
        memory = self._feeds.get(key)
        if memory is None:
            memory = self._feeds[key] = FeedMemory()
            if len(self._feeds) > FEEDS:
                self._feeds.popitem(last=False)
        else:
            self._feeds.move_to_end(key)
        return memory


def _short(segment: str) -> bool:
    return 0 < len(segment.split()) <= _MAX_AFFIX_WORDS


def _edition(
    words: frozenset[str],
    figures: frozenset[str],
    earlier: tuple[str, ...],
    before: tuple[str, ...],
) -> bool:
    shared = sum(1 for w in earlier if w in words)
    overlap = shared / (len(words) + len(earlier) - shared)
    other_figures = bool(figures) and bool(before) and figures != frozenset(before)
    return overlap >= 0.8 or (overlap >= 0.5 and other_figures)


def _common_prefix(a: tuple[str, ...], b: tuple[str, ...]) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def _cut_head(text: str, words: int) -> str:
    """Drop up to `words` opening words, ending at a separator or after date-like words."""
    matches = list(_WORD.finditer(text))[:words]
    best = 0
    for n, match in enumerate(matches, start=1):
        datey = all(m.group().lower() in _DATEY or m.group().isdigit() for m in matches[:n])
        if datey or _SEPARATOR.match(text[match.end() :]):
            best = n
    if not best:
        return text
    return _AFTER_CUT.sub("", text[matches[best - 1].end() :], count=1)


def _shingles(sentence: str) -> frozenset[int]:
    """Stable hashes of the sentence's runs of four words (crc32: the same in every process)."""
    words = _WORD.findall(shape(sentence))
    runs = (" ".join(words[i : i + _SHINGLE]) for i in range(max(1, len(words) - _SHINGLE + 1)))
    return frozenset(zlib.crc32(run.encode()) for run in runs if run)
