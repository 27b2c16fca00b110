"""Pure rendering of neutral messages into Telegram HTML chunks and inline keyboards."""

from __future__ import annotations

import html
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions

from bot.core.display import (
    OUTLET_NAME_LIMIT,
    OUTLETS_SHOWN,
    digest_note,
    neutralise_bidi,
    outlets_label,
    story_outlets,
)
from bot.core.models import (
    AlertMessage,
    DigestItem,
    DigestMessage,
    Highlight,
    NoticeMessage,
    OutboundMessage,
    StoryView,
    UpdateMessage,
)
from bot.services.chat.ports import Button, CommandReply

log = logging.getLogger(__name__)

PARSE_MODE = "HTML"
MAX_TEXT = 4096  # sendMessage/editMessageText limit
MAX_CALLBACK_BYTES = 64  # Bot API limit for callback_data
MAX_HREF = 1000  # longer links are shown unlinked; keeps an alert inside one message
MAX_SPANS = 20  # bold spans kept per snippet (each costs 7 characters of tags)

# Escaped-length budgets per alert part. Their sum (with tags and line breaks) stays under
# MAX_TEXT, so an alert is always ONE message and editing it by reference is always possible.
HEADLINE_BUDGET = 300
SUMMARY_BUDGET = 1000
SNIPPET_BUDGET = 800
SOURCES_BUDGET = 500
DIGEST_SUMMARY_BUDGET = 400


@dataclass(frozen=True, slots=True)
class TelegramText:
    """A rendered message: HTML chunks (each ≤ MAX_TEXT) sent in order; buttons go on the first."""

    chunks: tuple[str, ...]
    keyboard: InlineKeyboardMarkup | None = None
    link_previews: bool = False

    @property
    def link_preview_options(self) -> LinkPreviewOptions:
        return LinkPreviewOptions(is_disabled=not self.link_previews)


def tg_len(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units); never less than len(text)."""
    return len(text.encode("utf-16-le")) // 2


def escape(text: str) -> str:
    return html.escape(text, quote=False)


def _char_cost(char: str) -> int:
    return tg_len(escape(char))


def _prefix_fitting(text: str, budget: int) -> int:
    """How many characters of `text` fit in `budget` once escaped."""
    used = 0
    for index, char in enumerate(text):
        used += _char_cost(char)
        if used > budget:
            return index
    return len(text)


def clip(text: str, budget: int) -> str:
    """Escaped `text`, cut with an ellipsis so the result is at most `budget` long."""
    text = " ".join(text.split())
    if tg_len(escape(text)) <= budget:
        return escape(text)
    return escape(text[: _prefix_fitting(text, budget - 1)].rstrip()) + "…"


def split_escaped(text: str, budget: int) -> list[str]:
    """Split plain `text` into escaped pieces ≤ `budget`, preferring whitespace boundaries.

    Splitting happens before escaping so a piece never ends inside an entity like "&amp;".
    """
    pieces: list[str] = []
    while text:
        cut = _prefix_fitting(text, budget)
        if cut < len(text):
            space = text.rfind(" ", 0, cut + 1)
            cut = space if space > cut // 2 else max(cut, 1)
        pieces.append(escape(text[:cut]))
        text = text[cut:].lstrip(" ")
    return pieces


def safe_href(url: str) -> str | None:
    """The escaped attribute value, or None when the link must not be rendered.

    Only http(s) is linked: Telegram rejects a whole message over an odd scheme, and
    `javascript:` from a hostile feed must never become clickable.
    """
    href = html.escape(url.strip(), quote=True)
    if urlsplit(url.strip()).scheme.lower() not in ("http", "https") or len(href) > MAX_HREF:
        return None
    return href


def link(url: str, label_html: str) -> str:
    href = safe_href(url)
    return f'<a href="{href}">{label_html}</a>' if href else label_html


def pack(blocks: Sequence[str], limit: int = MAX_TEXT) -> tuple[str, ...]:
    """Join self-contained HTML blocks with line breaks into as few chunks ≤ `limit` as possible.

    Each block is valid HTML on its own, so cutting between blocks never breaks a tag or
    an entity. An empty block is a blank line; chunks never start or end with one.
    """
    chunks: list[list[str]] = [[]]
    size = 0
    for block in blocks:
        if tg_len(block) > limit:
            raise ValueError(f"block of {tg_len(block)} exceeds {limit}: split it before packing")
        if chunks[-1] and size + 1 + tg_len(block) > limit:
            chunks.append([])
        size = tg_len(block) if not chunks[-1] else size + 1 + tg_len(block)
        chunks[-1].append(block)
    joined = ("\n".join(chunk).strip("\n") for chunk in chunks)
    return tuple(chunk for chunk in joined if chunk) or ("…",)


def paragraph_blocks(text: str, budget: int = MAX_TEXT) -> list[str]:
    """Plain multi-line text as escaped blocks, long lines split safely."""
    blocks: list[str] = []
    for line in text.splitlines():
        blocks.extend(split_escaped(line, budget) if line.strip() else [""])
    return blocks


def callback_data(prefix: str, story_id: str) -> str | None:
    """Button data "prefix:story_id", or None when it would exceed Telegram's 64 bytes.

    Story ids are ≤ 40 ASCII characters, so "sources:" + id is at most 48 bytes. An id that
    does not fit is never truncated: a cut id could name no story (or another one), so the
    button is left out instead.
    """
    data = f"{prefix}:{story_id}"
    if len(data.encode("utf-8")) > MAX_CALLBACK_BYTES:
        log.warning("button %r left out: callback data over %d bytes", prefix, MAX_CALLBACK_BYTES)
        return None
    return data


def keyboard(buttons: Iterable[Button], per_row: int = 1) -> InlineKeyboardMarkup | None:
    """Inline keyboard for neutral buttons; buttons whose data does not fit are left out."""
    valid = [b for b in buttons if 0 < len(b.data.encode("utf-8")) <= MAX_CALLBACK_BYTES]
    if not valid:
        return None
    rows = [valid[i : i + per_row] for i in range(0, len(valid), per_row)]
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(b.label, callback_data=b.data) for b in row] for row in rows]
    )


def story_buttons(story: StoryView, *, sources: bool = True) -> tuple[Button, ...]:
    wanted = [("Mute story", "mute")]
    if sources:
        wanted.append((f"Sources ({len(story.sources)})", "sources"))
    pairs = ((label, callback_data(prefix, story.story_id)) for label, prefix in wanted)
    return tuple(Button(label, data) for label, data in pairs if data)


def bold_spans(highlight: Highlight, budget: int = SNIPPET_BUDGET) -> str:
    """The snippet, escaped, with its highlight spans in <b>; cut to fit `budget`."""
    text = highlight.text
    end_text = _prefix_fitting(text, budget - 1)
    spans = sorted((max(0, s), min(e, end_text)) for s, e in highlight.spans if s < end_text)
    out: list[str] = []
    cursor = 0
    for start, end in spans[:MAX_SPANS]:
        if start < cursor or end <= start:
            continue  # overlapping or empty span: its text is already out, or there is none
        out.append(escape(text[cursor:start]) + "<b>" + escape(text[start:end]) + "</b>")
        cursor = end
    out.append(escape(text[cursor:end_text]))
    return "".join(out) + ("…" if end_text < len(text) else "")


def sources_line(story: StoryView) -> str:
    """ "Sources: A, B, C +2 more" (the Sources button lists them all, linked)."""
    return clip("Sources: " + story_outlets(story), SOURCES_BUDGET)


def update_sources_line(message: UpdateMessage) -> str:
    """The development's outlet first, linked to its report, then the story's others."""
    own = message.source
    first = link(own.url, clip(own.name.strip() or "report", OUTLET_NAME_LIMIT))
    others = outlets_label(
        (s.name for s in message.story.sources if s.name != own.name), OUTLETS_SHOWN - 1
    )
    return "Sources: " + first + (", " + clip(others, SOURCES_BUDGET) if others else "")


def headline(story: StoryView) -> str:
    return "<b>" + link(story.url, clip(story.headline, HEADLINE_BUDGET)) + "</b>"


def alert_blocks(message: AlertMessage) -> list[str]:
    """Headline, outlets, summary, snippet: the outlets come second so that a phone's
    notification, which shows only the first lines, names them."""
    story = message.story
    blocks = [headline(story)]
    if story.sources:
        blocks.append(sources_line(story))
    if story.summary.strip():
        blocks.append(clip(story.summary, SUMMARY_BUDGET))
    if message.highlight.text.strip():
        blocks += ["", "<i>" + bold_spans(message.highlight) + "</i>"]
    return blocks


def update_blocks(message: UpdateMessage) -> list[str]:
    blocks = ["<b>Update:</b> " + clip(message.whats_new, SUMMARY_BUDGET)]
    blocks.append(update_sources_line(message))
    if message.highlight.text.strip():
        blocks.append("<i>" + bold_spans(message.highlight) + "</i>")
    return blocks


def digest_item(item: DigestItem) -> str:
    note = digest_note(item)
    line = "• " + link(item.url, clip(item.headline, HEADLINE_BUDGET))
    if item.summary.strip():
        line += " — " + clip(item.summary, DIGEST_SUMMARY_BUDGET)
    return line + (" (" + clip(note, SOURCES_BUDGET) + ")" if note else "")


def digest_blocks(message: DigestMessage) -> list[str]:
    blocks = ["<b>" + clip(message.title, HEADLINE_BUDGET) + "</b>"]
    for section in message.sections:
        blocks += ["", "<b>" + clip(section.title, HEADLINE_BUDGET) + "</b>"]
        blocks += [digest_item(item) for item in section.items]
    if not message.sections:
        blocks += ["", "Nothing new matched your watchlist."]
    if message.more:
        blocks += ["", f"…and {message.more} more."]
    return blocks


def notice_blocks(message: NoticeMessage) -> list[str]:
    blocks = paragraph_blocks(message.text)
    stories = ["• " + link(s.url, clip(s.headline, HEADLINE_BUDGET)) for s in message.stories]
    return blocks + (["", *stories] if stories else [])


def render(message: OutboundMessage, *, link_previews: bool = False) -> TelegramText:
    """Telegram HTML for any outbound message; every piece of feed text is escaped, and bidi
    controls in it cannot spoof the message."""
    buttons: tuple[Button, ...] = ()
    if isinstance(message, AlertMessage):
        blocks, buttons = alert_blocks(message), story_buttons(message.story)
    elif isinstance(message, UpdateMessage):
        blocks, buttons = update_blocks(message), story_buttons(message.story, sources=False)
    elif isinstance(message, DigestMessage):
        blocks = digest_blocks(message)
    else:
        blocks = notice_blocks(message)
    chunks = tuple(neutralise_bidi(chunk) for chunk in pack(blocks))
    return TelegramText(chunks, keyboard(buttons, per_row=2), link_previews)


def render_reply(reply: CommandReply) -> TelegramText:
    """A command answer: plain text escaped, one button per row."""
    chunks = tuple(neutralise_bidi(chunk) for chunk in pack(paragraph_blocks(reply.text)))
    return TelegramText(chunks, keyboard(reply.buttons))
