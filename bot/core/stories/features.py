"""What story assignment reads from a cleaned article: terms, names, figures, dates, kind."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.core.stories import terms as t

LEAD_SENTENCES = 2  # the first sentences of a summary say what happened; the rest wanders
LEAD_WORDS = 60
FACT_SENTENCES = 40

_MONTH = r"(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
_MONTH += r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
_DATE = re.compile(
    rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+{_MONTH}\b|\b{_MONTH}\.?\s+(\d{{1,2}})\b", re.I
)
# Items that tell several stories at once: live blogs, briefings, front-page reviews, lists.
# Each cue names a kind of item, not an outlet, so it carries over to feeds never seen.
_ROUNDUP = re.compile(
    r"\blive (?:updates?|blog|coverage|tracker)\b|\bupdates from around\b|"
    r"\b(?:morning|evening|daily|weekly|weekend|midday|news|your \w+) briefing\b|"
    r"\bthe papers\b|\bfront pages?\b|\bnewspaper headlines\b|\bas it happened\b|"
    r"\bkey events\b|\bround-?up\b|\btop stories\b|\bmust[- ]reads?\b|\bnews digest\b|"
    r"\bwhat happened (?:in|on|today)\b|\bday \d+ of\b|\bin (?:pictures|photos)\b",
    re.I,
)
_BULLETS = re.compile(r"(?:^|\s)[*•·▪■]\s|\s\|\s")
_DIGITS = re.compile(r"\d+")


@dataclass(frozen=True, slots=True)
class Features:
    """An article reduced to the evidence story assignment weighs."""

    title: frozenset[str]  # content terms of the headline
    lead: frozenset[str]  # content terms of the first sentences, headline terms left out
    names: frozenset[str]  # named things (people, places, bodies, designators)
    title_names: frozenset[str]
    title_numbers: frozenset[str]
    numbers: frozenset[str]  # figures of headline and lead
    dates: frozenset[str]  # calendar dates written out ("apr28"), headline and lead
    title_dates: frozenset[str]
    template: frozenset[str]  # headline terms without figures: what a recurring programme keeps
    roundup: bool  # tells several stories at once

    @property
    def all_terms(self) -> frozenset[str]:
        """Headline and lead terms together."""
        return self.title | self.lead


def extract(title: str, text: str) -> Features:
    """Features of an article whose feed boilerplate is already removed."""
    lead = lead_text(text)
    title_terms = frozenset(t.terms(title))
    lead_terms = frozenset(t.terms(lead)) - title_terms
    title_names = frozenset(t.entities(title)) & title_terms
    names = title_names | (frozenset(t.entities(lead)) & lead_terms)
    title_numbers = frozenset(t.numbers(title))
    return Features(
        title=title_terms,
        lead=lead_terms,
        names=names,
        title_names=title_names,
        title_numbers=title_numbers,
        numbers=title_numbers | frozenset(t.numbers(lead)),
        dates=dates(title) | dates(lead),
        title_dates=dates(title),
        template=frozenset(x for x in title_terms if not _DIGITS.search(x)),
        roundup=is_roundup(title, text),
    )


def lead_text(text: str) -> str:
    """The first sentences of the text, at most LEAD_WORDS words."""
    sentences = t.sentences(text)[:LEAD_SENTENCES]
    return " ".join(" ".join(sentences).split()[:LEAD_WORDS])


def dates(text: str) -> frozenset[str]:
    """Day-and-month dates in `text` as "apr28": two dated items of one kind are two events."""
    found = set()
    for match in _DATE.finditer(text):
        day = match.group(1) or match.group(4)
        month = (match.group(2) or match.group(3)).lower()[:3]
        if 1 <= int(day) <= 31:
            found.add(f"{month}{int(day)}")
    return frozenset(found)


def is_roundup(title: str, text: str) -> bool:
    """True for live blogs, briefings and lists: a headline cue, or a bulleted summary."""
    return bool(_ROUNDUP.search(title)) or len(_BULLETS.findall(text[:600])) >= 3
