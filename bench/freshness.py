"""Publish→seen latency and requests per feed per day on real publishing histories; JSON last.

Each outlet of ../shared/data/stories-real*/articles.jsonl is one feed (bench/freshfarm.py,
a separate process on 127.0.0.1) whose items appear at their real `published` times. The
shipped poller, reader, store (SQLite) and pacer poll them on a driven clock that jumps to
the next due poll, so 51 hours take a few minutes. Modes:
  fixed  today's 10-minute interval;
  paced  `Pacer` (bot/core/pacing.py) with the default limits, recalibrated every 5 minutes
         of bot time from the stored states (`services.pacing.recalibrate`), as wired;
  push   WebSub on the loopback, from bench/push_latency.py's `push_latencies` when that
         module exists (else null).
Latency is from an item's `published` to the `fetched_at` of its stored row (the poll that
saw it; its alert is planned in that same transaction). The first 12 hours are warm-up for
every mode: items published and requests made in them are not counted. `--phase M` starts
the bot M minutes after the hour (fixed polling at :00 favours outlets publishing on the hour).

Usage: python bench/freshness.py [--phase MINUTES] [--datasets stories-real,...]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from feedfarm import free_port
from freshfarm import outlets, published, request_counts, set_clock, start_freshfarm
from sqlalchemy import func, select

from bot.core.pacing import DEFAULT_EXPONENT, PaceLimits, Pacer
from bot.feeds.reader import HttpFeedReader
from bot.services.poll.pacing import recalibrate
from bot.services.poll.polling import Poller
from bot.services.poll.rulebook import RuleBook
from bot.storage import tables as t
from bot.storage.store import SqlStore
from bot.story_models import load_models

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
DATASETS = ("stories-real", "stories-real-2")
WARMUP = timedelta(hours=12)
RECALIBRATE = timedelta(minutes=5)
BASE = timedelta(minutes=10)


class Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at


class Replay:
    """One mode over one dataset: a fresh database, the shipped poller, the farm's feeds."""

    def __init__(self, port: int, start: datetime, end: datetime, pacer: Pacer | None) -> None:
        self.port, self.start, self.end, self.pacer = port, start, end, pacer
        self.clock = Clock(start)

    async def run(self, feeds: int, folder: Path) -> list[float]:
        """Poll until the history ends; the latencies of the items published after warm-up."""
        store = await SqlStore.open(f"sqlite+aiosqlite:///{folder / 'fresh.db'}")
        urls = [(f"http://127.0.0.1:{self.port}/feed/{n}.xml", f"feed {n}") for n in range(feeds)]
        await store.sync_default_feeds(urls, self.start)
        reader = HttpFeedReader(allow_private=True, interval=BASE, pacer=self.pacer)
        poller = Poller(store, reader, RuleBook(store), self.clock, window=timedelta(hours=72),
                        models=load_models())  # fmt: skip
        try:
            await self._drive(store, poller)
            return await _latencies(store, self.start + WARMUP)
        finally:
            await reader.aclose()
            await store.close()

    async def _drive(self, store: SqlStore, poller: Poller) -> None:
        calibrated: datetime | None = None
        while (due := await _next_due(store)) <= self.end:
            self.clock.at = max(due, self.clock.at)
            set_clock(self.port, self.clock.at)
            if self.pacer and (calibrated is None or self.clock.at - calibrated >= RECALIBRATE):
                await recalibrate(store, self.pacer)
                calibrated = self.clock.at
            await poller.poll_once()


async def _next_due(store: SqlStore) -> datetime:
    async with store.engine.connect() as conn:
        due = await conn.scalar(select(func.min(t.feeds.c.next_poll_at)))
    assert isinstance(due, datetime)
    return due


async def _latencies(store: SqlStore, since: datetime) -> list[float]:
    query = select(t.articles.c.published, t.articles.c.fetched_at)
    async with store.engine.connect() as conn:
        rows = (await conn.execute(query.where(t.articles.c.published >= since))).all()
    return [(seen - when).total_seconds() for when, seen in rows]


def figures(latencies: list[float] | None, requests: float | None) -> dict[str, Any] | None:
    """p50/p90/p99 seconds (nearest rank) and requests per feed per day."""
    if latencies is None:
        return None
    ranked = sorted(latencies)

    def rank(q: float) -> float:
        return round(ranked[min(len(ranked) - 1, int(q * len(ranked)))], 1)

    mean = round(statistics.fmean(ranked), 1)
    return {"items": len(ranked), "p50": rank(0.5), "p90": rank(0.9), "p99": rank(0.99),
            "mean": mean, "requests_per_feed_day": requests}  # fmt: skip


async def dataset(name: str, phase: timedelta, exponent: float) -> dict[str, Any]:
    """Each mode's figures on one dataset, from the same start (the hour, plus `phase`)."""
    articles = SHARED / name / "articles.jsonl"
    histories = outlets(articles)
    times = [published(r) for rows in histories.values() for r in rows]
    start = min(times).replace(minute=0, second=0) + phase
    end = max(times) + PaceLimits().ceiling  # every item is seen, in every mode
    pacers = {"fixed": None, "paced": Pacer(PaceLimits(base=BASE), exponent=exponent)}
    modes: dict[str, Any] = {}
    for mode, pacer in pacers.items():
        modes[mode] = await _mode(articles, len(histories), Replay(0, start, end, pacer))
    modes["push"] = await _push(histories, start + WARMUP)
    return modes


async def _mode(articles: Path, feeds: int, replay: Replay) -> dict[str, Any] | None:
    """One mode on a farm of its own (request counts are the farm's)."""
    replay.port = port = free_port()
    farm = start_freshfarm(articles, port)
    try:
        with tempfile.TemporaryDirectory() as folder:
            late = await replay.run(feeds, Path(folder))
        counts = request_counts(port, replay.start + WARMUP)
    finally:
        farm.terminate()
        farm.wait()
    days = (replay.end - replay.start - WARMUP).total_seconds() / 86400
    return figures(late, round(sum(counts) / len(counts) / days, 1))


async def _push(histories: dict[str, list[dict[str, str]]], since: datetime) -> Any:
    """WebSub push latencies from bench/push_latency.py, when that module exists: its
    `push_latencies(articles)` takes article rows with `published` as a datetime, oldest
    first, and returns publish-to-saved seconds (on the wall clock), one per item. Given
    the items published after warm-up; requests per feed per day are not counted for push."""
    try:
        from push_latency import push_latencies  # type: ignore[import-not-found]
    except ImportError:
        return None
    rows = [{**r, "published": published(r)} for rows in histories.values() for r in rows]
    rows = sorted(
        (r for r in rows if r["published"] >= since), key=lambda r: (r["published"], r["id"])
    )
    return figures(list(await push_latencies(rows)), None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--phase", type=float, default=0.0, help="minutes after the hour")
    parser.add_argument("--datasets", default=",".join(DATASETS))
    parser.add_argument("--exponent", type=float, default=DEFAULT_EXPONENT,
                        help="the pacer's allocation exponent (0.5: least mean delay)")  # fmt: skip
    args = parser.parse_args()
    names = [n for n in args.datasets.split(",") if (SHARED / n / "articles.jsonl").is_file()]
    if not names:
        print(json.dumps({"skipped": f"no stories-real data under {SHARED}"}))
        return
    result: dict[str, Any] = {"warmup_hours": WARMUP.total_seconds() / 3600,
                              "phase_minutes": args.phase, "exponent": args.exponent}  # fmt: skip
    for name in names:
        modes = asyncio.run(dataset(name, timedelta(minutes=args.phase), args.exponent))
        result[name] = modes
        _print_rows(name, modes)
    print(json.dumps(result))


def _print_rows(name: str, modes: dict[str, Any]) -> None:
    for mode, row in modes.items():
        print(f"{name:15} {mode:6} {row}")
    fixed, paced = modes["fixed"], modes["paced"]
    modes["paced_over_fixed_p50"] = round(paced["p50"] / fixed["p50"], 3)
    print(f"{name:15} paced/fixed p50 {modes['paced_over_fixed_p50']}", flush=True)


if __name__ == "__main__":
    main()
