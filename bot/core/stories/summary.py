"""Extractive story summaries: boilerplate-free central sentences and a representative headline."""

from __future__ import annotations

import math
from collections.abc import Sequence

from bot.core.furniture import is_boilerplate
from bot.core.stories.terms import sentences, terms

_MIN_WORDS = 6
_MAX_WORDS = 60
_REDUNDANT = 0.5  # cosine above which a second sentence says the same thing again


def clean_sentences(text: str, title: str = "") -> list[str]:
    """Body sentences fit for a summary: no boilerplate, no headline echo, no bare headings."""
    title_terms = terms(title)
    out: list[str] = []
    for line in text.splitlines():
        if is_boilerplate(line):
            continue
        for sentence in sentences(line):
            if _summary_worthy(sentence, title_terms):
                out.append(sentence)
    return out


def _summary_worthy(sentence: str, title_terms: set[str]) -> bool:
    n_words = len(sentence.split())
    if not _MIN_WORDS <= n_words <= _MAX_WORDS or is_boilerplate(sentence):
        return False
    # Headings and tag lists have no closing punctuation; questions are teasers, not facts.
    if sentence.rstrip('"”’)')[-1:] not in ".!":
        return False
    return not title_terms or cosine(terms(sentence), title_terms) < 0.9


def cosine(a: set[str], b: set[str]) -> float:
    """Overlap of two term sets, normalised by their sizes."""
    if not a or not b:
        return 0.0
    return len(a & b) / math.sqrt(len(a) * len(b))


def summarize(candidates: Sequence[str], headline: str = "", limit: int = 3) -> str:
    """Up to `limit` of the most central candidate sentences (those most other sentences across
    the story's sources agree with), without near-duplicates, in their original order."""
    bags = [terms(s) for s in candidates]
    head = terms(headline)
    scored = []
    for i, bag in enumerate(bags):
        centrality = sum(cosine(bag, other) for j, other in enumerate(bags) if j != i)
        # Agreement with the headline counts too: it is what the story is about.
        scored.append((centrality + cosine(bag, head) - 0.01 * i, i))
    chosen: list[int] = []
    for _, i in sorted(scored, reverse=True):
        if len(chosen) == limit:
            break
        if all(cosine(bags[i], bags[j]) < _REDUNDANT for j in chosen):
            chosen.append(i)
    return " ".join(candidates[i] for i in sorted(chosen))


def representative_headline(headlines: Sequence[tuple[str, str]]) -> tuple[str, str]:
    """The (title, url) whose wording the other headlines share most; the earliest on ties."""
    if not headlines:
        return "", ""
    bags = [terms(title) for title, _ in headlines]
    best = max(
        range(len(bags)),
        key=lambda i: (sum(cosine(bags[i], b) for j, b in enumerate(bags) if j != i), -i),
    )
    return headlines[best]
