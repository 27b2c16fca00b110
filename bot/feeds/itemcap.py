"""A feed with more items than the bot reads is cut down BEFORE feedparser sees it.

feedparser builds every entry in memory: a 4 MB feed of 100,000 items took 12 CPU seconds and
~200 MB to parse, for items nobody will be alerted about. So when a document lists more than
`keep` items, only `keep` consecutive items at its newer end are passed on (feeds are sorted
by date one way or the other: the end whose item has the later date is the newer one; when
dates cannot be read, the start, which is the convention). The cut is made between sibling
<item>/<entry> elements, so the document stays well formed; the parser then keeps the
`keep` newest articles of whatever it read.
"""

from __future__ import annotations

import email.utils
import re
from datetime import UTC, datetime

_ITEM_START = re.compile(rb"<(?:item|entry)[\s>/]")
_ITEM_END = re.compile(rb"</(?:item|entry)\s*>")
_DATE = re.compile(
    rb"<(?:pubDate|published|updated|dc:date)\b[^>]*>\s*([^<]{1,80}?)\s*<", re.IGNORECASE
)


def cut_items(body: bytes, keep: int) -> bytes:
    """`body` with only `keep` items at its newer end, when it lists more than that."""
    starts = [m.start() for m in _ITEM_START.finditer(body)]
    if len(starts) <= keep:
        return body
    ends = [m.end() for m in _ITEM_END.finditer(body, starts[-1])]
    if not ends:
        return body  # not the shape we cut safely: let the parser read it all
    tail = ends[-1]
    if _newer_at_end(body, starts, tail):
        return body[: starts[0]] + body[starts[-keep] :]
    return body[: starts[keep]] + body[tail:]


def _newer_at_end(body: bytes, starts: list[int], tail: int) -> bool:
    first = _item_date(body[starts[0] : starts[1]])
    last = _item_date(body[starts[-1] : tail])
    return first is not None and last is not None and last > first


def _item_date(item: bytes) -> datetime | None:
    found = _DATE.search(item)
    if found is None:
        return None
    text = found.group(1).decode("latin-1").strip()
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        try:
            when = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when
