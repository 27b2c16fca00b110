"""The job queue: a procrastinate App on the bot's PostgreSQL; queue, job and lock names.

Jobs are deferred by name, so a role registers only the tasks it runs (a fetch worker defers
`assign_stories` without knowing the story stage) and each worker listens to its own queue.
"""

from __future__ import annotations

from collections.abc import Sequence

import procrastinate
from procrastinate.exceptions import AlreadyEnqueued

FETCH_QUEUE, STORIES_QUEUE, OPS_QUEUE = "fetch", "stories", "ops"
FETCH_BATCH, ASSIGN_STORIES = "fetch_batch", "assign_stories"
# One story index in the cluster: `lock` lets one assign_stories run at a time, and
# `queueing_lock` keeps at most one waiting (a wake-up, not a work item: it drains the inbox).
STORY_LOCK = "story-index"


def queue_app(conninfo: str, *, pool_size: int = 4) -> procrastinate.App:
    """The App on `conninfo` (libpq form); opened by the role that uses it."""
    connector = procrastinate.PsycopgConnector(conninfo=conninfo, min_size=1, max_size=pool_size)
    return procrastinate.App(connector=connector)


async def defer_assign_stories(app: procrastinate.App) -> bool:
    """Wake the story stage; False when a wake-up is already waiting (it reads this too)."""
    deferrer = app.configure_task(
        ASSIGN_STORIES, queue=STORIES_QUEUE, lock=STORY_LOCK, queueing_lock=STORY_LOCK
    )
    try:
        await deferrer.defer_async()
    except AlreadyEnqueued:
        return False
    return True


async def defer_fetch_batch(app: procrastinate.App, feed_ids: Sequence[int], claim: str) -> None:
    """One fetch job for a batch of feeds claimed under `claim`."""
    deferrer = app.configure_task(FETCH_BATCH, queue=FETCH_QUEUE)
    await deferrer.defer_async(feed_ids=list(feed_ids), claim=claim)
