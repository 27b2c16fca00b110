"""Every decision threshold of story assignment, in one place (None: the fitted model's own)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class StorySettings:
    """The numbers that decide where an article goes. The two model thresholds are fitted
    with the models (`weights.json`); None takes those. The rest were chosen by hand and are
    what the fitted models were fitted under: change one and refit (`bench/fit_stories.py`)."""

    join_threshold: float | None = None  # P(same event) needed to join a story
    development_threshold: float | None = None  # P(material new fact) needed for "Update:"
    support_floor: float = 0.2  # a candidate less likely than this is noise, not the event
    min_strength: float = 0.5  # less shared than one rare-ish headline word: never a candidate
    rare_name_docs: int = 10  # a name this few articles carry identifies an event
    common_idf: float = 1.0  # IDF of a word in a third of all articles: sharing it proves nothing
    prior_documents: int = 100  # see terms.DocumentFrequency
