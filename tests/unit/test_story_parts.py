"""The pieces of story assignment on their own: feed furniture, editions, kinds of item, dates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.core.stories.boilerplate import FeedMemory
from bot.core.stories.features import dates, extract, is_roundup

T0 = datetime(2026, 5, 4, 6, 0, tzinfo=UTC)


def test_a_dateline_every_summary_opens_with_is_cut_but_a_shared_name_stays() -> None:
    memory = FeedMemory()
    openings = [
        "May 4, 2026 6:01 AM HARBOUR CITY - Ferry fares rise by a tenth from June.",
        "May 4, 2026 7:15 AM HARBOUR CITY - The library reopens after repairs.",
        "May 4, 2026 8:30 AM HARBOUR CITY - Tram drivers vote on a new contract.",
    ]
    cleaned = [memory.clean("Headline", text)[1] for text in openings]
    assert cleaned[-1] == "Tram drivers vote on a new contract."
    names = FeedMemory()
    for text in ("Mayor Ilse Varro said the ferry fares rise.",
                 "Mayor Ilse Varro said the library reopens.",
                 "Mayor Ilse Varro said tram drivers will vote."):  # fmt: skip
        kept = names.clean("Headline", text)[1]
    assert kept.startswith("Mayor Ilse Varro")


def test_a_recurring_show_name_leaves_the_headline_after_two_items() -> None:
    memory = FeedMemory()
    titles = ["Ferry fares rise | Evening Desk", "Library reopens | Evening Desk",
              "Tram drivers vote on contract | Evening Desk"]  # fmt: skip
    cleaned = [memory.clean(title, "")[0] for title in titles]
    assert cleaned[0].endswith("Evening Desk") and cleaned[2] == "Tram drivers vote on contract"


def test_a_sign_off_shared_by_recent_items_is_dropped_wherever_it_is() -> None:
    memory = FeedMemory()
    sign_off = "Subscribe to the Evening Desk channel for daily video news and clips."
    for event in ("Ferry fares rise by a tenth.", "The library reopens after repairs.",
                  "Tram drivers vote on a new contract."):  # fmt: skip
        kept = memory.clean("Headline", f"{event} {sign_off}")[1]
    assert kept == "Tram drivers vote on a new contract."


@pytest.mark.parametrize(
    ("earlier", "later", "edition"),
    [
        ("Harbour City cases now at 1,204", "Harbour City reports 1,261 cases", True),
        ("Evening bulletin with the day's news", "Evening bulletin with the day's news", True),
        ("Tram strike called for Friday", "Ferry strike called for Friday", False),
    ],
)
def test_a_programme_seen_again_a_day_later_is_a_new_edition(
    earlier: str, later: str, edition: bool
) -> None:
    memory = FeedMemory()
    first, second = extract(earlier, ""), extract(later, "")
    assert not memory.is_new_edition(first.template, first.title_numbers, T0)
    late = T0 + timedelta(hours=24)
    assert memory.is_new_edition(second.template, second.title_numbers, late) is edition


def test_the_same_headline_an_hour_later_is_not_a_new_edition() -> None:
    memory = FeedMemory()
    f = extract("Evening bulletin with the day's news", "")
    memory.is_new_edition(f.template, f.title_numbers, T0)
    assert not memory.is_new_edition(f.template, f.title_numbers, T0 + timedelta(hours=1))


@pytest.mark.parametrize(
    ("title", "text", "roundup"),
    [
        ("Your Monday briefing: quake, flights and a royal visit", "", True),
        ("Live updates: storm moves up the coast", "", True),
        ("The papers: ministers split over the budget", "", True),
        ("Headlines", "* One thing * Another thing * A third thing", True),
        ("Minister holds press briefing on flood aid", "", False),
        ("Storm moves up the coast, closing ports", "", False),
    ],
)
def test_round_ups_are_told_apart_from_reports(title: str, text: str, roundup: bool) -> None:
    assert is_roundup(title, text) is roundup


def test_dates_are_read_in_both_orders() -> None:
    assert dates("Bulletin (28 April 2026)") == dates("Bulletin for April 28") == {"apr28"}
    assert dates("Revenue up 28 percent") == frozenset()
