"""Slack Block Kit rendering: escaping hostile feed text, bold highlights, sources, limits."""

from __future__ import annotations

import re
from typing import Any

from bot.core.display import OUTLET_NAME_LIMIT
from bot.core.models import (
    AlertMessage,
    DigestItem,
    DigestMessage,
    DigestSection,
    Highlight,
    NoticeMessage,
    Source,
    StoryView,
    UpdateMessage,
)
from bot.services.chat.ports import Button, CommandReply
from bot.slack.mrkdwn import MAX_BLOCKS, SECTION_LIMIT, highlight_mrkdwn, link
from bot.slack.render import FALLBACK_LIMIT, SlackMessage, render, render_reply

SOURCES = (
    Source("BulgarianMilitary", "https://bulgarianmilitary.com/s400"),
    Source("RFE/RL", "https://www.rferl.org/a/s400.html"),
)


def story(**changes: Any) -> StoryView:
    fields: dict[str, Any] = {
        "story_id": "st-42",
        "headline": "S-400 battery moved to Kursk",
        "url": "https://bulgarianmilitary.com/s400",
        "summary": "Satellite images show the launchers.",
        "sources": SOURCES,
    }
    return StoryView(**(fields | changes))


def alert(**changes: Any) -> SlackMessage:
    highlight = Highlight("New S-400 launchers seen near Kursk", ((4, 9),))
    return render(AlertMessage(story(**changes), highlight, ("S-400",)))


def all_texts(message: SlackMessage) -> list[str]:
    found: list[str] = [message.text]

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                found.extend([value] if key == "text" and isinstance(value, str) else [])
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(message.blocks)
    return found


def test_hostile_headline_cannot_ping_or_fake_a_link() -> None:
    message = alert(headline="<!channel> Big news & <https://evil.example|bbc.co.uk>")
    for text in all_texts(message):
        assert "<!channel>" not in text
        assert "<https://evil.example" not in text
    assert (
        "&lt;!channel&gt; Big news &amp; &lt;https://evil.example|bbc.co.uk&gt;"
        in (message.blocks[0]["text"]["text"])
    )
    assert message.text.startswith("&lt;!channel&gt; Big news &amp;")


def test_summary_ampersand_and_angle_brackets_are_escaped() -> None:
    message = alert(summary="AT&T says <b>no</b> comment")
    assert "AT&amp;T says &lt;b&gt;no&lt;/b&gt; comment" in message.blocks[0]["text"]["text"]


def test_headline_links_to_the_story() -> None:
    first = alert().blocks[0]["text"]["text"]
    assert first.startswith("*<https://bulgarianmilitary.com/s400|S-400 battery moved to Kursk>*")


def test_pipe_or_angle_bracket_in_url_cannot_break_the_link() -> None:
    rendered = link("https://ex.example/a|b>c?x=1&y=2", "Title")
    assert rendered == "<https://ex.example/a%7Cb%3Ec?x=1&amp;y=2|Title>"
    assert re.fullmatch(r"<[^<>|]+\|[^<>|]+>", rendered)


def test_non_web_url_is_shown_as_text_not_link() -> None:
    assert link("javascript:alert(1)", "Click") == "Click"


def test_matched_words_are_bold_in_the_snippet() -> None:
    snippet = alert().blocks[1]["text"]["text"]
    assert snippet == "> New *S-400* launchers seen near Kursk"


def test_bold_spans_are_merged_clamped_and_escaped() -> None:
    text = "Rockets & S-400 <air defence>"
    shown = highlight_mrkdwn(Highlight(text, ((10, 13), (12, 15), (16, 99))), 3000)
    assert shown == "Rockets &amp; *S-400* *&lt;air defence&gt;*"


def test_span_inside_a_word_is_not_bolded() -> None:
    # Slack shows stray asterisks for intraword bold, so the word stays plain.
    assert highlight_mrkdwn(Highlight("two S-400s left", ((4, 9),)), 3000) == "two S-400s left"


def test_span_with_surrounding_spaces_still_renders_bold() -> None:
    assert highlight_mrkdwn(Highlight("the S-400 unit", ((3, 10),)), 3000) == "the *S-400* unit"


def test_sources_are_listed_in_a_context_block() -> None:
    context = alert().blocks[2]
    assert context["type"] == "context"
    assert context["elements"][0]["text"] == (
        "Sources: <https://bulgarianmilitary.com/s400|BulgarianMilitary>, "
        "<https://www.rferl.org/a/s400.html|RFE/RL>"
    )


def test_alert_has_mute_and_sources_buttons() -> None:
    actions = alert().blocks[-1]
    assert actions["type"] == "actions"
    buttons = [(b["text"]["text"], b["action_id"], b["value"]) for b in actions["elements"]]
    assert buttons == [
        ("Mute story", "mute:st-42", "mute:st-42"),
        ("Sources", "sources:st-42", "sources:st-42"),
    ]


def test_notification_text_names_the_story_and_its_outlets() -> None:
    assert alert().text == "S-400 battery moved to Kursk — BulgarianMilitary, RFE/RL"


def test_notification_text_names_three_outlets_then_counts_the_rest() -> None:
    many = tuple(Source(f"Outlet <{n}>", f"https://o{n}.example/") for n in range(7))
    text = alert(sources=many).text
    assert text.endswith(" — Outlet &lt;0&gt;, Outlet &lt;1&gt;, Outlet &lt;2&gt; +4 more")


def test_notification_text_keeps_the_outlets_whatever_the_feed_sends() -> None:
    huge = tuple(Source("&" * 5000 + str(n), "https://e.example/") for n in range(200))
    text = alert(headline="<" * 5000, sources=huge).text
    assert len(text) <= FALLBACK_LIMIT and text.endswith(" +197 more")
    assert text.count("&amp;") == 3 * (OUTLET_NAME_LIMIT - 1)


def test_huge_feed_text_stays_within_block_kit_limits() -> None:
    highlight = Highlight("&" * 10_000, ((0, 5),))
    message = render(AlertMessage(story(summary="<" * 10_000, headline="&" * 5000), highlight))
    for block in message.blocks:
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= SECTION_LIMIT
    assert "&amp" not in message.blocks[0]["text"]["text"].replace("&amp;", "")


def test_update_is_labelled_and_shows_what_is_new() -> None:
    message = render(
        UpdateMessage(story(), "Second battery confirmed by the ministry.", SOURCES[1])
    )
    first = message.blocks[0]["text"]["text"]
    assert first.startswith("*Update:* <https://bulgarianmilitary.com/s400|S-400 battery")
    assert "Second battery confirmed by the ministry." in first
    assert message.blocks[-1]["elements"][0]["text"] == (
        "Sources: <https://www.rferl.org/a/s400.html|RFE/RL>, "
        "<https://bulgarianmilitary.com/s400|BulgarianMilitary>"
    )
    assert message.text == (
        "Update: S-400 battery moved to Kursk: Second battery confirmed by the ministry."
        " — RFE/RL, BulgarianMilitary"
    )


def test_digest_is_capped_at_fifty_blocks_with_an_and_more_line() -> None:
    items = tuple(
        DigestItem(f"Story {n} " + "x" * 200, f"https://ex.example/{n}", "y" * 300, 2, 0)
        for n in range(400)
    )
    message = render(DigestMessage("Your morning digest", (DigestSection("S-400", items),), 3))
    assert len(message.blocks) <= MAX_BLOCKS
    shown = sum(text.count("• <https://ex.example/") for text in all_texts(message))
    assert message.blocks[-1]["elements"][0]["text"] == f"…and {400 - shown + 3} more"
    assert all(len(t) <= SECTION_LIMIT for t in all_texts(message))


def test_small_digest_lists_every_story_with_its_outlets() -> None:
    outlets = ("Reuters", "A & P", "BBC", "DW")
    item = DigestItem("Kursk <update>", "https://ex.example/1", "Short.", 4, 1, outlets)
    message = render(DigestMessage("Digest", (DigestSection("Air defence", (item,)),)))
    body = message.blocks[1]["text"]["text"]
    assert body == (
        "*Air defence*\n• <https://ex.example/1|Kursk &lt;update&gt;>"
        " (Reuters, A &amp; P, BBC +1 more; 1 update)\nShort."
    )


def test_a_digest_queued_before_outlets_were_stored_still_counts_them() -> None:
    item = DigestItem("Kursk", "https://ex.example/1", "", 3, 0)
    message = render(DigestMessage("Digest", (DigestSection("Air defence", (item,)),)))
    assert "<https://ex.example/1|Kursk> (3 sources)" in message.blocks[1]["text"]["text"]


def test_notice_links_the_held_stories() -> None:
    message = render(NoticeMessage("3 alerts were held during quiet hours", (story(),)))
    assert message.blocks[0]["text"]["text"] == (
        "3 alerts were held during quiet hours\n"
        "• <https://bulgarianmilitary.com/s400|S-400 battery moved to Kursk>"
    )


def test_command_reply_escapes_text_and_renders_buttons() -> None:
    reply = CommandReply(
        "Stop all alerts for #news & forget <rules>?", (Button("Yes", "stop:confirm"),)
    )
    message = render_reply(reply)
    assert (
        message.blocks[0]["text"]["text"] == "Stop all alerts for #news &amp; forget &lt;rules&gt;?"
    )
    assert message.blocks[1]["elements"][0]["value"] == "stop:confirm"


def test_long_command_reply_is_split_into_sections() -> None:
    lines = "\n".join(f"{n}. rule number {n} " + "z" * 80 for n in range(200))
    message = render_reply(CommandReply(lines))
    sections = [b["text"]["text"] for b in message.blocks]
    assert len(sections) > 1
    assert all(len(text) <= SECTION_LIMIT for text in sections)
    assert "\n".join(sections) == lines
