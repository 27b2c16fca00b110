"""The fetch and story-stage tasks, bound to the services of the process that runs them."""

from __future__ import annotations

import logging

import procrastinate

from bot.cluster.queue import (
    ASSIGN_STORIES,
    FETCH_BATCH,
    FETCH_QUEUE,
    STORIES_QUEUE,
    STORY_LOCK,
    defer_assign_stories,
)
from bot.services.poll.fetch_stage import FetchStage
from bot.services.poll.story_stage import StoryStage

log = logging.getLogger(__name__)


def register_fetch(app: procrastinate.App, stage: FetchStage) -> None:
    """`fetch_batch(feed_ids, claim)`: read the feeds still claimed under `claim`, write
    their states and new articles to the inbox, then wake the story stage."""

    @app.task(name=FETCH_BATCH, queue=FETCH_QUEUE)
    async def fetch_batch(feed_ids: list[int], claim: str) -> None:
        report = await stage.run(feed_ids, claim)
        log.debug("fetch batch %s: %s", claim, report)
        if report.queued:
            await defer_assign_stories(app)


def register_stories(app: procrastinate.App, stage: StoryStage) -> None:
    """`assign_stories()`: the one story stage drains the inbox (see bot.cluster.queue)."""

    @app.task(name=ASSIGN_STORIES, queue=STORIES_QUEUE, lock=STORY_LOCK, queueing_lock=STORY_LOCK)
    async def assign_stories() -> None:
        report = await stage.drain()
        log.debug("story stage: %s", report)
