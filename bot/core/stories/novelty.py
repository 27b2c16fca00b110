"""Is a report a development of its story, and which of its sentences says what is new?

A development is a material new fact relative to the story so far: a decision, new figures,
a new statement by a principal, casualties, a new event in the chain. Another outlet's
retelling, an explainer or a commentator's opinion is a repeat. The evidence (`FEATURES`):
figures and names in the headline the story has not carried yet, new figures in the lead, a
quotation the story has not heard, whether the outlet follows up its own report, the story's
age, how closely the report retells the closest one, opinion cues, and how sure the join was.
A logistic model fitted offline on labelled follow-ups (`StoryModels.development`) decides.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass

from bot.core.stories import terms as t
from bot.core.stories.features import FACT_SENTENCES

_WHATS_NEW_CHARS = 200
# Opinion, explainers and columns ("Jane Doe: why …") retell rather than report.
_OPINION = re.compile(
    r"\b(?:opinion|analysis|comment(?:ary)?|explained|explainer|editorial|column|explainer|"
    r"who is|who are|what is|what are|why|how)\b|\?\s*$|^[A-Z][a-z]+ [A-Z][a-z]+:\s",
    re.IGNORECASE,
)

# Verbs of things happening (orders, charges, resigns, recovered …): a headline that says one
# the story has not used yet reports a turn rather than a retelling.
_EVENT = re.compile(
    r"\b(?:order|file|charge|arrest|resign|die|dead|kill|approve|reject|sign|announce|confirm|"
    r"deny|denie|withdraw|suspend|extend|ban|lift|sue|fine|recover|found|release|launch|"
    r"endorse|defend|urge|warn|respond|slam|appeal|probe|investigat|back|agree|deport|clos|"
    r"reopen|rais|cut|rise|fall|fell|record|top|surpass)\w*",
    re.IGNORECASE,
)

FEATURES = (
    "new_title_figures",
    "new_figures",
    "new_title_names",
    "new_quote",
    "same_feed",
    "log_age",
    "coverage",
    "opinion",
    "join",
    "new_title_words",
    "new_event_verb",
    "log_idle",
)


@dataclass(frozen=True, slots=True)
class Facts:
    """An article's facts: per sentence (headline first), and headline-only ones."""

    sentences: tuple[tuple[str, frozenset[str]], ...]
    title: frozenset[str]

    @property
    def all(self) -> frozenset[str]:
        return frozenset(fact for _, facts in self.sentences for fact in facts)


def sentence_facts(sentence: str) -> frozenset[str]:
    """Names, figures and quoted words of one sentence, prefixed by their kind."""
    facts = {f"e:{e}" for e in t.entities(sentence)}
    facts.update(f"n:{n}" for n in t.numbers(sentence))
    for quote in t.quotes(sentence):
        facts.update(f"q:{w}" for w in t.terms(quote))
    return frozenset(facts)


def facts_of(title: str, sentences: Iterable[str]) -> Facts:
    """Facts of the headline and of the first FACT_SENTENCES body sentences."""
    listed = [title, *list(sentences)[:FACT_SENTENCES]]
    with_facts = tuple((s, sentence_facts(s)) for s in listed if s)
    return Facts(with_facts, with_facts[0][1] if with_facts and title else frozenset())


@dataclass(frozen=True, slots=True)
class Context:
    """What is known about the story and the join when a report arrives."""

    known: set[str]  # the story's facts before this report
    words: set[str]  # the story's terms before this report
    same_feed: bool
    age_hours: float
    idle_hours: float
    coverage: float
    join: float


def evidence(
    title: str, title_terms: frozenset[str], facts: Facts, ctx: Context
) -> dict[str, float]:
    """The development model's inputs, by name."""
    new = facts.all - ctx.known
    new_title = facts.title - ctx.known
    fresh_words = sum(1 for w in title_terms if w not in ctx.words) / max(1, len(title_terms))
    verbs = {t.normalize(m.group()) for m in _EVENT.finditer(title)}
    return {
        "new_title_figures": float(sum(1 for f in new_title if f.startswith("n:"))),
        "new_figures": float(sum(1 for f in new if f.startswith("n:"))),
        "new_title_names": float(sum(1 for f in new_title if f.startswith("e:"))),
        "new_quote": float(_new_quote(facts, ctx.known)),
        "same_feed": float(ctx.same_feed),
        "log_age": math.log1p(ctx.age_hours),
        "coverage": ctx.coverage,
        "opinion": float(bool(_OPINION.search(title))),
        "join": ctx.join,
        "new_title_words": fresh_words,
        "new_event_verb": float(any(v not in ctx.words for v in verbs)),
        "log_idle": math.log1p(ctx.idle_hours),
    }


def _new_quote(facts: Facts, known: set[str]) -> bool:
    """A quotation most of whose words the story has not carried: a new statement."""
    for _, sentence in facts.sentences:
        quoted = [f for f in sentence if f.startswith("q:")]
        if quoted and 2 * sum(1 for f in quoted if f not in known) >= len(quoted):
            return True
    return False


def whats_new(facts: Facts, known: set[str]) -> str:
    """The sentence carrying the most facts the story lacked (the headline when none does)."""
    best, best_score = "", 0
    for sentence, sentence_facts_ in facts.sentences:
        score = sum(
            3 if f.startswith("q:") else 2 if f.startswith("n:") else 1
            for f in sentence_facts_ - known
        )
        if score > best_score:
            best, best_score = sentence, score
    best = best or (facts.sentences[0][0] if facts.sentences else "")
    if len(best) > _WHATS_NEW_CHARS:
        best = best[: _WHATS_NEW_CHARS - 1].rsplit(" ", 1)[0] + "…"
    return best
