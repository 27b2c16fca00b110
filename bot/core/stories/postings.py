"""Term → reports that may still link: how candidate stories are found without all pairs."""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Callable

from bot.core.stories.features import Features
from bot.core.stories.state import Member

PROBES = 12  # rarest terms of the article used to look up reports
POSTING_CAP = 400  # a term more live reports share than this finds nothing in particular
LINK_CANDIDATES = 20  # reports compared in full per article
_SHORT = 32  # postings this short drop a report at once; longer ones at 2^k sizes


class Postings:
    """An inverted index over the headline and lead terms of linkable reports."""

    def __init__(self) -> None:
        self._postings: dict[str, list[Member]] = {}

    def add(self, member: Member) -> None:
        """Make `member` findable by its terms."""
        for term in (*member.title, *member.lead):
            posting = self._postings.setdefault(term, [])
            posting.append(member)
            size = len(posting)
            if size >= 64 and size & (size - 1) == 0:  # amortised: drop dead links at 2^k
                posting[:] = [m for m in posting if m.linkable]

    def remove(self, member: Member) -> None:
        """Forget a report that no longer links; long postings are swept as they grow."""
        member.linkable = False
        for term in (*member.title, *member.lead):
            posting = self._postings.get(term)
            if posting is not None and len(posting) <= _SHORT:
                posting.remove(member)
                if not posting:
                    del self._postings[term]

    def nearby(self, f: Features, count: Callable[[str], int]) -> list[Member]:
        """Linkable reports sharing the most of the article's rarest terms (by `count`, the
        documents seen with a term; terms only this article has find nothing)."""
        seen = [term for term in f.all_terms if count(term) > 1]
        probes = sorted(seen, key=lambda term: (count(term), term))[:PROBES]
        hits: Counter[Member] = Counter()
        for term in probes:
            posting = self._postings.get(term, ())
            if len(posting) <= POSTING_CAP:
                hits.update(posting)  # counted in C; reports that stopped linking go below
        # By key (never comparing reports themselves), ties kept in order, as a sort would.
        return heapq.nlargest(
            LINK_CANDIDATES,
            (m for m in hits if m.linkable),
            key=lambda m: (hits[m], m.published, m.id),
        )
