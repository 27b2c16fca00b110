"""Pure Block Kit rendering of neutral messages and command replies for Slack.

Every message has a plain `text` besides its blocks: Slack shows it in notifications and
screen readers read it, so it names the story's outlets too ("headline — A, B +1 more").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.core.display import digest_note, neutralise_bidi, story_outlets, update_outlets
from bot.core.models import (
    AlertMessage,
    DigestItem,
    DigestMessage,
    DigestSection,
    NoticeMessage,
    OutboundMessage,
    Source,
    StoryView,
    UpdateMessage,
)
from bot.services.chat.ports import Button, CommandReply
from bot.slack.mrkdwn import (
    HEADLINE_LIMIT,
    MAX_BLOCKS,
    Block,
    actions,
    context,
    escape,
    escaped_clip,
    highlight_mrkdwn,
    link,
    one_line,
    pack,
    section,
    split_text,
)

FALLBACK_LIMIT = 3000  # notification text; Slack allows more, nobody reads more
SUMMARY_LIMIT = 1200
DIGEST_SUMMARY_LIMIT = 300
MAX_LISTED_SOURCES = 10
SNIPPET_LIMIT = 2900


@dataclass(frozen=True, slots=True)
class SlackMessage:
    """A message ready for chat.postMessage/chat.update: fallback `text` plus `blocks`."""

    text: str
    blocks: list[Block]


def render(message: OutboundMessage) -> SlackMessage:
    """Block Kit for any outbound message; bidi controls in feed text cannot spoof it."""
    if isinstance(message, AlertMessage):
        return neutralised(render_alert(message))
    if isinstance(message, UpdateMessage):
        return neutralised(render_update(message))
    if isinstance(message, DigestMessage):
        return neutralised(render_digest(message))
    return neutralised(render_notice(message))


def neutralised(message: SlackMessage) -> SlackMessage:
    """The message with `neutralise_bidi` applied to its text and every string in its blocks."""
    blocks: list[Block] = _neutralise_strings(message.blocks)
    return SlackMessage(neutralise_bidi(message.text), blocks)


def _neutralise_strings(node: Any) -> Any:
    if isinstance(node, str):
        return neutralise_bidi(node)
    if isinstance(node, dict):
        return {key: _neutralise_strings(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_neutralise_strings(item) for item in node]
    return node


def with_outlets(lead: str, outlets: str) -> str:
    """Notification text: `lead` on one line, cut to HEADLINE_LIMIT, then " — outlets".

    Outlet labels are bounded (see `outlets_label`), so this stays far inside FALLBACK_LIMIT.
    """
    tail = f" — {escape(outlets)}" if outlets else ""
    return escaped_clip(" ".join(lead.split()), HEADLINE_LIMIT) + tail


def render_alert(message: AlertMessage) -> SlackMessage:
    """Headline link, summary, highlighted snippet, sources and the story's buttons."""
    story = message.story
    blocks = [section(_story_text(story))]
    if message.highlight.text:
        blocks.append(section("> " + highlight_mrkdwn(one_line(message.highlight), SNIPPET_LIMIT)))
    blocks.append(context(_sources_line(story.sources)))
    buttons = (
        Button("Mute story", f"mute:{story.story_id}"),
        Button("Sources", f"sources:{story.story_id}"),
    )
    blocks.extend(actions(buttons))
    return SlackMessage(with_outlets(story.headline, story_outlets(story)), blocks)


def render_update(message: UpdateMessage) -> SlackMessage:
    """A threaded "Update:" with what is new and where it came from."""
    story = message.story
    head = f"*Update:* {link(story.url, story.headline)}"
    body = escaped_clip(message.whats_new, SUMMARY_LIMIT)
    blocks = [section(f"{head}\n{body}" if body else head)]
    if message.highlight.text:
        blocks.append(section("> " + highlight_mrkdwn(one_line(message.highlight), SNIPPET_LIMIT)))
    others = [s for s in story.sources if s.name != message.source.name]
    blocks.append(context(_sources_line((message.source, *others))))
    lead = f"Update: {story.headline}: {message.whats_new}"
    return SlackMessage(with_outlets(lead, update_outlets(message)), blocks)


def render_digest(message: DigestMessage) -> SlackMessage:
    """Title, then one packed list per section, within the block cap."""
    blocks = [section(f"*{escaped_clip(message.title, HEADLINE_LIMIT)}*")]
    room = MAX_BLOCKS - 2  # title + a possible "and N more" line
    dropped = message.more
    for digest_section in message.sections:
        lines = _digest_lines(digest_section)
        groups = pack([f"*{escaped_clip(digest_section.title, HEADLINE_LIMIT)}*", *lines])
        kept = groups[: max(room, 0)]
        blocks.extend(section("\n".join(group)) for group in kept)
        room -= len(kept)
        shown = sum(len(group) for group in kept) - (1 if kept else 0)  # minus the title
        dropped += len(lines) - shown
    if dropped:
        blocks.append(context(f"…and {dropped} more"))
    return SlackMessage(escaped_clip(message.title, HEADLINE_LIMIT), blocks)


def _digest_lines(digest_section: DigestSection) -> list[str]:
    return [_digest_line(item) for item in digest_section.items]


def _digest_line(item: DigestItem) -> str:
    note = digest_note(item)
    tail = f" ({escape(note)})" if note else ""
    summary = escaped_clip(item.summary, DIGEST_SUMMARY_LIMIT)
    return f"• {link(item.url, item.headline)}{tail}" + (f"\n{summary}" if summary else "")


def render_notice(message: NoticeMessage) -> SlackMessage:
    """Plain text, then the stories it mentions as links."""
    lines = [f"• {link(story.url, story.headline)}" for story in message.stories]
    groups = pack(split_text(message.text) + lines)[:MAX_BLOCKS]
    blocks = [section("\n".join(group)) for group in groups]
    return SlackMessage(escaped_clip(message.text, FALLBACK_LIMIT), blocks)


def render_reply(reply: CommandReply) -> SlackMessage:
    """A command answer: escaped text, and its buttons as an actions block."""
    groups = pack(split_text(reply.text))[: MAX_BLOCKS - 2]
    blocks = [section("\n".join(group)) for group in groups]
    if reply.file is not None:
        blocks.extend(
            _snippet(reply.file.data.decode("utf-8", "replace"), MAX_BLOCKS - 2 - len(blocks))
        )
    blocks.extend(actions(reply.buttons))
    return neutralised(SlackMessage(escaped_clip(reply.text, FALLBACK_LIMIT), blocks))


def _snippet(text: str, room: int) -> list[Block]:
    """A file shown in the reply as preformatted sections (Slack: a snippet), cut with a note
    when it is longer than a message can hold."""
    lines = [escaped_clip(line, SNIPPET_LIMIT - 8) for line in text.splitlines()]
    groups = pack(lines, SNIPPET_LIMIT - 8)
    shown = [section("```" + "\n".join(g) + "```") for g in groups[: max(room - 1, 0)]]
    if len(groups) > len(shown):
        shown.append(context("Too long to show in full here; `storywatch opml export` prints it."))
    return shown


def _story_text(story: StoryView) -> str:
    head = f"*{link(story.url, story.headline)}*"
    summary = escaped_clip(story.summary, SUMMARY_LIMIT)
    return f"{head}\n{summary}" if summary else head


def _sources_line(sources: Sequence[Source]) -> str:
    names = [link(source.url, source.name, 80) for source in sources[:MAX_LISTED_SOURCES]]
    extra = len(sources) - MAX_LISTED_SOURCES
    if extra > 0:
        names.append(f"+{extra} more")
    return "Sources: " + (", ".join(names) if names else "none")
