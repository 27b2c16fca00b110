"""/status on a chat with more rules and failing feeds than it lists: it says how many more and
where to see them all."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.core.models import Chat, WatchRule
from bot.services.chat.replies import status
from bot.services.records import ChatStatus, FeedInfo

NOW = datetime(2026, 5, 4, 6, 0, tzinfo=UTC)


def _feed(n: int, error: str | None) -> FeedInfo:
    return FeedInfo(n, f"https://feeds{n}.example/rss", f"Feed {n}", False, 3, error, None)


def test_status_names_the_first_five_and_counts_the_rest() -> None:
    rules = [WatchRule(n, 1, n, f"topic{n}") for n in range(1, 8)]
    feeds = [_feed(n, f"error {n}") for n in range(1, 8)] + [_feed(9, None)]
    text = status(Chat(1, "console", "1"), rules, feeds, ChatStatus(None, 0, 0), NOW)
    assert "Rules: 7 — topic1, topic2, topic3, topic4, topic5 and 2 more (/watchlist" in text
    assert "Feeds: 8, 7 with errors" in text
    assert "! Feed 5: error 5" in text and "Feed 6" not in text
    assert "… and 2 more (/feeds lists all)" in text


def test_a_short_status_has_no_remainder_line() -> None:
    rules = [WatchRule(1, 1, 1, "S-400")]
    text = status(
        Chat(1, "console", "1"), rules, [_feed(1, "timed out")], ChatStatus(None, 0, 0), NOW
    )
    assert "more" not in text and "! Feed 1: timed out" in text
