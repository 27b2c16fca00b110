"""Candidate stories for an article: found through its rarest terms, scored by the join model."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot.core.stories import decision
from bot.core.stories.features import Features
from bot.core.stories.postings import Postings
from bot.core.stories.settings import StorySettings
from bot.core.stories.state import StoryState
from bot.core.stories.weights import Model

STORY_CANDIDATES = 12  # stories the model scores per article, strongest report first


@dataclass(frozen=True, slots=True)
class Candidate:
    """A story the article might tell, with the evidence and the model's verdict."""

    story: StoryState
    links: tuple[decision.Link, ...]
    evidence: dict[str, float]
    probability: float


def find(
    postings: Postings,
    count: Callable[[str], int],
    arrival: decision.Arrival,
    weigh: decision.Weigher,
    model: Model,
    settings: StorySettings,
) -> list[Candidate]:
    """Stories whose reports share the article's rarest terms, each scored by the model."""
    by_story: dict[str, list[decision.Link]] = {}
    for member in postings.nearby(arrival.features, count):
        if decision.other_day(arrival.features, member):
            continue
        found = decision.link(arrival, member, weigh)
        if found.strength > 0:
            by_story.setdefault(member.story.id, []).append(found)
    ranked = sorted(by_story.values(), key=lambda ls: max(x.strength for x in ls), reverse=True)
    out = []
    for links in ranked[:STORY_CANDIDATES]:
        links.sort(key=lambda x: x.strength, reverse=True)
        if links[0].strength < settings.min_strength:
            break
        story = links[0].member.story
        values = decision.evidence(arrival, story, links, weigh)
        out.append(Candidate(story, tuple(links), values, model.probability(values)))
    return out


def choice(
    candidates: list[Candidate],
    threshold: float,
    floor: float,
    f: Features,
    weigh: decision.Weigher,
) -> str | None:
    """The story the article joins, or None for a new story of its own: the most probable
    one, when it passes the threshold alone or with the other stories of its event, those
    whose closest report carries the rare headline words it shares with the article (an
    event's first reports may have been split: `decision.support`). Candidates under
    `floor` are noise, not part of the event."""
    best = max(candidates, key=lambda c: c.probability, default=None)
    if best is None:
        return None
    p = best.probability
    if p >= floor:
        words = decision.event_words(f, best.links[0].member, weigh)
        kin = [
            c.probability
            for c in candidates
            if c is not best
            and c.probability >= floor
            and decision.carries(c.links[0].member, words)
        ]
        if kin:
            p = decision.support([p, *kin])
    return best.story.id if p >= threshold else None
