"""Slack mrkdwn and Block Kit pieces: escaping, safe links, bold highlights, block limits."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from bot.core.models import Highlight
from bot.services.chat.ports import Button

SECTION_LIMIT = 3000  # Block Kit: a section's text
MAX_BLOCKS = 50  # Block Kit: blocks per message
HEADLINE_LIMIT = 300
BUTTON_LABEL_LIMIT = 75
ACTION_ID_LIMIT = 255
BUTTON_VALUE_LIMIT = 2000
BUTTONS_PER_ACTIONS = 25
URL_LIMIT = 1400  # keeps headline link + summary inside one section's 3000 chars

Block = dict[str, Any]

# Slack treats only these three as control characters in mrkdwn; everything else is literal.
_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
# Characters that would end or split a `<url|label>` link, or that Slack refuses in URLs.
_URL_UNSAFE = re.compile(r"[\s<>|\"]")
_SAFE_SCHEMES = ("http://", "https://")


def escape(text: str) -> str:
    """Escape feed or user text so Slack shows it literally (no pings, no fake links)."""
    return "".join(_ESCAPES.get(ch, ch) for ch in text)


def escaped_clip(text: str, limit: int) -> str:
    """`escape(text)`, cut at a character boundary so the result is at most `limit` chars."""
    full = escape(text)
    if len(full) <= limit:
        return full
    out: list[str] = []
    used = 0
    for ch in text:
        piece = _ESCAPES.get(ch, ch)
        if used + len(piece) > limit - 1:  # room for the ellipsis
            break
        out.append(piece)
        used += len(piece)
    return "".join(out).rstrip() + "…"


def safe_url(url: str) -> str | None:
    """The URL made safe inside `<...|...>`, or None if it is not a plain web link."""
    url = url.strip()
    if not url.lower().startswith(_SAFE_SCHEMES):
        return None  # javascript:, slack:// or relative links are never made clickable
    quoted = _URL_UNSAFE.sub(lambda m: f"%{ord(m.group()):02X}", url)
    return quoted.replace("&", "&amp;")


def link(url: str, label: str, limit: int = HEADLINE_LIMIT) -> str:
    """A Slack link `<url|label>`; just the escaped label when the URL is unusable."""
    text = escaped_clip(label, limit) or escape(url[:limit])
    target = safe_url(url)
    if target is None or len(target) > URL_LIMIT:
        return text
    return f"<{target}|{text}>"


def highlight_mrkdwn(highlight: Highlight, limit: int) -> str:
    """The snippet escaped, with its spans in *bold*, at most `limit` chars."""
    out: list[str] = []
    budget = limit
    for raw, bold in _segments(highlight):
        marks = 2 if bold else 0
        piece = escaped_clip(raw, budget - marks)
        if not piece:
            break
        out.append(f"*{piece}*" if bold else piece)
        budget -= len(piece) + marks
        if piece.endswith("…") and not raw.endswith("…"):
            break
    return "".join(out)


def _segments(highlight: Highlight) -> list[tuple[str, bool]]:
    """Split the snippet into (text, bold) runs along its normalised spans."""
    text = highlight.text
    runs: list[tuple[str, bool]] = []
    pos = 0
    for start, end in _bold_spans(text, highlight.spans):
        runs.append((text[pos:start], False))
        runs.append((text[start:end], True))
        pos = end
    runs.append((text[pos:], False))
    return [run for run in runs if run[0]]


def _bold_spans(text: str, spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Clamped, merged spans Slack can actually render in bold."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted((max(0, s), min(len(text), e)) for s, e in spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        elif start < end:
            merged.append((start, end))
    return [span for span in map(lambda s: _trim(text, s), merged) if _boldable(text, span)]


def _trim(text: str, span: tuple[int, int]) -> tuple[int, int]:
    # `* S-400*` is not bold in Slack: the markers must touch non-space characters.
    start, end = span
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _boldable(text: str, span: tuple[int, int]) -> bool:
    # Slack ignores `*` inside a word ("S-400*s*"), so such a span would show stray stars.
    start, end = span
    if start >= end or "*" in text[start:end]:
        return False
    before = text[start - 1] if start > 0 else " "
    after = text[end] if end < len(text) else " "
    return not before.isalnum() and not after.isalnum()


def one_line(highlight: Highlight) -> Highlight:
    # A newline would end the "> " quote; same length keeps the spans valid.
    flat = "".join(" " if ch in "\r\n" else ch for ch in highlight.text)
    return Highlight(flat, highlight.spans)


def split_text(text: str) -> list[str]:
    """Escaped lines of plain text, each within a section's limit."""
    return [escaped_clip(line, SECTION_LIMIT) for line in text.split("\n")]


def pack(lines: Sequence[str], limit: int = SECTION_LIMIT) -> list[list[str]]:
    """Group lines so each group, joined by newlines, fits in `limit` (lines are already short)."""
    groups: list[list[str]] = []
    size = 0
    for line in lines:
        if groups and size + 1 + len(line) <= limit:
            groups[-1].append(line)
            size += 1 + len(line)
        else:
            groups.append([line])
            size = len(line)
    return groups


def section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text or " "}}


def context(text: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text[:SECTION_LIMIT]}]}


def actions(buttons: Sequence[Button]) -> list[Block]:
    elements: list[Block] = []
    seen: set[str] = set()
    for index, button in enumerate(buttons):
        action_id = button.data[:ACTION_ID_LIMIT]
        if action_id in seen:  # Slack rejects a message with duplicate action_ids
            action_id = f"{action_id[: ACTION_ID_LIMIT - 6]}#{index}"
        seen.add(action_id)
        elements.append(_button(button, action_id))
    return [
        {"type": "actions", "elements": elements[i : i + BUTTONS_PER_ACTIONS]}
        for i in range(0, len(elements), BUTTONS_PER_ACTIONS)
    ]


def _button(button: Button, action_id: str) -> Block:
    return {
        "type": "button",
        "text": {"type": "plain_text", "text": button.label[:BUTTON_LABEL_LIMIT] or "?"},
        "action_id": action_id,
        "value": button.data[:BUTTON_VALUE_LIMIT],
    }
