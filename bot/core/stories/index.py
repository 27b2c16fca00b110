"""StoryIndex: the stories of the activity window, and where each new article belongs."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.core.models import Article, Source, StoryKind, StoryView
from bot.core.stories import candidates, decision, novelty
from bot.core.stories import terms as t
from bot.core.stories.boilerplate import Boilerplate
from bot.core.stories.candidates import Candidate
from bot.core.stories.features import Features, extract
from bot.core.stories.postings import Postings
from bot.core.stories.settings import StorySettings
from bot.core.stories.state import Member, StoryState
from bot.core.stories.summary import clean_sentences, representative_headline, summarize
from bot.core.stories.weights import StoryModels
from bot.core.urls import url_key

_VIEW_CACHE = 4096  # recently active stories whose view is kept until they change


@dataclass(frozen=True, slots=True)
class Assignment:
    """Where an article landed and what it means for that story."""

    article_id: str
    story_id: str
    kind: StoryKind
    whats_new: str = ""


@dataclass(slots=True)
class Considered:
    """An article read and scored against the index, not placed yet."""

    article: Article
    title: str
    sentences: list[str]
    features: Features
    arrival: decision.Arrival
    facts: novelty.Facts
    solitary: bool  # a round-up or a programme's new edition: never joins, never a link
    weigh: decision.Weigher
    candidates: list[Candidate] = field(default_factory=list)


class StoryIndex:
    """Stories active within `window` (by article `published`), found through their reports.

    `assign` = `consider` (clean, read, score candidate stories) then `settle` (place the
    article and decide repeat or development); the fitting script calls the two halves so
    it learns from exactly the evidence the bot decides on.
    """

    def __init__(
        self,
        models: StoryModels,
        window: timedelta = timedelta(hours=72),
        settings: StorySettings | None = None,
    ) -> None:
        self._models = models
        self._window = window
        self._settings = settings or StorySettings()
        self._df = t.DocumentFrequency(self._settings.prior_documents)
        self._boilerplate = Boilerplate()
        self._stories: OrderedDict[str, StoryState] = OrderedDict()  # least recently active first
        self._postings = Postings()
        self._article_story: dict[str, str] = {}
        self._url_article: dict[str, str] = {}
        self._views: OrderedDict[str, StoryView] = OrderedDict()

    def __len__(self) -> int:
        return len(self._article_story)

    def assign(self, article: Article) -> Assignment:
        """Place `article` in a story, updating the index, and say what it means for it."""
        known = self._known_story(article)
        if known is not None:
            return Assignment(article.id, known, StoryKind.REPEAT)
        considered = self.consider(article)
        return self.settle(considered, self._choice(considered))

    def restore(self, article: Article, story_id: str, kind: StoryKind) -> None:
        """Replay a stored article into its known story (at start-up); `kind` is informational.

        The article's feed memory, term counts and report are rebuilt exactly as `assign`
        built them, but no candidate story is scored: the story is known (a restart of 100,000
        window articles took minutes doing that)."""
        if self._known_story(article) is None:
            self._add(self._read(article), story_id)

    def view(self, story_id: str) -> StoryView | None:
        """The story as a chat sees it now, or None once it left the window (or never existed)."""
        story = self._stories.get(story_id)
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

    def consider(self, article: Article) -> Considered:
        """Read `article` (learning its feed's furniture) and score the stories it might tell."""
        considered = self._read(article)
        if not considered.solitary:
            considered.candidates = candidates.find(
                self._postings,
                self._df.count,
                considered.arrival,
                considered.weigh,
                self._models.join,
                self._settings,
            )
        return considered

    def _read(self, article: Article) -> Considered:
        """Everything `article` teaches the index (its feed's furniture, term counts, facts),
        before any story is scored."""
        self._expire(article.published)
        feed = _feed_key(article)
        memory = self._boilerplate.feed(feed)
        title, text = memory.clean(article.title, article.text)
        features = extract(title, text)
        self._df.add(features.all_terms)
        edition = memory.is_new_edition(
            features.template, features.title_numbers, article.published
        )
        arrival = decision.Arrival(features, feed, article.published)
        solitary = features.roundup or edition
        sentences = t.sentences(text)
        facts = novelty.facts_of(title, sentences)
        weigh = decision.Weigher(features, self._df.idf, self._df.count, self._settings)
        return Considered(article, title, sentences, features, arrival, facts, solitary, weigh)

    def settle(self, considered: Considered, story_id: str | None) -> Assignment:
        """Place the considered article in story `story_id` (None: a new story of its own)."""
        article = considered.article
        story = self._stories.get(story_id) if story_id else None
        if story is None:
            self._add(considered, story_id or article.id)
            return Assignment(article.id, story_id or article.id, StoryKind.NEW)
        develops, whats_new = self._development(considered, story)
        self._add(considered, story.id)
        kind = StoryKind.DEVELOPMENT if develops else StoryKind.REPEAT
        return Assignment(article.id, story.id, kind, whats_new if develops else "")

    def _choice(self, considered: Considered) -> str | None:
        threshold = self._settings.join_threshold
        if threshold is None:
            threshold = self._models.join.threshold
        floor = self._settings.support_floor
        return candidates.choice(
            considered.candidates, threshold, floor, considered.features, considered.weigh
        )

    def development_evidence(self, considered: Considered, story: StoryState) -> dict[str, float]:
        """The development model's inputs for the article joining `story` (before it does)."""
        candidate = next((c for c in considered.candidates if c.story is story), None)
        published = considered.article.published
        ctx = novelty.Context(
            story.facts,
            set(story.core),
            considered.arrival.feed in story.feeds,
            # Never negative: an outlet may report with a pubDate older than the story's start.
            max(0.0, (published - story.first_seen).total_seconds() / 3600),
            max(0.0, (published - story.last_active).total_seconds() / 3600),
            candidate.links[0].coverage if candidate else 0.0,
            candidate.probability if candidate else 0.0,
        )
        return novelty.evidence(considered.title, considered.features.title, considered.facts, ctx)

    def story(self, story_id: str) -> StoryState | None:
        """The live story `story_id` (for the fitting script)."""
        return self._stories.get(story_id)

    def _development(self, considered: Considered, story: StoryState) -> tuple[bool, str]:
        """Whether the article develops `story`, and its most novel sentence."""
        if considered.solitary:
            return False, ""
        model = self._models.development
        threshold = self._settings.development_threshold
        threshold = model.threshold if threshold is None else threshold
        p = model.probability(self.development_evidence(considered, story))
        if p < threshold:
            return False, ""
        return True, novelty.whats_new(considered.facts, story.facts)

    def _add(self, considered: Considered, story_id: str) -> None:
        article, f = considered.article, considered.features
        story = self._stories.get(story_id)
        if story is None:
            story = StoryState(story_id, article.published, article.published)
            self._stories[story_id] = story
        self._views.pop(story_id, None)
        story.size += 1
        story.last_active = max(story.last_active, article.published)
        self._stories.move_to_end(story_id)
        feed, weigh = considered.arrival.feed, considered.weigh
        member = Member.of(article.id, feed, article.published, f, story, weigh.own, weigh.norm)
        member.linkable = not considered.solitary
        if member.linkable:
            self._link(story, member)
        story.add_terms(f.all_terms)
        story.add_facts(considered.facts.all)
        story.add_headline(article.title, article.url)
        story.add_sentences(clean_sentences("\n".join(considered.sentences), considered.title))
        story.feeds.add(considered.arrival.feed)
        if article.source and not story.has_source(article.source):
            story.sources.append(Source(article.source, article.url))
        self._remember(story, article)

    def _link(self, story: StoryState, member: Member) -> None:
        dropped = story.add_member(member)
        if dropped is not None:
            self._postings.remove(dropped)
        self._postings.add(member)

    def _remember(self, story: StoryState, article: Article) -> None:
        story.members.append(article.id)
        self._article_story[article.id] = story.id
        if article.url:
            key = url_key(article.url)
            story.url_keys.append(key)
            self._url_article[key] = article.id

    def _known_story(self, article: Article) -> str | None:
        if article.id in self._article_story:
            return self._article_story[article.id]
        same = self._url_article.get(url_key(article.url)) if article.url else None
        return self._article_story.get(same) if same else None

    def _expire(self, now: datetime) -> None:
        """Drop stories idle longer than the window; activity order makes this amortised O(1)."""
        while self._stories:
            story = next(iter(self._stories.values()))
            if now - story.last_active <= self._window:
                return
            self._stories.popitem(last=False)
            self._views.pop(story.id, None)
            for member in story.links:
                self._postings.remove(member)
            for article_id in story.members:
                self._article_story.pop(article_id, None)
            for key in story.url_keys:
                self._url_article.pop(key, None)


def _feed_key(article: Article) -> str:
    """Which feed an article came from: its feed id in the bot, its outlet in `cluster`."""
    return f"#{article.feed_id}" if article.feed_id else article.source
