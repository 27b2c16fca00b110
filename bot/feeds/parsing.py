"""Feed parsing off the event loop: a process pool fed in batches, or one thread (tests, CLI).

feedparser costs milliseconds of CPU per feed; run on the event loop (or in a thread, which
holds the GIL) it delays every fetch waiting on that loop, so fetches time out behind
parsing. In worker processes it uses the other cores instead. Requests that arrive in the
same loop iteration go to a worker as one job, so one round-trip carries many feeds.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
from collections.abc import Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import datetime

from bot.feeds.parser import FeedError, ParsedFeed, parse_feed

log = logging.getLogger(__name__)

MAX_JOB_FEEDS = 32  # feeds per worker job: enough to amortise the round-trip, small enough
MAX_JOB_BYTES = 4_000_000  # to keep every worker busy and one job's memory modest


@dataclass(frozen=True, slots=True)
class ParseRequest:
    """One document to parse, with what parse_feed needs besides the bytes."""

    body: bytes
    feed_url: str
    feed_id: int
    now: datetime
    content_type: str | None = None
    max_items: int | None = None


def default_workers() -> int:
    """Cores minus one (the event loop keeps one), at least one."""
    return max(1, (os.cpu_count() or 2) - 1)


def parse_one(request: ParseRequest) -> ParsedFeed:
    return parse_feed(
        request.body,
        feed_url=request.feed_url,
        feed_id=request.feed_id,
        now=request.now,
        content_type=request.content_type,
        max_items=request.max_items,
    )


def parse_many(requests: Sequence[ParseRequest]) -> list[ParsedFeed | FeedError]:
    """Runs in a worker: each document parsed, its FeedError returned rather than raised."""
    results: list[ParsedFeed | FeedError] = []
    for request in requests:
        try:
            results.append(parse_one(request))
        except FeedError as exc:
            results.append(exc)
        except Exception as exc:  # a bug must not fail the other feeds of the job
            results.append(FeedError(f"unexpected error: {type(exc).__name__}"))
    return results


class ParsePool:
    """Parses feeds in `workers` processes (started on first use), or in a thread if 0."""

    def __init__(self, workers: int = 0) -> None:
        self._workers = workers
        self._executor: Executor | None = None
        self._pending: list[tuple[ParseRequest, asyncio.Future[ParsedFeed]]] = []
        self._flush_scheduled = False

    @property
    def processes(self) -> list[int]:
        """Worker process ids (for benchmarks: their CPU time is ours too)."""
        executor = self._executor
        if isinstance(executor, ProcessPoolExecutor):
            return [p.pid for p in (executor._processes or {}).values() if p.pid]
        return []

    async def parse(self, request: ParseRequest) -> ParsedFeed:
        """Parse one document; raises FeedError like parse_feed."""
        if self._workers <= 0:
            return await asyncio.to_thread(parse_one, request)
        loop = asyncio.get_running_loop()
        future: asyncio.Future[ParsedFeed] = loop.create_future()
        self._pending.append((request, future))
        if not self._flush_scheduled:
            self._flush_scheduled = True
            loop.call_soon(self._flush)
        return await future

    def _flush(self) -> None:
        self._flush_scheduled = False
        pending, self._pending = self._pending, []
        job: list[tuple[ParseRequest, asyncio.Future[ParsedFeed]]] = []
        size = 0
        for item in pending:
            job.append(item)
            size += len(item[0].body)
            if len(job) >= MAX_JOB_FEEDS or size >= MAX_JOB_BYTES:
                self._submit(job)
                job, size = [], 0
        if job:
            self._submit(job)

    def _submit(self, job: list[tuple[ParseRequest, asyncio.Future[ParsedFeed]]]) -> None:
        requests = [request for request, _ in job]
        task = asyncio.ensure_future(self._run(requests))
        task.add_done_callback(lambda done: _settle(job, done))

    async def _run(self, requests: list[ParseRequest]) -> list[ParsedFeed | FeedError]:
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._pool(), parse_many, requests)
        except BrokenProcessPool:
            # A worker died (killed, out of memory): this job's feeds fail this once, and
            # the next job gets a fresh pool.
            log.error("a feed parser process died; restarting the parser pool")
            self._discard()
            return [FeedError("unexpected error: the parser process died")] * len(requests)

    def _pool(self) -> Executor:
        if self._executor is None:
            # spawn, not fork: the bot's process has threads (database driver, scheduler).
            context = multiprocessing.get_context("spawn")
            self._executor = ProcessPoolExecutor(self._workers, mp_context=context)
        return self._executor

    def _discard(self) -> None:
        executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)


def _settle(
    job: list[tuple[ParseRequest, asyncio.Future[ParsedFeed]]],
    done: asyncio.Future[list[ParsedFeed | FeedError]],
) -> None:
    """Hand each waiting reader its own result (or FeedError)."""
    if done.cancelled():  # the loop is shutting down: so are the readers
        for _, future in job:
            future.cancel()
        return
    error = done.exception()
    results = done.result() if error is None else [error] * len(job)
    for (_, future), result in zip(job, results, strict=True):
        if future.done():
            continue
        if isinstance(result, BaseException):
            future.set_exception(result)
        else:
            future.set_result(result)
