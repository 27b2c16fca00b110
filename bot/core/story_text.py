"""What the story index reads from an article: weighted terms, facts, lead and what is new."""

from __future__ import annotations

from dataclasses import dataclass

from bot.core import terms as t
from bot.core.models import Article
from bot.core.summarize import clean_sentences

TITLE_WEIGHT = 2.0  # a headline states the story; body words only support it
_ENTITY_BOOST = 1.5  # shared names say more than shared common words
_LEAD_SENTENCES = 3  # body sentences that describe the story (the rest wanders)
_FACT_SENTENCES = 40
_WHATS_NEW_CHARS = 200
_MIN_NOVELTY = 3


@dataclass(frozen=True, slots=True)
class ArticleFeatures:
    """An article reduced to what clustering and novelty need."""

    weights: dict[str, float]  # term → weight before IDF
    facts: frozenset[str]  # "e:" entities, "n:" numbers, "q:" quoted words
    lead: list[str]  # clean body sentences, summary candidates
    fact_sentences: list[tuple[str, frozenset[str]]]  # sentences with their facts


def sentence_facts(sentence: str) -> frozenset[str]:
    """Entities, figures and quoted words of one sentence, prefixed by their kind."""
    facts = {f"e:{e}" for e in t.entities(sentence)}
    facts.update(f"n:{n}" for n in t.numbers(sentence))
    for quote in t.quotes(sentence):
        facts.update(f"q:{w}" for w in t.terms(quote))
    return frozenset(facts)


def extract_features(article: Article) -> ArticleFeatures:
    """Weights from headline and lead, facts from headline and body."""
    body = clean_sentences(article.text, article.title)
    weights: dict[str, float] = {}
    # Sorted so that float sums, and so verdicts, do not vary with set order between runs.
    for sentence in body[:_LEAD_SENTENCES]:
        weights.update(dict.fromkeys(sorted(t.terms(sentence)), 1.0))
    weights.update(dict.fromkeys(sorted(t.terms(article.title)), TITLE_WEIGHT))
    names = t.entities(article.title) | {e for s in body[:_LEAD_SENTENCES] for e in t.entities(s)}
    for term in names & weights.keys():
        weights[term] *= _ENTITY_BOOST
    with_facts = [(s, sentence_facts(s)) for s in [article.title, *body[:_FACT_SENTENCES]] if s]
    facts = frozenset(f for _, fs in with_facts for f in fs)
    return ArticleFeatures(weights, facts, body[:8], with_facts)


def _novelty(facts: frozenset[str], known: set[str]) -> int:
    """How much a sentence adds: a new name 1, a new figure 2, a new quotation 3.

    Another outlet retelling the same event names a few extra people or bodies ("the State
    Department said"); that alone must not reach the threshold. Figures and quotations are
    what developments are made of.
    """
    new = facts - known
    quoted = [f for f in facts if f.startswith("q:")]
    new_quote = bool(quoted) and 2 * sum(1 for f in quoted if f in new) >= len(quoted)
    score = sum(1 if f.startswith("e:") else 2 for f in new if not f.startswith("q:"))
    return score + (3 if new_quote else 0)


def whats_new(features: ArticleFeatures, known: set[str]) -> str:
    """The article's most novel sentence, if it adds enough facts to the story; else ""."""
    # A headline-only item has one sentence to say it in: a new figure there is news.
    threshold = _MIN_NOVELTY if features.lead else _MIN_NOVELTY - 1
    best, best_score = "", threshold - 1
    for sentence, facts in features.fact_sentences:
        score = _novelty(facts, known)
        if score > best_score:
            best, best_score = sentence, score
    if len(best) > _WHATS_NEW_CHARS:
        best = best[: _WHATS_NEW_CHARS - 1].rsplit(" ", 1)[0] + "…"
    return best
