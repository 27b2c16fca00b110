"""Does an article tell a candidate story? Evidence from its closest reports, weighed by a model.

The evidence for one (article, story) pair is a short vector (`FEATURES`): how much rare
vocabulary the article shares with the story's closest report, in the headline and in the
lead; how much of each side that explains; names both share, or that only one names; dates
and headline figures that disagree (two daily counts are two events); the same outlet; hours
between them; how much of the story's shared core the article repeats; the story's size; the
second-closest report. A logistic model fitted offline on labelled stories
(`bench/fit_stories.py`, coefficients in `weights.py`) turns the vector into a probability.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.core.stories import weights
from bot.core.stories.features import Features
from bot.core.stories.state import Member, StoryState

COMMON_IDF = 1.0  # IDF of a word in a third of all articles: sharing it proves nothing
RARE_NAME_DOCS = 10  # a name this few articles carry identifies an event
LINK_EVIDENCE = 6.0  # a report sharing this much counts as supporting the join
_LEAD = 0.5  # headline words state the story; lead words support it
_BOTH_LEADS = 0.25

FEATURES = (
    "title_shared",
    "cross_shared",
    "lead_shared",
    "coverage",
    "shared_names",
    "names_disagree",
    "dates_disagree",
    "figures_disagree",
    "same_feed",
    "log_hours",
    "core_shared",
    "log_size",
    "log_second",
    "log_idle",
    "headline_only",
    "headline_only_hours",
    "headline_only_title",
)


@dataclass(frozen=True, slots=True)
class Arrival:
    """The article being placed, as the decision sees it."""

    features: Features
    feed: str
    published: datetime


@dataclass(frozen=True, slots=True)
class Link:
    """Evidence between the article and one report of a story."""

    member: Member
    title_shared: float
    cross_shared: float
    lead_shared: float
    coverage: float
    shared_names: int
    names_disagree: bool

    @property
    def strength(self) -> float:
        """Headline overlap first, lead overlap as support: the ranking of reports."""
        return self.title_shared + _LEAD * self.cross_shared + _BOTH_LEADS * self.lead_shared


def link(
    arrival: Arrival, member: Member, idf: Callable[[str], float], df: Callable[[str], int]
) -> Link:
    """The evidence that `arrival` and `member` report the same event, term by term."""
    f = arrival.features

    def weight(terms: Iterable[str]) -> float:
        return sum(max(0.0, idf(x) - COMMON_IDF) for x in terms)

    title_shared = weight(x for x in member.title if x in f.title)
    cross_shared = weight(x for x in member.lead if x in f.title)
    cross_shared += weight(x for x in member.title if x in f.lead)
    lead_shared = weight(x for x in member.lead if x in f.lead)
    shared = title_shared + _LEAD * cross_shared + _BOTH_LEADS * lead_shared
    own = weight(f.title) + _BOTH_LEADS * weight(f.lead)
    theirs = weight(member.title) + _BOTH_LEADS * weight(member.lead)
    coverage = min(1.0, shared / (own or 1.0), shared / (theirs or 1.0))
    names = sum(1 for x in member.names if x in f.names and df(x) <= RARE_NAME_DOCS)
    return Link(
        member,
        title_shared,
        cross_shared,
        lead_shared,
        coverage,
        names,
        _names_disagree(f, member, df),
    )


def other_day(f: Features, member: Member) -> bool:
    """Both headlines are dated, on different days: two editions of one kind of item (a daily
    briefing, a daily count) are two events however alike they read."""
    return (
        bool(f.title_dates)
        and bool(member.title_dates)
        and not f.title_dates.intersection(member.title_dates)
    )


def _names_disagree(f: Features, member: Member, df: Callable[[str], int]) -> bool:
    """Both headlines name rare things the other report never mentions (two governors)."""
    theirs = set(member.title) | set(member.lead)
    mine_only = any(x not in theirs and df(x) <= RARE_NAME_DOCS for x in f.title_names)
    if not mine_only:
        return False
    mine = f.all_terms
    return any(x not in mine and df(x) <= RARE_NAME_DOCS for x in member.title_names)


def vector(
    arrival: Arrival, story: StoryState, links: Sequence[Link], idf: Callable[[str], float]
) -> list[float]:
    """The model's inputs for (article, story), from the story's links ranked strongest first."""
    best = links[0]
    f, m = arrival.features, best.member
    second = links[1].strength if len(links) > 1 else 0.0
    core = story.shared_core()
    core_shared = sum(max(0.0, idf(x) - COMMON_IDF) for x in core if x in f.all_terms)
    headline_only = float(not f.lead and not m.lead)
    return [
        best.title_shared,
        best.cross_shared,
        best.lead_shared,
        best.coverage,
        float(best.shared_names),
        float(best.names_disagree),
        float(bool(f.dates) and bool(m.dates) and not f.dates.intersection(m.dates)),
        float(_figures_disagree(f.title_numbers, m.title_numbers)),
        float(m.feed == arrival.feed),
        _log_hours(arrival.published, m.published),
        core_shared,
        math.log(story.size),
        math.log1p(second),
        _log_hours(arrival.published, story.last_active),
        # With no summary on either side the headline and the timing are all there is to go
        # by, so they weigh differently there (fitted separately through these interactions).
        headline_only,
        headline_only * _log_hours(arrival.published, m.published),
        headline_only * best.title_shared,
    ]


def _figures_disagree(mine: frozenset[str], theirs: tuple[str, ...]) -> bool:
    return bool(mine) and bool(theirs) and not mine.intersection(theirs)


def _log_hours(a: datetime, b: datetime) -> float:
    return math.log1p(abs((a - b).total_seconds()) / 3600)


def probability(values: Sequence[float], model: weights.Model | None = None) -> float:
    """The model's probability for a feature vector (standardised, then logistic); the join
    model unless another is given."""
    model = model or weights.JOIN
    z = model.intercept
    for x, mean, scale, coef in zip(values, model.mean, model.scale, model.coef, strict=True):
        z += coef * (x - mean) / scale
    return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))
