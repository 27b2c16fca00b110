"""Bounded memory of one story: term profile, known facts, headlines, sources and lead sentences."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from bot.core.models import Source

# Bounds keep per-story memory flat however many outlets pile onto a story; the profile keeps the
# terms most members share, which are the ones that decide whether a newcomer belongs.
PROFILE_LIMIT = 40
FACT_LIMIT = 128
HEADLINE_LIMIT = 8
SENTENCE_LIMIT = 12


@dataclass(slots=True)
class StoryState:
    """What the index remembers about a story while it is inside the activity window."""

    id: str
    last_active: datetime
    size: int = 0
    profile: dict[str, float] = field(default_factory=dict)
    facts: set[str] = field(default_factory=set)
    headlines: list[tuple[str, str]] = field(default_factory=list)  # (title, url)
    sentences: list[str] = field(default_factory=list)
    sources: list[Source] = field(default_factory=list)
    members: list[str] = field(default_factory=list)  # article ids, for expiry
    url_keys: list[str] = field(default_factory=list)
    aliases: list[str] = field(default_factory=list)  # ids of stories merged into this one

    def absorb(self, other: StoryState) -> None:
        """Take in a story found to be the same one told under another id."""
        self.size += other.size
        self.last_active = max(self.last_active, other.last_active)
        for term, count in other.profile.items():
            self.profile[term] = self.profile.get(term, 0.0) + count
        self.add_facts(other.facts)
        for title, url in other.headlines:
            self.add_headline(title, url)
        self.add_sentences(other.sentences)
        for source in other.sources:
            if not self.has_source(source.name):
                self.sources.append(source)
        self.members.extend(other.members)
        self.url_keys.extend(other.url_keys)

    def has_source(self, name: str) -> bool:
        """True when this outlet already reported the story."""
        return any(s.name == name for s in self.sources)

    def add_terms(self, weights: dict[str, float]) -> list[str]:
        """Fold a member's term weights into the profile; return terms pruned out of it."""
        for term, weight in weights.items():
            self.profile[term] = self.profile.get(term, 0.0) + weight
        if len(self.profile) <= 2 * PROFILE_LIMIT:
            return []
        ranked = sorted(self.profile.items(), key=lambda kv: (-kv[1], kv[0]))
        self.profile = dict(ranked[:PROFILE_LIMIT])
        return [term for term, _ in ranked[PROFILE_LIMIT:]]

    def add_facts(self, facts: set[str] | frozenset[str]) -> None:
        """Remember facts so later articles repeating them are not called developments."""
        room = FACT_LIMIT - len(self.facts)
        if room > 0:
            self.facts.update(sorted(facts - self.facts)[:room])

    def add_headline(self, title: str, url: str) -> None:
        """Keep the first headlines; later ones rarely change which is most representative."""
        if title and len(self.headlines) < HEADLINE_LIMIT:
            self.headlines.append((title, url))

    def add_sentences(self, lead: list[str]) -> None:
        """Keep lead sentences from the first sources as summary candidates."""
        room = SENTENCE_LIMIT - len(self.sentences)
        if room > 0:
            self.sentences.extend(lead[: min(room, 4)])
