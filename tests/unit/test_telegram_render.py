"""Telegram rendering: escaping, bold spans, buttons, link previews and safe splitting."""

from __future__ import annotations

from dataclasses import replace
from html.parser import HTMLParser
from typing import Any

import pytest

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
from bot.telegram.render import MAX_TEXT, pack, render, render_reply, split_escaped, tg_len

ALLOWED_TAGS = {"b", "i", "a"}


class TagChecker(HTMLParser):
    """Fails on unbalanced or unexpected tags; collects visible text and bold runs."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []
        self.text = ""
        self.bold: list[str] = []
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        assert tag in ALLOWED_TAGS, f"unexpected tag <{tag}>"
        self.open.append(tag)
        self.hrefs += [v or "" for k, v in attrs if k == "href"]
        if tag == "b":
            self.bold.append("")

    def handle_endtag(self, tag: str) -> None:
        assert self.open and self.open[-1] == tag, f"unbalanced </{tag}> in {self.open}"
        self.open.pop()

    def handle_data(self, data: str) -> None:
        self.text += data
        if "b" in self.open:
            self.bold[-1] += data


def parsed(chunk: str) -> TagChecker:
    checker = TagChecker()
    checker.feed(chunk)
    checker.close()
    assert checker.open == [], f"unclosed tags {checker.open}"
    # A bare "&" that is not an entity would be rejected by Telegram's parser.
    assert "&" not in chunk.replace("&amp;", "").replace("&lt;", "").replace("&gt;", "").replace(
        "&quot;", ""
    ).replace("&#x27;", "")
    return checker


def story(**changes: Any) -> StoryView:
    base = StoryView(
        story_id="g:" + "a" * 32,
        headline="Russia moves S-400 to Crimea",
        url="https://example.com/s400?a=1&b=2",
        summary="Satellite images show the battery near Dzhankoi.",
        sources=(
            Source("BulgarianMilitary", "https://bulgarianmilitary.com/x"),
            Source("RFE/RL", "https://rferl.org/y"),
        ),
    )
    return replace(base, **changes)


def test_alert_shows_linked_headline_summary_bold_terms_and_sources() -> None:
    snippet = Highlight("The S-400 battery was seen near Dzhankoi.", spans=((4, 9), (32, 40)))
    out = render(AlertMessage(story(), snippet))

    assert len(out.chunks) == 1
    page = parsed(out.chunks[0])
    assert "Russia moves S-400 to Crimea" in page.text
    assert "Satellite images show the battery near Dzhankoi." in page.text
    assert page.bold[1:] == ["S-400", "Dzhankoi"]  # [0] is the headline
    assert page.hrefs[0] == "https://example.com/s400?a=1&b=2"
    # Second line, so that a phone's notification (the first lines) names the outlets.
    assert page.text.splitlines()[1] == "Sources: BulgarianMilitary, RFE/RL"


def test_alert_names_three_outlets_then_counts_the_rest() -> None:
    many = tuple(Source(f"Outlet {n}", f"https://o{n}.example/") for n in range(5))
    page = parsed(render(AlertMessage(story(sources=many), Highlight(""))).chunks[0])

    assert page.text.splitlines()[1] == "Sources: Outlet 0, Outlet 1, Outlet 2 +2 more"


def test_hostile_feed_text_is_escaped_not_interpreted() -> None:
    hostile = story(
        headline="<script>alert(1)</script> &amp; co",
        summary="Tom & Jerry <b>not bold</b>",
        url='https://evil.example/"><script>',
        sources=(Source("<i>Evil</i> & Sons", "https://e.example"),),
    )
    out = render(AlertMessage(hostile, Highlight("<a href='x'>click</a>")))

    page = parsed(out.chunks[0])  # only our own tags survive: the parser rejects any other
    assert "<script>alert(1)</script> &amp; co" in page.text
    assert "Tom & Jerry <b>not bold</b>" in page.text
    assert "<a href='x'>click</a>" in page.text
    assert "Sources: <i>Evil</i> & Sons" in page.text
    assert page.hrefs == ['https://evil.example/"><script>']


def test_non_web_links_are_not_made_clickable() -> None:
    out = render(AlertMessage(story(url="javascript:alert(1)"), Highlight("")))

    page = parsed(out.chunks[0])
    assert page.hrefs == []
    assert "Russia moves S-400 to Crimea" in page.text


def test_alert_buttons_mute_and_sources_with_data_within_64_bytes() -> None:
    out = render(AlertMessage(story(story_id="g:" + "f" * 38), Highlight("")))

    assert out.keyboard is not None
    buttons = [(b.text, b.callback_data) for row in out.keyboard.inline_keyboard for b in row]
    assert buttons == [
        ("Mute story", "mute:g:" + "f" * 38),
        ("Sources (2)", "sources:g:" + "f" * 38),
    ]
    assert all(len(str(data).encode()) <= 64 for _, data in buttons)


def test_a_story_id_too_long_for_callback_data_drops_buttons_instead_of_cutting_the_id() -> None:
    out = render(AlertMessage(story(story_id="é" * 40), Highlight("")))  # 80 bytes of UTF-8

    assert out.keyboard is None  # a cut id could point at another story
    assert "Russia moves S-400 to Crimea" in parsed(out.chunks[0]).text


def test_link_previews_off_unless_asked() -> None:
    message = AlertMessage(story(), Highlight(""))

    assert render(message).link_preview_options.is_disabled is True
    assert render(message, link_previews=True).link_preview_options.is_disabled is False


def test_update_starts_with_update_and_names_its_outlet_first_then_the_others() -> None:
    others = (*story().sources, Source("DW", "https://dw.example"), Source("AP", "https://ap.x"))
    message = UpdateMessage(
        story(sources=others), "Second battery spotted", Source("RFE/RL", "https://rferl.org/z")
    )
    page = parsed(render(message).chunks[0])

    assert page.text.splitlines()[:2] == [
        "Update: Second battery spotted",
        "Sources: RFE/RL, BulgarianMilitary, DW +1 more",
    ]
    assert page.hrefs == ["https://rferl.org/z"]  # the outlet's name links to its report


def test_digest_lists_sections_items_counts_and_more() -> None:
    outlets = ("Reuters", "<AP>", "BBC")
    item = DigestItem("S-400 in Crimea", "https://e.example/1", "Battery moved.", 3, 2, outlets)
    message = DigestMessage("Your digest — 21 Nov", (DigestSection("S-400", (item,)),), more=4)
    page = parsed(render(message).chunks[0])

    assert page.text.splitlines()[0] == "Your digest — 21 Nov"
    assert "• S-400 in Crimea — Battery moved. (Reuters, <AP>, BBC; 2 updates)" in page.text
    assert "and 4 more" in page.text


def test_notice_text_and_story_links() -> None:
    message = NoticeMessage("3 alerts held during quiet hours:", (story(),))
    page = parsed(render(message).chunks[0])

    assert page.text == "3 alerts held during quiet hours:\n\n• Russia moves S-400 to Crimea"


def test_long_digest_is_split_into_valid_chunks_without_losing_items() -> None:
    items = tuple(
        DigestItem(f"Story {n} <&>", f"https://e.example/{n}?x=1&y=2", "& " * 150, 2, 0)
        for n in range(60)
    )
    out = render(DigestMessage("Digest", (DigestSection("All", items),)))

    assert len(out.chunks) > 1
    assert all(tg_len(chunk) <= MAX_TEXT for chunk in out.chunks)
    text = "".join(parsed(chunk).text for chunk in out.chunks)
    assert all(f"Story {n} <&>" in text for n in range(60))


@pytest.mark.parametrize("filler", ["&", "a", "😀", "word & <tag> "])
def test_huge_notice_splits_before_escaping_so_no_entity_is_cut(filler: str) -> None:
    text = filler * 9000
    out = render(NoticeMessage(text))

    assert all(tg_len(chunk) <= MAX_TEXT for chunk in out.chunks)
    visible = "".join(parsed(chunk).text for chunk in out.chunks)
    assert visible.replace(" ", "") == text.replace(" ", "")


def test_alert_with_huge_hostile_parts_still_fits_one_message() -> None:
    sources = tuple(Source("&" * 300, "https://e.example") for _ in range(50))
    huge = story(
        headline="&" * 5000,
        summary="<" * 20000,
        url="https://e.example/" + "&" * 190,
        sources=sources,
    )
    snippet = Highlight("&" * 5000, spans=tuple((i, i + 1) for i in range(0, 5000, 2)))
    out = render(AlertMessage(huge, snippet))

    assert len(out.chunks) == 1  # edits target one message, so an alert must never split
    assert tg_len(out.chunks[0]) <= MAX_TEXT
    parsed(out.chunks[0])


def test_update_with_huge_hostile_parts_is_one_valid_message_naming_its_outlets() -> None:
    sources = tuple(Source("<" * 300 + str(n), "https://e.example") for n in range(50))
    own = Source("&" * 5000, "https://e.example/" + "&" * 190)
    snippet = Highlight("&" * 5000, spans=tuple((i, i + 1) for i in range(0, 5000, 2)))
    out = render(UpdateMessage(story(sources=sources), "<" * 20000, own, snippet))

    assert len(out.chunks) == 1 and tg_len(out.chunks[0]) <= MAX_TEXT
    sources_line = parsed(out.chunks[0]).text.splitlines()[1]
    assert sources_line.startswith("Sources: &&&") and sources_line.endswith(" +48 more")


def test_split_escaped_prefers_spaces_and_keeps_every_word() -> None:
    pieces = split_escaped("alpha beta gamma delta", 11)

    assert pieces == ["alpha beta", "gamma delta"]


def test_pack_keeps_blocks_whole_and_in_order() -> None:
    blocks = ["<b>" + "x" * 30 + "</b>", "y" * 30, "", "z" * 30]

    assert pack(blocks, limit=70) == ("<b>" + "x" * 30 + "</b>\n" + "y" * 30, "z" * 30)


def test_command_reply_is_escaped_and_buttons_become_keyboard() -> None:
    reply = CommandReply("Watching #1: S-400 <&>", (Button("Stop", "stop:confirm"),))
    out = render_reply(reply)

    assert parsed(out.chunks[0]).text == "Watching #1: S-400 <&>"
    assert out.keyboard is not None
    assert out.keyboard.inline_keyboard[0][0].callback_data == "stop:confirm"
