"""Bounded memory of one story and of the articles that may still link to it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from bot.core.models import Source
from bot.core.stories.features import Features

# Bounds keep a story's memory flat however many outlets pile onto it. A newcomer is compared
# with the first reports (what the story is) and the latest (where it went), never with a bag
# of every word ever used: that bag grows with each wrong join and then attracts more.
FIRST_LINKS = 4
LAST_LINKS = 8
CORE_LIMIT = 128
FACT_LIMIT = 512
HEADLINE_LIMIT = 8
SENTENCE_LIMIT = 12


@dataclass(slots=True, eq=False)
class Member:
    """An article as later articles are compared with it: terms as tuples (compact)."""

    id: str
    feed: str
    published: datetime
    title: tuple[str, ...]
    lead: tuple[str, ...]
    names: tuple[str, ...]
    title_names: tuple[str, ...]
    title_numbers: tuple[str, ...]
    dates: tuple[str, ...]
    title_dates: tuple[str, ...]
    story: StoryState
    mass: float = 0.0  # its terms' weight when it arrived (the coverage denominator)
    norm: float = 0.0  # the length of its weighted terms when it arrived (cosine's)
    linkable: bool = True  # False once out of the story's first/last reports, or expired

    @classmethod
    def of(
        cls,
        article_id: str,
        feed: str,
        published: datetime,
        f: Features,
        story: StoryState,
        mass: float,
        norm: float,
    ) -> Member:
        return cls(
            article_id,
            feed,
            published,
            tuple(sorted(f.title)),
            tuple(sorted(f.lead)),
            tuple(sorted(f.names)),
            tuple(sorted(f.title_names)),
            tuple(sorted(f.title_numbers)),
            tuple(sorted(f.dates)),
            tuple(sorted(f.title_dates)),
            story,
            mass,
            norm,
        )


@dataclass(slots=True, eq=False)
class StoryState:
    """What the index remembers about a story while it is inside the activity window."""

    id: str
    first_seen: datetime
    last_active: datetime
    size: int = 0
    links: list[Member] = field(default_factory=list)  # first and latest reports
    core: dict[str, int] = field(default_factory=dict)  # term → members using it
    facts: set[str] = field(default_factory=set)
    headlines: list[tuple[str, str]] = field(default_factory=list)  # (title, url)
    sentences: list[str] = field(default_factory=list)
    sources: list[Source] = field(default_factory=list)
    feeds: set[str] = field(default_factory=set)
    members: list[str] = field(default_factory=list)  # article ids, for expiry
    url_keys: list[str] = field(default_factory=list)
    _core: frozenset[str] | None = None  # shared_core, until the next member

    def add_member(self, member: Member) -> Member | None:
        """Keep `member` as a link; return the one that stopped being a link, if any."""
        self.links.append(member)
        if len(self.links) <= FIRST_LINKS + LAST_LINKS:
            return None
        dropped = self.links.pop(FIRST_LINKS)
        dropped.linkable = False
        return dropped

    def add_terms(self, terms: frozenset[str]) -> None:
        """Count the member's terms; past the limit only the most shared terms stay."""
        self._core = None
        for term in terms:
            self.core[term] = self.core.get(term, 0) + 1
        if len(self.core) > 2 * CORE_LIMIT:
            ranked = sorted(self.core.items(), key=lambda kv: (-kv[1], kv[0]))
            self.core = dict(ranked[:CORE_LIMIT])

    def shared_core(self) -> frozenset[str]:
        """Terms at least two members and a third of them use: what the story is about."""
        if self._core is None:
            floor = max(2.0, self.size / 3)
            self._core = frozenset(t for t, n in self.core.items() if n >= floor and self.size > 1)
        return self._core

    def has_source(self, name: str) -> bool:
        """True when this outlet already reported the story."""
        return any(s.name == name for s in self.sources)

    def add_facts(self, facts: frozenset[str]) -> None:
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
