"""The words and files of the everyday commands: ages, import summaries, OPML out and in,
the Slack snippet of an exported file."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.opml import read_opml, write_opml
from bot.services.chat.feed_checks import FeedProbe, contents
from bot.services.chat.opml_import import ImportSummary, OpmlError, OpmlFeed
from bot.services.chat.ports import CommandReply, ReplyFile
from bot.services.chat.recent import age_label
from bot.slack.render import render_reply

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("age", "label"),
    [(timedelta(seconds=20), "just now"), (timedelta(minutes=25), "25 min ago"),
     (timedelta(hours=3, minutes=59), "3 h ago"), (timedelta(hours=47), "47 h ago"),
     (timedelta(days=3), "3 d ago")],
)  # fmt: skip
def test_ages_read_naturally(age: timedelta, label: str) -> None:
    assert age_label(age) == label


def test_a_summary_lists_each_refusal_on_its_own_line() -> None:
    summary = ImportSummary(2, 1, [("http://a.example/x", "HTTP 404"), ("ftp://b", "not http")])
    assert summary.text() == (
        "OPML import: added 2, already present 1, refused 2:\n"
        "• http://a.example/x — HTTP 404\n• ftp://b — not http"
    )
    assert ImportSummary(1).text() == "OPML import: added 1, already present 0, refused 0."


def test_an_added_feed_is_described_by_its_items() -> None:
    assert contents(FeedProbe("T", items=0)) == "no items yet"
    assert contents(FeedProbe("T", items=1, newest="Only\none")) == "1 item, newest: Only one"
    assert contents(FeedProbe("T", items=9, newest="x" * 500)).endswith("x…")


def test_written_opml_reads_back_the_same_feeds_with_awkward_titles() -> None:
    feeds = [OpmlFeed("http://a.example/rss?x=1&y=<2>", 'Tom & "Jerry" <news>'),
             OpmlFeed("https://b.example/feed", "Çavuşoğlu Haber")]  # fmt: skip
    data = write_opml(feeds, NOW)
    assert data.startswith(b"<?xml version='1.0' encoding='utf-8'?>")
    assert read_opml(data) == feeds


@pytest.mark.parametrize(
    ("data", "why"),
    [(b'<!DOCTYPE opml SYSTEM "http://evil.example/x.dtd"><opml/>', "not safe to read"),
     (b"<opml><body>\xff\xfe\xfa</body></opml>", "not UTF-8"),
     (b'{"feeds": []}', "not an OPML")],
)  # fmt: skip
def test_unusable_files_are_refused_whole(data: bytes, why: str) -> None:
    with pytest.raises(OpmlError, match=why):
        read_opml(data)


def test_an_exported_file_is_a_preformatted_snippet_in_slack() -> None:
    data = write_opml([OpmlFeed("http://a.example/?a=1&b=2", "A <b>")], NOW)
    message = render_reply(CommandReply("1 feed(s)", file=ReplyFile("f.opml", data)))
    snippet = message.blocks[1]["text"]["text"]
    assert snippet.startswith("```&lt;?xml") and snippet.endswith("```")  # shown as <?xml
    assert "a=1&amp;amp;b=2" in snippet and "&lt;opml" in snippet  # escaped for mrkdwn


def test_a_huge_export_is_cut_with_a_note_in_slack() -> None:
    feeds = [OpmlFeed(f"http://f{i}.example/rss", f"Feed {i}") for i in range(3000)]
    message = render_reply(CommandReply("3000", file=ReplyFile("f.opml", write_opml(feeds, NOW))))
    assert len(message.blocks) <= 50
    assert "storywatch opml export" in message.blocks[-1]["elements"][0]["text"]
