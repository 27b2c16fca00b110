"""Does an article tell a candidate story? Evidence from its closest reports, weighed by a model.

The evidence for one (article, story) pair is a short vector (`FEATURES`): how much rare
vocabulary the article shares with the story's closest report, in the headline and in the
lead; how much of each side that explains; names both share, or that only one names; dates
and headline figures that disagree (two daily counts are two events); the same outlet; hours
between them; how much of the story's shared core the article repeats; the story's size; the
second-closest report. A logistic model fitted offline on labelled stories
(`bench/fit_stories.py`, numbers in `weights.json`) turns the named values into a probability.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.core.stories.features import Features
from bot.core.stories.settings import StorySettings
from bot.core.stories.state import Member, StoryState

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
    "cosine",
    "same_feed_title",
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
    cosine: float

    @property
    def strength(self) -> float:
        """Headline overlap first, lead overlap as support: the ranking of reports."""
        return self.title_shared + _LEAD * self.cross_shared + _BOTH_LEADS * self.lead_shared


class Weigher:
    """Term weights (IDF above the common level) for one article's decision, memoised: the
    same terms come back in every report compared, and the index does not change meanwhile."""

    __slots__ = ("_common", "_df", "_idf", "_memo", "_rare", "norm", "own")

    def __init__(
        self,
        f: Features,
        idf: Callable[[str], float],
        df: Callable[[str], int],
        settings: StorySettings,
    ) -> None:
        self._idf, self._df = idf, df
        self._common, self._rare = settings.common_idf, settings.rare_name_docs
        self._memo: dict[str, float] = {}
        self.own = self.mass(f.title) + _BOTH_LEADS * self.mass(f.lead)
        self.norm = math.sqrt(4 * self.square(f.title) + self.square(f.lead))

    def weight(self, term: str) -> float:
        found = self._memo.get(term)
        if found is None:
            found = self._memo[term] = max(0.0, self._idf(term) - self._common)
        return found

    def mass(self, terms: Iterable[str]) -> float:
        return sum(self.weight(x) for x in terms)

    def square(self, terms: Iterable[str]) -> float:
        return sum(self.weight(x) ** 2 for x in terms)

    def rare(self, term: str) -> bool:
        return self._df(term) <= self._rare


def link(arrival: Arrival, member: Member, weigh: Weigher) -> Link:
    """The evidence that `arrival` and `member` report the same event, term by term."""
    f = arrival.features
    # One pass per side (this runs for every report compared); a headline term met in the
    # other's headline weighs 4 in the dot product, headline-lead 2, lead-lead 1.
    title_shared, cross, dot = _overlap(member.title, f, weigh.weight, 4.0, 0.0, 0.0)
    cross_shared, lead_shared, dot = _overlap(member.lead, f, weigh.weight, 2.0, cross, dot)
    shared = title_shared + _LEAD * cross_shared + _BOTH_LEADS * lead_shared
    # The member's own mass as it was when it arrived: close enough, and free.
    coverage = min(1.0, shared / (weigh.own or 1.0), shared / (member.mass or 1.0))
    names = sum(1 for x in member.names if x in f.names and weigh.rare(x))
    cosine = dot / ((weigh.norm * member.norm) or 1.0)
    disagree = _names_disagree(f, member, weigh)
    return Link(member, title_shared, cross_shared, lead_shared, coverage, names, disagree, cosine)


def _overlap(
    terms: Iterable[str],
    f: Features,
    weight: Callable[[str], float],
    scale: float,
    in_title: float,
    dot: float,
) -> tuple[float, float, float]:
    """`in_title` and `dot` carried on over `terms` met in `f`'s title (`scale` w² to the dot
    product), and the weight met in its lead (half that); sums kept in the order they always
    ran, so every score stays bit for bit the same."""
    title, lead, in_lead = f.title, f.lead, 0.0
    for x in terms:
        if x in title:
            w = weight(x)
            in_title += w
            dot += scale * w * w
        elif x in lead:
            w = weight(x)
            in_lead += w
            dot += scale / 2 * w * w
    return in_title, in_lead, dot


def other_day(f: Features, member: Member) -> bool:
    """Both headlines are dated, on different days: two editions of one kind of item (a daily
    briefing, a daily count) are two events however alike they read."""
    return (
        bool(f.title_dates)
        and bool(member.title_dates)
        and not f.title_dates.intersection(member.title_dates)
    )


def _names_disagree(f: Features, member: Member, weigh: Weigher) -> bool:
    """Both headlines name rare things the other report never mentions (two governors)."""
    mine_only = any(
        x not in member.title and x not in member.lead and weigh.rare(x) for x in f.title_names
    )
    if not mine_only:
        return False
    mine = f.all_terms
    return any(x not in mine and weigh.rare(x) for x in member.title_names)


def evidence(
    arrival: Arrival, story: StoryState, links: Sequence[Link], weigh: Weigher
) -> dict[str, float]:
    """The join model's inputs for (article, story), by name, from the story's links ranked
    strongest first."""
    best = links[0]
    f, m = arrival.features, best.member
    second = links[1].strength if len(links) > 1 else 0.0
    core_shared = weigh.mass(x for x in story.shared_core() if x in f.all_terms)
    return _pair_evidence(arrival, best) | {
        "core_shared": core_shared,
        "log_size": math.log(story.size),
        "log_second": math.log1p(second),
        "log_idle": _log_hours(arrival.published, story.last_active),
        "cosine": max(x.cosine for x in links),
        "same_feed_title": float(m.feed == arrival.feed) * best.title_shared,
    }


def _pair_evidence(arrival: Arrival, best: Link) -> dict[str, float]:
    """The inputs read off the article and the story's closest report alone."""
    f, m = arrival.features, best.member
    headline_only = float(not f.lead and not m.lead)
    hours = _log_hours(arrival.published, m.published)
    return {
        "title_shared": best.title_shared,
        "cross_shared": best.cross_shared,
        "lead_shared": best.lead_shared,
        "coverage": best.coverage,
        "shared_names": float(best.shared_names),
        "names_disagree": float(best.names_disagree),
        "dates_disagree": float(_dates_disagree(f.dates, m.dates)),
        "figures_disagree": float(_figures_disagree(f.title_numbers, m.title_numbers)),
        "same_feed": float(m.feed == arrival.feed),
        "log_hours": hours,
        # With no summary on either side the headline and the timing are all there is to go
        # by, so they weigh differently there (fitted separately through these interactions).
        "headline_only": headline_only,
        "headline_only_hours": headline_only * hours,
        "headline_only_title": headline_only * best.title_shared,
    }


def _dates_disagree(mine: frozenset[str], theirs: tuple[str, ...]) -> bool:
    return bool(mine) and bool(theirs) and not mine.intersection(theirs)


def _figures_disagree(mine: frozenset[str], theirs: tuple[str, ...]) -> bool:
    return bool(mine) and bool(theirs) and not mine.intersection(theirs)


def _log_hours(a: datetime, b: datetime) -> float:
    return math.log1p(abs((a - b).total_seconds()) / 3600)


def event_words(f: Features, member: Member, weigh: Weigher) -> frozenset[str]:
    """The rare words of the article's headline that a report carries too (a place, a name,
    a designator): what ties the two to one event."""
    return frozenset(
        x for x in f.title if weigh.rare(x) and (x in member.title or x in member.lead)
    )


def carries(member: Member, words: frozenset[str]) -> bool:
    """Whether a report carries any of `words` in its headline or lead."""
    return any(x in member.title or x in member.lead for x in words)


def support(probabilities: Iterable[float]) -> float:
    """How likely the article follows one of several stories that tell one event: one minus
    the chance that every one is wrong, taken as independent. An event's first reports split
    across stories (too little shared between them) leave each with only part of what its
    follow-up shares."""
    none = 1.0
    for p in probabilities:
        none *= 1.0 - p
    return 1.0 - none
