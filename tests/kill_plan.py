"""The kill loop's script: what is published in each life, who should hear of it, when to kill.

Everything random comes from one seeded `random.Random`, so a failing run is replayed by
running it again with the same seed (`KILL_LOOP_SEED=n` explores other interleavings).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from support import Item
from world import DEVELOPMENT, MEETING_A, MEETING_B

OUTLETS = ("a", "b", "c")
LIVES = 11  # ten SIGKILLs; the eleventh life runs until everything is delivered
# Published two hours apart a life, so the development (life 8) comes half a day after the
# meeting's first report, as a reply does (minutes after, it reads as a retelling).
LIFE_SPAN = timedelta(hours=2)
# Whoever watches S-400 follows the Blinken story: its alert (life 2), a second outlet
# (life 5: an edit of that alert) and a development (life 8: a reply under it).
STORY = {2: ("a", MEETING_A), 5: ("b", MEETING_B), 8: ("c", DEVELOPMENT)}
UPDATE_MARKER = "second S-400 battery"  # what the development's threaded update quotes
# Two reports a life, each a different event (none joins another story), all for the rules.
HEADLINES = [
    ("Norway grounds F-35 fleet after hydraulic fault at Orland base",
     "The Norwegian air force halted all flights while engineers inspect pumps on every jet."),
    ("India test-fires S-400 interceptor from Rajasthan desert range",
     "The missile struck a target drone at high altitude, the defence ministry said."),
    ("Lockheed delays F-35 deliveries as engine supplier workers strike in Connecticut",
     "Union members walked out over pensions, halting production of turbine blades."),
    ("Satellite images show S-400 battery moved near Crimean bridge",
     "Commercial imagery shows launchers and a radar truck parked beside the Kerch strait."),
    ("Swiss voters back F-35 purchase in narrow referendum",
     "Fifty point one percent approved the fighter budget on a rainy Sunday."),
    ("Drone strike damages S-400 radar in Belgorod region",
     "Regional governor Gladkov reported a fire at a military site after the night attack."),
    ("Japanese F-35 crashes into Pacific during night drill off Misawa",
     "Rescue ships searched for the pilot after contact was lost over the ocean."),
    ("Algeria parades S-400 launchers at independence day ceremony",
     "Tanks and missile trucks rolled along the seafront boulevard in Algiers."),
    ("Poland signs contract for thirty-two F-35 jets",
     "Defence minister Blaszczak signed the deal at the Deblin air academy."),
    ("Belarus hosts joint S-400 drill with Russian crews near Baranovichi",
     "Crews practised moving launchers through forests at night, Minsk said."),
    ("Pentagon auditors find F-35 spare parts missing from Utah warehouse",
     "The inspector general could not locate thousands of parts at Hill air base."),
    ("China deploys S-400 regiment to Fujian coastal province",
     "Analysts in Taipei said the move extends coverage over the strait."),
    ("Finland picks F-35 over Gripen in fighter competition",
     "Helsinki chose the American jet after a four-year evaluation."),
    ("Egyptian generals inspect S-400 factory in Nizhny Novgorod",
     "The delegation toured assembly halls of the Almaz-Antey plant on the Volga."),
    ("Singapore receives first F-35 jets at Tengah airbase",
     "The short take-off jets replace ageing fighters over the island."),
    ("Serbia denies reports of secret S-400 shipment through Hungary",
     "Belgrade called the newspaper story fabricated and demanded a correction."),
    ("Belgian pilots finish F-35 training course in Arizona",
     "Six aviators graduated at Luke air force base near Phoenix."),
    ("Vietnam weighs S-400 order as Hanoi modernises air defences",
     "Officials are comparing prices with Israeli and Korean systems."),
    ("Greek parliament approves F-35 letter of request",
     "Lawmakers voted two hundred to ninety after a heated debate in Athens."),
    ("Kazakh officers study S-400 maintenance in Tula workshops",
     "The course covers radar repair and fuel handling over eight weeks."),
    ("Qatar air force inspects F-35 simulator at Fort Worth plant",
     "Pilots flew virtual missions in the cockpit trainer during a two-day visit."),
    ("Saudi Arabia opens talks with Moscow over S-400 purchase",
     "The defence attache met export agency officials, Kommersant reported."),
]  # fmt: skip
MOMENTS = ("fetching", "saving", "sending", "sent")


@dataclass(frozen=True)
class Report:
    """One item on one outlet's feed, published between two lives."""

    life: int
    outlet: str
    item: Item


@dataclass(frozen=True)
class Kill:
    """When a life ends: at the `nth` event of its kind in that life.

    fetching: the nth request for `outlet`'s feed arrived and hangs (killed mid-fetch);
    saving:   every feed has been answered n times (killed while parsing, planning, saving);
    sending:  the first sendMessage of the life is held by the fake API (in flight; the
              platform takes it after the kill, so the restarted bot sends it again);
    sent:     the nth sendMessage of the life was accepted (marked sent, or not yet).
    """

    moment: str
    nth: int
    outlet: str


def schedule(rng: random.Random, start: datetime) -> list[Report]:
    """Every report, in publication order (published times rise with the life)."""
    reports = []
    for life in range(LIVES):
        outlets = rng.sample(OUTLETS, 2)
        for j, (title, text) in enumerate(HEADLINES[2 * life : 2 * life + 2]):
            at = start + life * LIFE_SPAN + timedelta(minutes=j)
            item = Item(title, text, f"http://{outlets[j]}.example/n{life}-{j}", f"n{life}-{j}", at)
            reports.append(Report(life, outlets[j], item))
        if life in STORY:
            outlet, part = STORY[life]
            at = start + life * LIFE_SPAN + timedelta(minutes=5)
            reports.append(Report(life, outlet, replace(part, published=at)))
    return reports


def kills(rng: random.Random, reports: list[Report]) -> list[Kill]:
    """Ten kills, every moment at least twice, in a seeded order."""
    moments = [*MOMENTS, *MOMENTS, *rng.choices(MOMENTS, k=LIVES - 1 - 2 * len(MOMENTS))]
    rng.shuffle(moments)
    plan = []
    for life, moment in enumerate(moments):
        nth = {"fetching": 1, "saving": rng.randint(1, 2), "sending": 1}.get(moment)
        outlet = next(r.outlet for r in reports if r.life == life)
        plan.append(Kill(moment, nth or rng.randint(1, 3), outlet))
    return plan


def markers(rule: str, reports: list[Report]) -> list[str]:
    """What each new message a chat with `rule` receives shows, in order: an alert's
    headline, or the development's quote; a second outlet is an edit, not a message."""
    words = rule.split(" OR ")
    seen = []
    for report in reports:
        item = report.item
        if not any(word in f"{item.title} {item.text}" for word in words):
            continue
        if item.guid != MEETING_B.guid:
            seen.append(UPDATE_MARKER if item.guid == DEVELOPMENT.guid else item.title)
    return seen
