"""Display text every renderer shares: outlet lists, and bidi controls that cannot spoof."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from bot.console.render import render as console_render
from bot.console.render import render_digest as console_digest
from bot.console.render import render_reply as console_reply
from bot.core.display import digest_note, neutralise_bidi, outlets_label
from bot.core.models import (
    AlertMessage,
    DigestItem,
    DigestMessage,
    DigestSection,
    Highlight,
    NoticeMessage,
    OutboundMessage,
    Source,
    StoryView,
    UpdateMessage,
)
from bot.services.chat.ports import CommandReply
from bot.slack.render import render as slack_render
from bot.slack.render import render_reply as slack_reply
from bot.telegram.render import render as telegram_render
from bot.telegram.render import render_reply as telegram_reply

OVERRIDES = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
MARKS = "\u200e\u200f\u061c"


def test_outlets_are_named_up_to_three_then_counted() -> None:
    assert outlets_label([]) == ""
    assert outlets_label(["Reuters"]) == "Reuters"
    assert outlets_label(["Reuters", "AP", "BBC"]) == "Reuters, AP, BBC"
    assert outlets_label(["Reuters", "AP", "BBC", "DW", "AFP"]) == "Reuters, AP, BBC +2 more"


def test_outlets_are_distinct_one_line_and_bounded() -> None:
    assert outlets_label(["Reuters", " Reuters\n", "AP", "", "AP"]) == "Reuters, AP"
    label = outlets_label(["x" * 500] * 1 + ["y" * 500, "z" * 500, "w"])
    assert len(label) < 160 and label.endswith("… +1 more")


def test_digest_note_names_outlets_and_updates() -> None:
    item = DigestItem("h", "u", "s", 4, 2, ("A", "B", "C", "D"))
    assert digest_note(item) == "A, B, C +1 more; 2 updates"
    assert digest_note(DigestItem("h", "u", "s", 1, 0, ("A",))) == "A"
    assert digest_note(DigestItem("h", "u", "s", 3, 1)) == "3 sources; 1 update"  # old payload


@pytest.mark.parametrize("char", OVERRIDES + MARKS)
def test_bidi_controls_go_from_left_to_right_text(char: str) -> None:
    assert neutralise_bidi(f"Breaking: {char}gpj.exe files") == "Breaking: gpj.exe files"


def test_direction_marks_stay_where_right_to_left_writing_needs_them() -> None:
    arabic = "قال \u200f(رويترز)\u200f 2024 \u202eأمس"
    assert neutralise_bidi(arabic) == "قال \u200f(رويترز)\u200f 2024 أمس"
    mixed = f"{arabic}\nLatin \u200fline"
    assert neutralise_bidi(mixed).splitlines()[1] == "Latin line"  # judged line by line


def test_text_without_bidi_controls_is_returned_unchanged() -> None:
    text = "Çavuşoğlu: «S-400» 😀 עברית"
    assert neutralise_bidi(text) is text


# -- through every real renderer -------------------------------------------------------------
SPOOF = f"Fleet {OVERRIDES}gpj.exe{MARKS} sails"
STORY = StoryView(
    "st-1", SPOOF, "https://e.example/1", SPOOF, (Source(f"Out{OVERRIDES}let", "https://o.x"),)
)
MESSAGES: dict[str, OutboundMessage] = {
    "alert": AlertMessage(STORY, Highlight(SPOOF, ((0, 5),))),
    "update": UpdateMessage(STORY, SPOOF, Source(SPOOF, "https://o.x/2"), Highlight(SPOOF)),
    "digest": DigestMessage(
        SPOOF, (DigestSection(SPOOF, (DigestItem(SPOOF, "https://e.x", SPOOF, 2, 1, (SPOOF,)),)),)
    ),
    "notice": NoticeMessage(SPOOF, (STORY,)),
}


def _telegram(message: OutboundMessage) -> str:
    return "\n".join(telegram_render(message).chunks)


def _slack(message: OutboundMessage) -> str:
    rendered = slack_render(message)
    return rendered.text + json.dumps(rendered.blocks, ensure_ascii=False)


def _console(message: OutboundMessage) -> str:
    return "\n".join(console_render(message))


RENDERERS: dict[str, Callable[[OutboundMessage], str]] = {
    "telegram": _telegram,
    "slack": _slack,
    "console": _console,
}


@pytest.mark.parametrize("kind", MESSAGES)
@pytest.mark.parametrize("platform", RENDERERS)
def test_no_renderer_lets_a_bidi_control_through(platform: str, kind: str) -> None:
    shown = RENDERERS[platform](MESSAGES[kind])
    assert "gpj.exe" in shown
    assert not set(OVERRIDES + MARKS) & set(shown)


def test_command_replies_and_the_digest_preview_are_neutralised_too() -> None:
    reply = CommandReply(f"Watching #1: {SPOOF}")
    digest = MESSAGES["digest"]
    assert isinstance(digest, DigestMessage)
    shown = [
        "\n".join(telegram_reply(reply).chunks),
        slack_reply(reply).text + json.dumps(slack_reply(reply).blocks, ensure_ascii=False),
        "\n".join(console_reply(reply)),
        "\n".join(console_digest(digest)),  # `storywatch digest --dry-run` prints this
    ]
    assert all("gpj.exe" in text and not set(OVERRIDES + MARKS) & set(text) for text in shown)
