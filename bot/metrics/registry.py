"""The metrics storywatch exports, on a registry of its own (no module-level globals).

Counters move as work happens (polls, saves, deliveries, digests); gauges read from the
database and the caches are refreshed when /metrics is scraped, so any process reports the
same outbox and feed health.
"""

from __future__ import annotations

from collections.abc import Sequence

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, ProcessCollector

from bot.services.records import OpsSnapshot

NS = "storywatch"
POLL_BUCKETS = (0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600)


class Metrics:
    """Every metric, registered on `registry` (rendered by the /metrics endpoint)."""

    def __init__(self, platforms: Sequence[str] = ()) -> None:
        self.platforms = tuple(platforms)  # always shown, 0 when nothing waits
        self.registry = reg = CollectorRegistry()
        ProcessCollector(registry=reg)  # process_resident_memory_bytes, CPU, open fds
        self.feeds_polled = Counter(f"{NS}_feeds_polled", "Feeds polled", registry=reg)
        self.feed_errors = Counter(f"{NS}_feed_errors", "Feed polls that failed", registry=reg)
        self.poll_seconds = Histogram(f"{NS}_poll_cycle_seconds", "Poll cycle duration",
                                      buckets=POLL_BUCKETS, registry=reg)  # fmt: skip
        self.articles = Counter(f"{NS}_articles", "New articles stored", registry=reg)
        self.stories = Counter(f"{NS}_stories", "New stories", registry=reg)
        self.planned = Counter(f"{NS}_messages_planned", "Messages planned into the outbox",
                               ["kind"], registry=reg)  # fmt: skip
        self.sent = Counter(f"{NS}_messages_sent", "Messages delivered",
                            ["platform", "kind"], registry=reg)  # fmt: skip
        self.failed = Counter(f"{NS}_delivery_errors", "Delivery attempts that failed",
                              ["platform", "error"], registry=reg)  # fmt: skip
        self.rate_limited = Counter(f"{NS}_rate_limited", "429s / rate limits met",
                                    ["platform"], registry=reg)  # fmt: skip
        self.retry_after = Counter(f"{NS}_retry_after_seconds", "Retry-After seconds asked for",
                                   ["platform"], registry=reg)  # fmt: skip
        self.digests = Counter(f"{NS}_digest_slots", "Scheduled digests queued", registry=reg)
        self._gauges(reg)

    def _gauges(self, reg: CollectorRegistry) -> None:
        self.feeds = Gauge(f"{NS}_feeds", "Feeds known", ["state"], registry=reg)
        self.outbox_depth = Gauge(f"{NS}_outbox_pending", "Messages waiting to be sent",
                                  ["platform"], registry=reg)  # fmt: skip
        self.outbox_failed = Gauge(f"{NS}_outbox_failed", "Messages given up (kept in the outbox)",
                                   ["platform"], registry=reg)  # fmt: skip
        self.oldest_pending = Gauge(f"{NS}_outbox_oldest_pending_seconds",
                                    "Age of the oldest message waiting", registry=reg)  # fmt: skip
        self.rules = Gauge(f"{NS}_rules", "Watch rules of active chats", registry=reg)
        self.story_index = Gauge(f"{NS}_story_index_articles", "Articles in the story index",
                                 registry=reg)  # fmt: skip
        self.last_run = Gauge(f"{NS}_job_last_run_timestamp_seconds",
                              "When each scheduled job last finished", ["job"],
                              registry=reg)  # fmt: skip

    def show(self, snapshot: OpsSnapshot, stories: int) -> None:
        """Set the gauges from a fresh snapshot."""
        for state, count in (("all", snapshot.feeds), ("erroring", snapshot.feeds_erroring),
                             ("failing", snapshot.feeds_failing),
                             ("backing_off", snapshot.feeds_backing_off)):  # fmt: skip
            self.feeds.labels(state).set(count)
        for gauge, counts in ((self.outbox_depth, snapshot.outbox_pending),
                              (self.outbox_failed, snapshot.outbox_failed)):  # fmt: skip
            for platform in dict.fromkeys((*self.platforms, *counts)):
                gauge.labels(platform).set(counts.get(platform, 0))
        self.oldest_pending.set(snapshot.oldest_pending_seconds)
        self.rules.set(snapshot.rules)
        self.story_index.set(stories)
