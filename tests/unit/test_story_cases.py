"""The failure classes real feeds showed: furniture, round-ups, look-alike events, time zones,
retellings and developments. Every article here is invented for the test."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from bot.core.models import Article, StoryKind
from bot.core.stories import StoryIndex
from bot.core.stories.candidates import choice
from bot.story_models import load_models

MODELS = load_models()

T0 = datetime(2026, 5, 4, 6, 0, tzinfo=UTC)


def item(aid: str, title: str, text: str, source: str, hours: float = 0, feed: int = 0) -> Article:
    return Article(
        aid, feed, f"https://{source.split()[0].lower()}.example/{aid}", title, text,
        T0 + timedelta(hours=hours), source,
    )  # fmt: skip


SHOW_SUFFIX = " | Morning Desk"
SIGN_OFF = (
    "Watch the full Morning Desk episode on our video channel every weekday from six. "
    "Follow Morning Desk for the latest news, sport and weather."
)
UNRELATED_BULLETINS = [
    (
        "Harbour pilots end strike after pay deal in Vellport",
        "Pilots at Vellport harbour returned to work after accepting a seven per cent pay rise.",
    ),
    (
        "Grain silo fire contained at Orlin farm cooperative",
        "Firefighters contained a blaze in a grain silo at the Orlin cooperative overnight.",
    ),
    (
        "Mayor Tessaly opens new cycle bridge over the Dorn river",
        "The Dorn river bridge for cyclists and walkers opened on Monday.",
    ),
    (
        "School bus routes change in Hallow district next term",
        "Parents in Hallow district received new timetables for the autumn term.",
    ),
    (
        "Record catch lifts Vellport fish auction prices",
        "Fish auction prices in Vellport rose after trawlers landed a record catch.",
    ),
]


def test_a_feeds_show_name_and_sign_off_do_not_make_its_items_one_story() -> None:
    index = StoryIndex(MODELS)
    verdicts = [
        index.assign(item(f"m{n}", title + SHOW_SUFFIX, f"{text} {SIGN_OFF}", "Morning Desk", n))
        for n, (title, text) in enumerate(UNRELATED_BULLETINS)
    ]
    assert [v.kind for v in verdicts] == [StoryKind.NEW] * len(UNRELATED_BULLETINS)
    view = index.view("m4")
    assert view is not None
    assert "Morning Desk" not in view.summary and "Follow" not in view.summary


def test_the_same_items_from_another_feed_still_meet_their_own_story() -> None:
    index = StoryIndex(MODELS)
    for n, (title, text) in enumerate(UNRELATED_BULLETINS[:3]):
        index.assign(item(f"m{n}", title + SHOW_SUFFIX, f"{text} {SIGN_OFF}", "Morning Desk", n))
    other = item(
        "o1",
        "Vellport harbour pilots back at work after strike ends with pay rise",
        "The strike by harbour pilots in Vellport ended after they accepted a pay rise of "
        "seven per cent.",
        "Coast Courier",
        hours=3,
    )
    assert index.assign(other).story_id == "m0"


def test_a_round_up_naming_two_stories_joins_neither_and_bridges_nothing() -> None:
    index = StoryIndex(MODELS)
    index.assign(item("q1", "Quake of magnitude 6.1 shakes Marrow island, cutting power",
                      "A magnitude 6.1 earthquake struck Marrow island, cutting power to "
                      "thousands of homes.", "Isle Post"))  # fmt: skip
    index.assign(item("v1", "Velsen parliament votes to ban night flights at Aldor airport",
                      "Lawmakers in Velsen voted to ban night flights at Aldor airport from "
                      "June.", "Capital Wire", 0.5))  # fmt: skip
    round_up = item(
        "r1",
        "Morning briefing: Marrow island quake, Aldor night flight ban, and more",
        "Good morning. A quake cut power on Marrow island; Velsen bans night flights at Aldor.",
        "Daily Digest",
        1,
    )
    verdict = index.assign(round_up)
    assert (verdict.story_id, verdict.kind) == ("r1", StoryKind.NEW)
    # A later report of each story finds its own story, not the round-up's.
    quake = item(
        "q2",
        "Marrow island quake: power back in most homes after magnitude 6.1 tremor",
        "Power was restored to most homes on Marrow island after the magnitude 6.1 quake.",
        "Reef Radio",
        3,
    )
    flights = item(
        "v2",
        "Aldor airport night flight ban passed by Velsen lawmakers",
        "The Velsen parliament approved a ban on night flights at Aldor airport.",
        "Metro Daily",
        3.5,
    )
    assert (index.assign(quake).story_id, index.assign(flights).story_id) == ("q1", "v1")


def test_two_central_banks_holding_rates_the_same_day_are_two_stories() -> None:
    index = StoryIndex(MODELS)
    first = item(
        "b1",
        "Bank of Zorvania holds interest rates at 2.5% as inflation cools",
        "The Bank of Zorvania kept its main interest rate at 2.5 per cent on Thursday, "
        "saying inflation was cooling.",
        "Finance Wire",
    )
    second = item(
        "b2",
        "Kestrelian central bank keeps rates on hold at 4% amid weak growth",
        "The central bank of Kestrelia left interest rates unchanged at 4 per cent on "
        "Thursday, citing weak growth.",
        "Market Daily",
        hours=2,
    )
    index.assign(first)
    assert index.assign(second).kind is StoryKind.NEW


def test_one_event_reported_ten_hours_later_in_another_time_zone_is_one_story() -> None:
    index = StoryIndex(MODELS)
    index.assign(item(
        "t1",
        "Ferry Orla runs aground off Cape Brannock, 212 passengers evacuated",
        "The ferry Orla ran aground off Cape Brannock late on Tuesday; all 212 passengers "
        "were taken off by lifeboats.",
        "Northern Gazette",
    ))  # fmt: skip
    later = item(
        "t2",
        "All 212 passengers rescued after ferry Orla grounds near Cape Brannock",
        "Rescuers took all 212 passengers off the ferry Orla after it ran aground near Cape "
        "Brannock.",
        "Pacific Morning Herald",
        hours=10,
    )
    assert index.assign(later).story_id == "t1"


def test_a_retelling_is_a_repeat_and_a_decision_is_a_development() -> None:
    index = StoryIndex(MODELS)
    index.assign(item(
        "d1",
        "Drenmark port workers strike over pay, halting container traffic",
        "Port workers in Drenmark walked out over pay on Monday, halting container traffic "
        "at the city's main terminal.",
        "Harbour Times",
    ))  # fmt: skip
    retelling = item(
        "d2",
        "Container traffic stops at Drenmark port as workers walk out over pay",
        "Workers at the Drenmark port stopped work in a dispute over pay, and no containers "
        "moved at the main terminal.",
        "Coast Courier",
        hours=1,
    )
    decision = item(
        "d3",
        "Drenmark port strike ends as union accepts 6% pay offer, terminal reopens",
        "The union representing Drenmark port workers accepted a 6 per cent pay offer and "
        'the terminal reopened on Wednesday. "The deal is done," union leader Ilse Varro said.',
        "Harbour Times",
        hours=20,  # the next day (the same outlet two days on is more often another event)
    )
    again = index.assign(retelling)
    turn = index.assign(decision)
    assert (again.story_id, again.kind) == ("d1", StoryKind.REPEAT)
    assert (turn.story_id, turn.kind) == ("d1", StoryKind.DEVELOPMENT)
    assert turn.whats_new


def test_daily_editions_of_one_programme_are_separate_stories() -> None:
    index = StoryIndex(MODELS)
    first = item("e1", "Harbour City coronavirus cases now at 1,204", "", "City Desk", feed=7)
    next_day = item("e2", "Harbour City reports 1,261 coronavirus cases", "", "City Desk", 24, 7)
    index.assign(first)
    assert index.assign(next_day).kind is StoryKind.NEW


def test_a_restart_remembers_a_feeds_furniture() -> None:
    live, restored = StoryIndex(MODELS), StoryIndex(MODELS)
    articles = [
        item(f"m{n}", title + SHOW_SUFFIX, f"{text} {SIGN_OFF}", "Morning Desk", n)
        for n, (title, text) in enumerate(UNRELATED_BULLETINS)
    ]
    for a in articles[:4]:
        live.assign(a)
        restored.restore(a, a.id, StoryKind.NEW)
    assert live.assign(articles[4]) == restored.assign(articles[4])
    live_view, restored_view = live.view("m4"), restored.view("m4")
    assert live_view is not None and live_view == restored_view


def test_a_report_dated_before_the_story_began_joins_it_without_failing() -> None:
    """Outlets date items oddly (a backdated pubDate, a wrong time zone): a report older than
    the story's first one must be placed, never stop the poll."""
    index = StoryIndex(MODELS, window=timedelta(hours=72))
    title = "Blinken presses Cavusoglu to drop the Russian S-400 missile system"
    text = "The two ministers met in Brussels; Turkey bought the S-400 system from Russia."
    first = index.assign(item("a1", title, text, "Alpha Wire", hours=0, feed=1))
    older = index.assign(item("b1", title, text, "Beta Radio", hours=-6, feed=2))
    assert older.story_id == first.story_id
    assert older.kind is StoryKind.REPEAT


def _grounding_told_twice() -> StoryIndex:
    """An index holding the first two reports of one grounding, which share too little to be
    joined: each got its own alert."""
    index = StoryIndex(MODELS)
    index.assign(item(
        "s1",
        "Ferry Aurelia runs aground off Kestrel Point, passengers evacuated",
        "The ferry Aurelia struck rocks near Kestrel Point on Sunday evening and coastguard "
        "boats took its passengers ashore.",
        "Harbour Herald", feed=1,
    ))  # fmt: skip
    second = item(
        "s2",
        "Coastguard rescues hundreds from stranded vessel near Dunmore",
        "More than two hundred people were taken off a ship that hit a reef near Dunmore "
        "harbour, officials said.",
        "Coast Courier", hours=2, feed=2,
    )  # fmt: skip
    assert index.assign(second).kind is StoryKind.NEW
    return index


def test_a_follow_up_of_an_event_split_across_two_alerts_opens_no_third() -> None:
    """A third report shares part of the event with each first report (the ferry's name with
    both): it is that event's follow-up and joins one of them, though neither alone holds
    enough evidence for it."""
    third = item(
        "s3",
        "Ferry Aurelia passengers recall night stranded on reef near Dunmore",
        "Passengers of the Aurelia told of a long wait on deck before coastguard boats "
        "reached them.",
        "Island Times", hours=5, feed=3,
    )  # fmt: skip
    each = {c.story.id: c.probability for c in _grounding_told_twice().consider(third).candidates}
    assert set(each) == {"s1", "s2"} and max(each.values()) < MODELS.join.threshold
    verdict = _grounding_told_twice().assign(third)
    assert verdict.story_id in {"s1", "s2"} and verdict.kind is not StoryKind.NEW


def _strike_and_fire() -> StoryIndex:
    """An index holding two unrelated stories: a pilots' strike and a silo fire."""
    index = StoryIndex(MODELS)
    index.assign(item(
        "x1",
        "Harbour pilots strike in Vellport over pay, ships wait offshore",
        "Pilots at Vellport harbour walked out over pay on Monday and a dozen ships waited "
        "offshore.",
        "Harbour Herald", feed=1,
    ))  # fmt: skip
    index.assign(item(
        "y1",
        "Grain silo fire at Orlin cooperative burns through the night",
        "Firefighters fought a blaze in a grain silo at the Orlin farm cooperative overnight.",
        "Coast Courier", hours=1, feed=2,
    ))  # fmt: skip
    return index


def test_an_item_partly_like_two_unrelated_stories_joins_neither() -> None:
    """Evidence for two different events does not add up: a council item praising the people
    of two stories resembles each a little, taken together as much as a follow-up would, and
    stays on its own, because the two stories' reports share none of its rare headline
    words with each other's event. The probabilities are pinned (the rule is under test,
    not the fitted model): each under the threshold, their noisy-OR over it."""
    praise = item(
        "z1",
        "Council praises Vellport pilots on strike and Orlin silo fire crews",
        "Councillors praised the pilots of Vellport harbour and the crews who fought the "
        "grain silo fire at Orlin.",
        "Island Times", hours=5, feed=3,
    )  # fmt: skip
    considered = _strike_and_fire().consider(praise)
    found = sorted(considered.candidates, key=lambda c: c.story.id)
    assert [c.story.id for c in found] == ["x1", "y1"]
    pinned = [replace(c, probability=p) for c, p in zip(found, (0.35, 0.4), strict=True)]
    assert 1 - 0.65 * 0.6 >= MODELS.join.threshold > 0.4
    args = (MODELS.join.threshold, 0.2, considered.features, considered.weigh)
    assert choice(pinned, *args) is None
    kin = [replace(pinned[0], probability=0.35), replace(pinned[0], probability=0.4)]
    assert choice(kin, *args) == "x1"  # the same event told twice does add up
