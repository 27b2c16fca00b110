"""Planning new articles: stories, matching chats and the messages each chat should get.

Shared by the embedded poller (`all`) and the cluster's story stage: both feed it the new
articles of a batch and save what it put into the PollBatch in one transaction.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.core.alerts import ChatTarget, plan_alerts
from bot.core.matcher import highlight
from bot.core.models import Article, Chat, Highlight, StoryKind, StoryView
from bot.core.seen import unseen_once
from bot.core.stories import Assignment, StoryIndex, StoryModels
from bot.services.poll.ports import PlanPort
from bot.services.poll.rulebook import ChatHit, RuleBook
from bot.services.records import PollBatch, StoredArticle, StoryRecord

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class _BatchContext:
    """What planning one poll batch needs to know about chats, read once per batch."""

    followers: dict[str, dict[int, bool]]
    audience: dict[int, frozenset[int] | None]
    chats: dict[int, Chat]
    now: datetime
    # Each story's (outlet, link) pairs, built once: a story may list a thousand outlets.
    outlets: dict[str, frozenset[tuple[str, str]]] = field(default_factory=dict)


class StoryPlanner:
    """The story index (a cache rebuilt from storage) and the planning of a batch on it."""

    def __init__(
        self,
        store: PlanPort,
        rules: RuleBook,
        *,
        window: timedelta,
        models: StoryModels,
    ) -> None:
        self._store, self._rules, self._window, self._models = store, rules, window, models
        self.stories = StoryIndex(models, window=window)

    async def restore(self, now: datetime) -> None:
        """Replay the window's stored articles so the same stories continue.

        Rebuilt in a worker thread, then swapped in: at 100,000 window articles this is tens
        of seconds of CPU, and the event loop must keep answering (chat commands; a cluster
        worker's heartbeat, without which its job would be taken for dead and retried)."""
        stored = await self._store.recent_articles(now - self._window)
        self.stories = await asyncio.to_thread(self._rebuilt, stored)

    def _rebuilt(self, stored: list[StoredArticle]) -> StoryIndex:
        index = StoryIndex(self._models, window=self._window)
        for s in stored:
            index.restore(s.article, s.story_id, s.kind)
        return index

    async def plan(self, articles: list[Article], batch: PollBatch, now: datetime) -> None:
        """Put the unseen ones of `articles` into `batch`, with their stories and messages."""
        fresh = await self._unseen(articles)
        recent = self._remember_old(fresh, batch, now)
        await self._assign_and_plan(recent, batch, now)

    async def _unseen(self, articles: list[Article]) -> list[Article]:
        """New articles only: not stored yet (by id or url), each once, oldest first."""
        known = await self._store.known_articles(
            [a.id for a in articles], [a.url for a in articles if a.url]
        )
        return unseen_once(articles, known)

    def _remember_old(self, fresh: list[Article], batch: PollBatch, now: datetime) -> list[Article]:
        """Items older than the story window (a new feed's backlog) are stored as seen, never
        alerted: nobody wants last month's news as an alert. The rest are returned."""
        horizon = now - self._window
        recent = []
        for article in fresh:
            if article.published < horizon:
                batch.articles.append(StoredArticle(article, article.id, StoryKind.NEW))
            else:
                recent.append(article)
        return recent

    async def _assign_and_plan(self, fresh: list[Article], batch: PollBatch, now: datetime) -> None:
        if not fresh:
            return
        assignments = [(a, self._assign(a)) for a in fresh]
        # One view per story, after the whole batch: an alert shows every outlet of the batch.
        views = {s.story_id: self.stories.view(s.story_id) for _, s in assignments}
        context = _BatchContext(
            await self._store.followers(list(views)),
            await self._store.feed_audience(list({a.feed_id for a in fresh})),
            {c.id: c for c in await self._store.active_chats()},
            now,
        )
        for article, assignment in assignments:
            view = views[assignment.story_id]
            if view is not None:
                self._plan_article(batch, context, article, assignment, view)

    def _assign(self, article: Article) -> Assignment:
        """The index's decision; an article it fails on becomes a story of its own, so one
        odd item never stops its whole batch (and every poll after it) from being saved."""
        try:
            return self.stories.assign(article)
        except Exception:
            log.exception("story assignment failed for %s; alerting it on its own", article.id)
            self.stories.restore(article, article.id, StoryKind.NEW)
            return Assignment(article.id, article.id, StoryKind.NEW)

    def _plan_article(
        self,
        batch: PollBatch,
        context: _BatchContext,
        article: Article,
        assignment: Assignment,
        view: StoryView,
    ) -> None:
        story_id, kind = assignment.story_id, assignment.kind
        batch.articles.append(StoredArticle(article, story_id, kind))
        self._record_story(batch, story_id, article, kind, view, context.now)
        following = context.followers.setdefault(story_id, {})
        readers = context.audience.get(article.feed_id)
        targets = self._targets(article, following, readers, context.chats)
        gained = _brought_outlet(article, kind, view, context)
        new, now = assignment.whats_new, context.now
        plan = plan_alerts(article, kind, new, view, targets, gained_source=gained, now=now)
        batch.messages.extend(plan.messages)
        batch.matches.extend(plan.matches)
        following.update(dict.fromkeys((m.chat_id for m in plan.matches), False))

    @staticmethod
    def _record_story(
        batch: PollBatch,
        story_id: str,
        article: Article,
        kind: StoryKind,
        view: StoryView,
        now: datetime,
    ) -> None:
        old = batch.stories.get(story_id)
        developments = (old.new_developments if old else 0) + (kind is StoryKind.DEVELOPMENT)
        first = old.first_seen if old else article.published
        batch.stories[story_id] = StoryRecord(view, first, now, developments)

    def _targets(
        self,
        article: Article,
        following: dict[int, bool],
        readers: frozenset[int] | None,
        chats: dict[int, Chat],
    ) -> list[ChatTarget]:
        hits = {h.chat_id: h for h in self._rules.match(article.title, article.text)}
        targets: list[ChatTarget] = []
        for chat_id in set(following) | set(hits):
            chat = chats.get(chat_id)
            if chat is None:
                continue
            hit = hits.get(chat_id) if readers is None or chat_id in readers else None
            targets.append(
                self._target(
                    chat, chat_id in following, following.get(chat_id, False), hit, article
                )
            )
        return targets

    @staticmethod
    def _target(
        chat: Chat, following: bool, muted: bool, hit: ChatHit | None, article: Article
    ) -> ChatTarget:
        if hit is None:
            return ChatTarget(chat, following, muted)
        snippet = highlight(article.title, article.text, hit.hit)
        # Paragraph breaks read as spaces in a one-line snippet (same length: spans still fit).
        snippet = Highlight(snippet.text.replace("\n", " "), snippet.spans)
        return ChatTarget(chat, following, muted, hit.rule.query, snippet, hit.hit.terms)


def _brought_outlet(
    article: Article, kind: StoryKind, view: StoryView, context: _BatchContext
) -> bool:
    """True when this article added its outlet to the story (a view lists each outlet with
    the link of its first article), so the alert's sources line needs an edit."""
    if kind is StoryKind.NEW:
        return False
    outlets = context.outlets.get(view.story_id)
    if outlets is None:
        outlets = context.outlets[view.story_id] = frozenset((s.name, s.url) for s in view.sources)
    return (article.source, article.url) in outlets
