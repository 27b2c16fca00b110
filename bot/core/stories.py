"""Online story clustering: each article joins the story it tells or starts a new one.

Rule order in `StoryIndex.assign`:
1. an article id already indexed is a REPEAT of its story (idempotent replays);
2. an article whose canonical url is indexed is the same article, so a REPEAT too;
3. otherwise candidate stories come from an inverted index over the article's most salient
   terms (never all pairs), each is scored (less the longer it has been quiet: news comes in
   bursts, and a burst a day later is most often a new turn), and the best one above the
   threshold wins; other stories the article matches strongly, and that overlap the winner
   on their own, were fragments of one story and are folded into the largest
   (`Assignment.merged_from`);
4. joining a story is a DEVELOPMENT when the article brings facts the story lacked, else REPEAT;
   starting one is NEW, and the story's id is the first article's id.

Memory per story is bounded (see story_state); the index is a cache rebuilt with `restore`.
Document frequencies are kept for every term ever seen (the vocabulary, not the articles).
"""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from bot.core import terms as t
from bot.core.models import Article, Source, StoryKind, StoryView
from bot.core.story_state import StoryState
from bot.core.story_text import TITLE_WEIGHT, ArticleFeatures, extract_features, whats_new
from bot.core.summarize import representative_headline, summarize

_PROBE_TERMS = 8  # most salient article terms used to look up candidates
_POSTING_CAP = 400  # a term shared by more live stories than this is not salient
_CANDIDATE_CAP = 16  # stories scored in full per assignment
_MIN_SHARED = 2  # one shared word is a coincidence, not a story
_VIEW_CACHE = 4096  # recently active stories whose view is kept until they change
_COMMON_IDF = 1.0  # IDF of a word in a third of all articles: no evidence of a shared story


@dataclass(frozen=True, slots=True)
class Assignment:
    """Where an article landed and what it means for that story."""

    article_id: str
    story_id: str
    kind: StoryKind
    whats_new: str = ""
    # Stories this article showed to be fragments of `story_id`, folded into it now: their
    # members belong to `story_id` from here on (the index already answers for their ids).
    merged_from: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class MatchSettings:
    """Knobs of the matcher; the defaults favour precision, since a wrong merge hides a story."""

    threshold: float = 6.0  # about two rare headline terms, or one name and a rare word
    merge_threshold: float = 8.0  # two live stories this close to one article are one story...
    merge_overlap: float = 0.2  # ...if they also share this much between themselves
    min_coverage: float = 0.15  # share of the article's weight the story must explain
    # News comes in bursts: a story silent for half a day that gets the same words again is
    # most often a new turn (another game launch, another hearing), so it needs a far stronger
    # match than a story that moved minutes ago. Share of the score lost by a long-idle story,
    # and the idle time at which half of that share is lost.
    time_penalty: float = 0.9
    idle_half_life: timedelta = timedelta(hours=6)
    prior_documents: int = 100  # see terms.DocumentFrequency


def url_key(url: str) -> str:
    """Canonical link: scheme, `www.`, fragment, tracking query and trailing `/` dropped."""
    parts = urlsplit(url.strip())
    host = parts.netloc.lower().removeprefix("www.")
    query = "&".join(
        p for p in parts.query.split("&") if p and not p.lower().startswith(("utm_", "fbclid"))
    )
    path = parts.path.rstrip("/")
    return f"{host}{path}?{query}" if query else f"{host}{path}"


class StoryIndex:
    """Stories active within `window` (by article `published`), with a term → story index."""

    def __init__(
        self, window: timedelta = timedelta(hours=72), settings: MatchSettings | None = None
    ) -> None:
        self._window = window
        self._settings = settings or MatchSettings()
        self._df = t.DocumentFrequency(self._settings.prior_documents)
        self._stories: OrderedDict[str, StoryState] = OrderedDict()  # least recently active first
        self._postings: dict[str, set[str]] = {}
        self._article_story: dict[str, str] = {}
        self._url_article: dict[str, str] = {}
        self._aliases: dict[str, str] = {}  # merged-away story id → the story that took it in
        # Summaries cost a pass over the story's sentences: keep recent views until they change.
        self._views: OrderedDict[str, StoryView] = OrderedDict()

    def __len__(self) -> int:
        return len(self._article_story)

    def assign(self, article: Article) -> Assignment:
        """Place `article` in a story, updating the index, and say what it means for it."""
        known = self._known_story(article)
        if known is not None:
            return Assignment(article.id, known, StoryKind.REPEAT)
        self._expire(article.published)
        features = extract_features(article)
        self._df.add(features.weights)
        story, merged = self._best_story(features, article.published)
        if story is None:
            self._add(article, features, article.id)
            return Assignment(article.id, article.id, StoryKind.NEW)
        novel = whats_new(features, story.facts)
        self._add(article, features, story.id)
        kind = StoryKind.DEVELOPMENT if novel else StoryKind.REPEAT
        return Assignment(article.id, story.id, kind, novel, merged)

    def restore(self, article: Article, story_id: str, kind: StoryKind) -> None:
        """Replay a stored article into its known story (at start-up); `kind` is informational."""
        if self._known_story(article) is not None:
            return
        self._expire(article.published)
        features = extract_features(article)
        self._df.add(features.weights)
        self._add(article, features, self._aliases.get(story_id, story_id))

    def view(self, story_id: str) -> StoryView | None:
        """The story as a chat sees it now, or None once it left the window (or never existed)."""
        story = self._stories.get(self._aliases.get(story_id, story_id))
        if story is None:
            return None
        cached = self._views.get(story.id)
        if cached is not None:
            self._views.move_to_end(story.id)
            return cached
        headline, url = representative_headline(story.headlines)
        summary = summarize(story.sentences, headline)
        view = StoryView(story.id, headline, url, summary, tuple(story.sources))
        self._views[story.id] = view
        if len(self._views) > _VIEW_CACHE:
            self._views.popitem(last=False)
        return view

    def story_of(self, article_id: str) -> str | None:
        """The story an indexed article belongs to."""
        return self._article_story.get(article_id)

    def _known_story(self, article: Article) -> str | None:
        if article.id in self._article_story:
            return self._article_story[article.id]
        same = self._url_article.get(url_key(article.url)) if article.url else None
        return self._article_story.get(same) if same else None

    def _best_story(
        self, features: ArticleFeatures, now: datetime
    ) -> tuple[StoryState | None, tuple[str, ...]]:
        """The best-scoring story above the threshold; others above the merge threshold were
        fragments of it (told in words that only this article bridges) and are folded in."""
        rarity = {term: self._df.idf(term) for term in features.weights}  # once, not per story
        scored = [(self._score(features, rarity, s, now), s) for s in self._candidates(features)]
        scored = sorted(
            (x for x in scored if x[0] >= self._settings.threshold),
            key=lambda x: (x[0], x[1].size, x[1].id),
            reverse=True,
        )
        if not scored:
            return None, ()
        top = scored[0][1]
        group = [top] + [
            s
            for score, s in scored[1:]
            if score >= self._settings.merge_threshold
            and self._overlap(top, s) >= self._settings.merge_overlap
        ]
        # The largest fragment survives: most of the story's readers already know its id.
        best = max(group, key=lambda s: s.size)
        for other in group:
            if other is not best:
                self._merge(best, other)
        return best, tuple(other.id for other in group if other is not best)

    def _overlap(self, a: StoryState, b: StoryState) -> float:
        """How much two stories share on their own, so a round-up headline naming two stories
        cannot weld them together: IDF-weighted overlap of typical terms, over the smaller."""
        weight_a = {term: self._df.idf(term) * n / a.size for term, n in a.profile.items()}
        weight_b = {term: self._df.idf(term) * n / b.size for term, n in b.profile.items()}
        common = sum(min(w, weight_b[term]) for term, w in weight_a.items() if term in weight_b)
        return common / (min(sum(weight_a.values()), sum(weight_b.values())) or 1.0)

    def _merge(self, survivor: StoryState, other: StoryState) -> None:
        del self._stories[other.id]
        self._views.pop(other.id, None)
        self._views.pop(survivor.id, None)
        for term in other.profile:
            self._unpost(term, other.id)
            self._postings.setdefault(term, set()).add(survivor.id)
        survivor.absorb(other)
        for article_id in other.members:
            self._article_story[article_id] = survivor.id
        for alias in [other.id, *other.aliases]:
            self._aliases[alias] = survivor.id
        survivor.aliases.extend([other.id, *other.aliases])

    def _candidates(self, features: ArticleFeatures) -> list[StoryState]:
        # Rarest terms first, skipping those only this article has: they have no postings.
        seen = [term for term in features.weights if self._df.count(term) > 1]
        probes = sorted(seen, key=lambda term: (self._df.count(term), term))[:_PROBE_TERMS]
        hits: dict[str, int] = {}
        for term in probes:
            posting = self._postings.get(term, ())
            if len(posting) > _POSTING_CAP:
                continue
            for story_id in posting:
                hits[story_id] = hits.get(story_id, 0) + 1
        # Ties broken by id: set order varies between runs and replays must not.
        ranked = sorted(hits, key=lambda s: (hits[s], s), reverse=True)[:_CANDIDATE_CAP]
        return [self._stories[s] for s in ranked]

    def _score(
        self, features: ArticleFeatures, idf: dict[str, float], story: StoryState, now: datetime
    ) -> float:
        """Evidence that the article tells this story, in IDF units: each shared term counts by
        its rarity beyond everyday words, its place (headline over body) and how many of the
        story's members use it. Zero when the story explains too little of the article (one
        shared name in an otherwise different story) or shares a single term; scaled down by
        the time since the story last moved."""
        total = covered = evidence = 0.0
        shared = 0
        for term, weight in features.weights.items():
            total += weight * idf[term]
            count = story.profile.get(term)
            if count:
                shared += 1
                typical = min(1.0, 2.0 * count / story.size) ** 0.5
                covered += weight * idf[term] * typical
                evidence += weight / TITLE_WEIGHT * max(0.0, idf[term] - _COMMON_IDF) * typical
        if shared < _MIN_SHARED or covered < self._settings.min_coverage * total:
            return 0.0
        return evidence * self._freshness(story, now)

    def _freshness(self, story: StoryState, now: datetime) -> float:
        """Share of a match's score kept after the story's idle time: 1 for a story that just
        moved, falling by half the penalty each `idle_half_life` towards 1 - `time_penalty`."""
        idle = max(timedelta(0), now - story.last_active) / self._settings.idle_half_life
        return 1.0 - self._settings.time_penalty * (1.0 - math.pow(0.5, idle))

    def _add(self, article: Article, features: ArticleFeatures, story_id: str) -> None:
        story = self._stories.get(story_id)
        if story is None:
            story = StoryState(story_id, article.published)
            self._stories[story_id] = story
        self._views.pop(story_id, None)
        story.size += 1
        story.last_active = max(story.last_active, article.published)
        self._stories.move_to_end(story_id)
        for term in story.add_terms(dict.fromkeys(features.weights, 1.0)):
            self._unpost(term, story_id)
        for term in features.weights:
            if term in story.profile:
                self._postings.setdefault(term, set()).add(story_id)
        story.add_facts(features.facts)
        story.add_headline(article.title, article.url)
        story.add_sentences(features.lead)
        if article.source and not story.has_source(article.source):
            story.sources.append(Source(article.source, article.url))
        story.members.append(article.id)
        self._article_story[article.id] = story_id
        if article.url:
            key = url_key(article.url)
            story.url_keys.append(key)
            self._url_article[key] = article.id

    def _unpost(self, term: str, story_id: str) -> None:
        posting = self._postings.get(term)
        if posting is not None:
            posting.discard(story_id)
            if not posting:
                del self._postings[term]

    def _expire(self, now: datetime) -> None:
        """Drop stories idle longer than the window; activity order makes this amortised O(1)."""
        while self._stories:
            story = next(iter(self._stories.values()))
            if now - story.last_active <= self._window:
                return
            self._stories.popitem(last=False)
            self._views.pop(story.id, None)
            for term in story.profile:
                self._unpost(term, story.id)
            for article_id in story.members:
                self._article_story.pop(article_id, None)
            for key in story.url_keys:
                self._url_article.pop(key, None)
            for alias in story.aliases:
                self._aliases.pop(alias, None)
