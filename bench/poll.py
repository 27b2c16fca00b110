"""Full poll cycles over N feeds served on 127.0.0.1 (a separate process); JSON line last.

Cycle 1 fetches and parses every feed; later cycles are mostly 304 with every 50th feed
bringing a new item, as a real feed list behaves. Per cycle it prints wall and CPU seconds
of the bot (its own process plus its parser processes; never the farm), feeds/s, fetch
timeouts, and the CPU spent in story clustering (StoryIndex.assign), so the figures can
be read with and without it. `--floor` also runs a bare aiohttp + feedparser client
(bench/poll_floor.py) against an identical farm and prints the CPU ratios.

Usage: python bench/poll.py [FEEDS] [CYCLES] [--floor] [--workers N]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.compose.app import App

# The bot and the farm (aiohttp) are imported inside the functions: parser processes are
# spawned and re-import this script (multiprocessing's rule for a __main__ file);
# `storywatch run` costs them no such import, so neither should the bench.

TICK = os.sysconf("SC_CLK_TCK")


class Clock:
    def __init__(self) -> None:
        self.at = datetime(2026, 11, 1, 9, tzinfo=UTC)  # the farm's newest items are from now

    def now(self) -> datetime:
        return self.at


class Meter:
    """Counts what one cycle did, by wrapping two methods of this process's classes."""

    def __init__(self) -> None:
        from bot.core.stories import StoryIndex
        from bot.feeds.reader import HttpFeedReader

        self.cluster_s, self.timeouts = 0.0, 0
        assign, read = StoryIndex.assign, HttpFeedReader.read

        def timed_assign(index: Any, *args: Any) -> Any:
            # CPU of this thread, not wall time: on a busy machine wall time would count
            # other processes' turns as clustering.
            started = time.thread_time()
            try:
                return assign(index, *args)
            finally:
                self.cluster_s += time.thread_time() - started

        async def counted_read(reader: Any, *args: Any) -> Any:
            result = await read(reader, *args)
            self.timeouts += bool(result.error and result.error.startswith("timed out"))
            return result

        StoryIndex.assign = timed_assign  # type: ignore[method-assign]
        HttpFeedReader.read = counted_read  # type: ignore[method-assign]


def _proc_cpu(pid: int) -> float:
    """User + system CPU seconds of a live process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def _proc_peak_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _workers_cpu(app: App) -> float:
    return sum(_proc_cpu(pid) for pid in app.reader.parser_processes)


async def _admin() -> bool:
    return True


async def _start(feeds: int, port: int, db: Path, workers: int | None, clock: Clock) -> App:
    from bot.compose.app import build_app
    from bot.services.chat.ports import CommandContext
    from bot.settings import FeedConfig, Settings

    urls = [FeedConfig(url=f"http://127.0.0.1:{port}/feed/{n}.xml") for n in range(feeds)]
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{db}", allow_private_feeds=True, feeds=urls,
        poll_concurrency=200, per_host_concurrency=200, parse_workers=workers,
    )  # fmt: skip
    app = await build_app(settings, clock=clock, console=(io.StringIO(), io.StringIO()))
    ctx = CommandContext("console", "console", "bench", _admin)
    for query in ("missile defense", "summit -storm", "sanctions"):
        await app.commands.handle(ctx, f"/watch {query}")
    return app


async def _cycle(app: App, meter: Meter, feeds: int) -> dict[str, Any]:
    meter.cluster_s, meter.timeouts = 0.0, 0
    wall, cpu, workers = time.perf_counter(), time.process_time(), _workers_cpu(app)
    report = await app.poller.poll_once()
    wall = time.perf_counter() - wall
    main_cpu = time.process_time() - cpu
    worker_cpu = _workers_cpu(app) - workers  # workers started this cycle counted from 0
    return {
        "wall_s": round(wall, 2),
        "cpu_s": round(main_cpu + worker_cpu, 2),
        "cpu_main_s": round(main_cpu, 2),
        "cpu_parsers_s": round(worker_cpu, 2),
        "cluster_s": round(meter.cluster_s, 2),
        "cpu_without_cluster_s": round(main_cpu + worker_cpu - meter.cluster_s, 2),
        "feeds_per_s": round(feeds / wall, 1),
        "fetch_timeouts": meter.timeouts,
        "errors": report.errors,
        "articles": report.articles,
        "messages": report.messages,
    }


async def _bench(feeds: int, cycles: int, workers: int | None) -> dict[str, Any]:
    from feedfarm import free_port, next_cycle, start_farm  # not in the parser processes

    port, clock, meter = free_port(), Clock(), Meter()
    farm = start_farm(port)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            app = await _start(feeds, port, Path(tmp) / "bench.db", workers, clock)
            figures, peaks = [], [0.0]
            for _ in range(cycles):
                clock.at += timedelta(hours=1)
                figures.append(await _cycle(app, meter, feeds))
                peaks = [_proc_peak_mb(p) for p in app.reader.parser_processes] or peaks
                await asyncio.to_thread(next_cycle, port)
            await app.close()
    finally:
        farm.terminate()
    main_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"cycles": figures, "peak_rss_main_mb": round(main_peak, 1),
            "peak_rss_parsers_mb": round(sum(peaks), 1),
            "peak_rss_mb": round(main_peak + sum(peaks), 1)}  # fmt: skip


def _floor(feeds: int, cycles: int) -> dict[str, Any]:
    script = Path(__file__).with_name("poll_floor.py")
    out = subprocess.run(
        [sys.executable, str(script), str(feeds), str(cycles)],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def _summary(result: dict[str, Any], floor: dict[str, Any] | None) -> dict[str, Any]:
    cycles: list[dict[str, Any]] = result["cycles"]
    steady = cycles[1:] or cycles
    worst: Callable[[str], float] = lambda key: max(c[key] for c in steady)  # noqa: E731
    summary = {
        "cold_wall_s": cycles[0]["wall_s"], "cold_cpu_s": cycles[0]["cpu_s"],
        "cold_cluster_s": cycles[0]["cluster_s"],
        "steady_wall_s": worst("wall_s"), "steady_cpu_s": worst("cpu_s"),
        "steady_cpu_ms_per_feed": round(worst("cpu_s") * 1000 / result["feeds"], 3),
        "fetch_timeouts": sum(c["fetch_timeouts"] for c in cycles),
    }  # fmt: skip
    if floor is not None:
        fc = floor["cycles"]
        floor_steady = max(c["cpu_s"] for c in fc[1:] or fc)
        summary |= {
            "floor_cold_cpu_s": fc[0]["cpu_s"], "floor_steady_cpu_s": floor_steady,
            "cold_cpu_ratio": round(cycles[0]["cpu_s"] / fc[0]["cpu_s"], 2),
            "cold_cpu_ratio_without_cluster": round(
                cycles[0]["cpu_without_cluster_s"] / fc[0]["cpu_s"], 2),
            "steady_cpu_ratio": round(worst("cpu_s") / floor_steady, 2),
        }  # fmt: skip
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("feeds", type=int, nargs="?", default=10_000)
    parser.add_argument("cycles", type=int, nargs="?", default=3)
    parser.add_argument("--floor", action="store_true", help="also run the bare client")
    parser.add_argument("--workers", type=int, default=None, help="parser processes")
    args = parser.parse_args()
    load_before = os.getloadavg()
    result = {"feeds": args.feeds, **asyncio.run(_bench(args.feeds, args.cycles, args.workers))}
    floor = _floor(args.feeds, args.cycles) if args.floor else None
    line = {
        "bench": "poll", "database": "sqlite", **result, **_summary(result, floor),
        "floor": floor, "load_average_before": load_before, "load_average_after": os.getloadavg(),
        "note": "per-host cap raised to 200: every bench feed is on 127.0.0.1",
    }  # fmt: skip
    print(json.dumps(line))


if __name__ == "__main__":
    main()
