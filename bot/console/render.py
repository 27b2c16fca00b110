"""Renders neutral messages as terminal text (matched words in **bold**)."""

from __future__ import annotations

from bot.core.display import digest_note, neutralise_bidi, story_outlets, update_outlets
from bot.core.models import (
    AlertMessage,
    DigestMessage,
    Highlight,
    NoticeMessage,
    OutboundMessage,
    UpdateMessage,
)
from bot.services.chat.ports import CommandReply


def bold_spans(highlight: Highlight, on: str = "**", off: str = "**") -> str:
    """The snippet with each span wrapped in the bold markers."""
    out, at = [], 0
    for start, end in sorted(highlight.spans):
        if start < at:
            continue
        out += [highlight.text[at:start], on, highlight.text[start:end], off]
        at = end
    out.append(highlight.text[at:])
    return "".join(out)


def neutralised(lines: list[str]) -> list[str]:
    """The lines with bidi controls from feed text neutralised (see `neutralise_bidi`)."""
    return [neutralise_bidi(line) for line in lines]


def render_alert(message: AlertMessage) -> list[str]:
    story = message.story
    lines = [f"{story.headline}", f"  Sources: {story_outlets(story)}", f"  {story.url}"]
    if story.summary:
        lines.append(f"  {story.summary}")
    if message.highlight.text:
        lines.append(f"  Matched: {bold_spans(message.highlight)}")
    lines.append(f"  [Mute story]  [Sources ({len(story.sources)})]  story={story.story_id}")
    return neutralised(lines)


def render_update(message: UpdateMessage) -> list[str]:
    return neutralised(
        [
            f"Update: {message.story.headline}",
            f"  Sources: {update_outlets(message)}",
            f"  What's new: {message.whats_new}",
            f"  From {message.source.name}: {message.source.url}",
        ]
    )


def render_digest(message: DigestMessage) -> list[str]:
    lines = [message.title]
    for section in message.sections:
        lines.append(f"  {section.title}")
        for item in section.items:
            note = digest_note(item)
            lines.append(f"   • {item.headline}" + (f" ({note})" if note else ""))
            lines.append(f"     {item.url}")
            if item.summary:
                lines.append(f"     {item.summary}")
    if message.more:
        lines.append(f"  …and {message.more} more")
    return neutralised(lines)


def render(message: OutboundMessage) -> list[str]:
    """Terminal lines for any outbound message; bidi controls in feed text cannot spoof them."""
    if isinstance(message, AlertMessage):
        return render_alert(message)
    if isinstance(message, UpdateMessage):
        return render_update(message)
    if isinstance(message, DigestMessage):
        return render_digest(message)
    assert isinstance(message, NoticeMessage)
    return neutralised([message.text, *(f"  • {s.headline} {s.url}" for s in message.stories)])


def render_reply(reply: CommandReply) -> list[str]:
    """A command reply, with buttons shown as [label] (press with /press DATA)."""
    buttons = "  ".join(f"[{b.label} → /press {b.data}]" for b in reply.buttons)
    lines = [*reply.text.splitlines(), *([buttons] if buttons else [])]
    if reply.file is not None:  # the terminal shows the file itself, ready to copy
        lines += [
            f"--- {reply.file.name} ---",
            *reply.file.data.decode("utf-8", "replace").splitlines(),
        ]
    return neutralised(lines)
