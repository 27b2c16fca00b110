"""Digest building (grouping, ranking, the length cap) and folding alerts held in quiet hours."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.core.digest import (
    DigestEntry,
    build_digest,
    digest_date_label,
    fold_held_alerts,
    one_line,
)
from bot.core.models import DigestMessage, Source, StoryView

NOON = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def entry(
    story_id: str,
    *,
    rule: str = "S-400",
    sources: int = 1,
    hours_ago: int = 0,
    summary: str = "What happened.",
    developments: int = 0,
) -> DigestEntry:
    return DigestEntry(
        rule_label=rule,
        story_id=story_id,
        headline=f"Headline {story_id}",
        url=f"https://news.example/{story_id}",
        summary=summary,
        outlets=tuple(f"Outlet {n}" for n in range(sources)),
        developments=developments,
        last_seen=NOON - timedelta(hours=hours_ago),
    )


def build(entries: list[DigestEntry], max_items: int = 12) -> DigestMessage:
    digest = build_digest(entries, local_date_label="Sat 21 Nov", max_items=max_items)
    assert digest is not None
    return digest


def headlines(digest: DigestMessage) -> dict[str, list[str]]:
    return {section.title: [item.headline for item in section.items] for section in digest.sections}


def test_nothing_matched_means_no_digest() -> None:
    assert build_digest([], local_date_label="Sat 21 Nov") is None


def test_title_names_the_local_day() -> None:
    assert build([entry("a")]).title == "Your storywatch digest — Sat 21 Nov"


def test_date_label_uses_the_chat_zone() -> None:
    late_evening_utc = datetime(2026, 11, 21, 22, 30, tzinfo=UTC)
    assert digest_date_label(late_evening_utc, "UTC") == "Sat 21 Nov"
    assert digest_date_label(late_evening_utc, "Europe/Istanbul") == "Sun 22 Nov"


def test_stories_are_grouped_under_their_rule_in_rule_order() -> None:
    digest = build([entry("a", rule="S-400"), entry("b", rule="Gaza"), entry("c", rule="S-400")])
    assert headlines(digest) == {
        "S-400": ["Headline a", "Headline c"],
        "Gaza": ["Headline b"],
    }
    assert [section.title for section in digest.sections] == ["S-400", "Gaza"]


def test_a_story_matched_by_two_rules_appears_once_under_the_first() -> None:
    digest = build([entry("a", rule="S-400"), entry("a", rule="Turkey"), entry("b", rule="Turkey")])
    assert headlines(digest) == {"S-400": ["Headline a"], "Turkey": ["Headline b"]}


def test_more_outlets_rank_first_then_the_more_recent_story() -> None:
    digest = build(
        [
            entry("old-single", sources=1, hours_ago=9),
            entry("new-single", sources=1, hours_ago=1),
            entry("widely-reported", sources=5, hours_ago=20),
        ]
    )
    assert headlines(digest)["S-400"] == [
        "Headline widely-reported",
        "Headline new-single",
        "Headline old-single",
    ]


def test_items_carry_links_outlets_and_developments() -> None:
    item = build([entry("a", sources=4, developments=2)]).sections[0].items[0]
    assert (item.url, item.source_count, item.developments) == ("https://news.example/a", 4, 2)
    assert item.outlets == ("Outlet 0", "Outlet 1", "Outlet 2", "Outlet 3")


def test_cap_keeps_the_best_stories_across_rules_and_counts_the_rest() -> None:
    minor = [entry(f"minor{n}", rule="Minor", sources=1) for n in range(10)]
    major = [entry(f"major{n}", rule="Major", sources=3) for n in range(5)]
    digest = build(minor + major, max_items=12)
    shown = [item for section in digest.sections for item in section.items]
    assert len(shown) == 12
    assert digest.more == 3
    assert len(headlines(digest)["Major"]) == 5  # none of the widely reported ones dropped


def test_under_the_cap_nothing_is_left_out() -> None:
    assert build([entry("a"), entry("b")]).more == 0


def test_a_rule_whose_stories_were_all_capped_gets_no_empty_section() -> None:
    digest = build([entry("a", rule="Loud", sources=9), entry("b", rule="Quiet")], max_items=1)
    assert [section.title for section in digest.sections] == ["Loud"]
    assert digest.more == 1


def test_max_items_must_be_positive() -> None:
    with pytest.raises(ValueError):
        build_digest([entry("a")], local_date_label="Sat 21 Nov", max_items=0)


def test_long_summary_becomes_one_line_cut_at_a_word() -> None:
    text = "Officials said on Saturday that the delivery\nwas delayed. " + "More words here " * 20
    item = build([entry("a", summary=text)]).sections[0].items[0]
    assert "\n" not in item.summary
    assert len(item.summary) <= 160
    assert item.summary.endswith("…")
    kept = item.summary.removesuffix("…")
    flat = " ".join(text.split())
    assert flat.startswith(kept)
    assert flat[len(kept)] == " "  # ends at a word boundary, no half word


def test_short_summary_is_kept_whole() -> None:
    assert one_line("  Deal signed.\n") == "Deal signed."


def test_one_unbroken_long_word_is_still_capped() -> None:
    assert one_line("x" * 500, limit=20) == "x" * 19 + "…"


def view(story_id: str, sources: int = 1) -> StoryView:
    outlets = tuple(
        Source(f"Outlet {n}", f"https://o{n}.example/{story_id}") for n in range(sources)
    )
    return StoryView(
        story_id, f"Headline {story_id}", f"https://news.example/{story_id}", "", outlets
    )


def test_held_alerts_fold_into_one_notice() -> None:
    notice = fold_held_alerts([view("a"), view("b"), view("c")], "07:00")
    assert notice.text == "While you were away: 3 stories (held until 07:00)"
    assert [story.url for story in notice.stories] == [
        "https://news.example/a",
        "https://news.example/b",
        "https://news.example/c",
    ]


def test_a_story_held_twice_is_listed_once_with_its_latest_sources() -> None:
    notice = fold_held_alerts([view("a", 1), view("b"), view("a", 3)], "07:00")
    assert notice.text.startswith("While you were away: 2 stories")
    assert [(story.story_id, len(story.sources)) for story in notice.stories] == [
        ("a", 3),
        ("b", 1),
    ]


def test_a_single_held_alert_reads_naturally() -> None:
    assert fold_held_alerts([view("a")], "07:00").text.startswith("While you were away: 1 story ")


def test_nothing_held_is_an_error_not_an_empty_message() -> None:
    with pytest.raises(ValueError):
        fold_held_alerts([], "07:00")
