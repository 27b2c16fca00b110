"""The cluster on the local PostgreSQL: 1 and 2 fetch processes, one story stage; JSON line last.

Every run starts from an empty database: N feeds on the local farm (bench/feedfarm.py, items
dated to now: three of each feed's ten inside the 72 h window), three watch rules, and one cold
cycle (every feed due at once), planned by an `ops` process in batches of 200.
- fetch runs (1 and 2 `fetch` processes, no story stage yet): feeds/s per fetch process, from
  the first fetch job's start to the last one's end; then one `stories` process drains the
  inbox the fetchers left: sustained articles/s, matching and writes included.
- latency run (2 fetch and the stories process up together): publish-to-outbox latency, from
  the cycle's start (the first plan_polls job) to each outbox row; p50 / p99.
- queue overhead per feed: plan_polls time per batch plus the gap a fetch worker spends between
  one job's end and the next one's start (with jobs waiting), divided by the batch size.
- restore: `--restore` (100,000) synthetic window articles inserted directly, then the story
  stage's cold start (StoryStage.restore) timed in this process, and what its index adds to RSS.
Usage: python bench/scale.py [--feeds 1000] [--database URL] [--restore 100000]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a plain script from a checkout

from cluster import articles as synthetic_articles  # noqa: E402
from feedfarm import free_port, start_farm  # noqa: E402
from sqlalchemy import insert, text  # noqa: E402

from bot.cluster.conninfo import libpq_conninfo  # noqa: E402
from bot.cluster.schema import apply_queue_schema  # noqa: E402
from bot.core.models import ChatSettings  # noqa: E402
from bot.services.poll.rulebook import RuleBook  # noqa: E402
from bot.services.poll.story_stage import StoryStage  # noqa: E402
from bot.settings import normalise_database_url  # noqa: E402
from bot.storage import tables as t  # noqa: E402
from bot.storage.store import SqlStore  # noqa: E402
from bot.story_models import load_models  # noqa: E402

BATCH = 200
RULES = ("missile defense", "summit -storm", "sanctions")
WAIT = 900.0  # seconds any one phase may take
WINDOW = timedelta(hours=72)


class Clock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class Run:
    """One empty database, the role processes on it, and queries against it."""

    def __init__(self, url: str, tmp: Path, farm_port: int, feeds: int) -> None:
        self.url, self.tmp, self.feeds = url, tmp, feeds
        self.config = tmp / "storywatch.toml"
        lines = ["allow_private_feeds = true", "per_host_concurrency = 200",
                 "poll_concurrency = 200", "cluster_plan_seconds = 2", "cluster_fetch_jobs = 1",
                 "cluster_max_batches_per_tick = 1000", 'log_level = "WARNING"']  # fmt: skip
        for n in range(feeds):
            lines += ["[[feeds]]", f'url = "http://127.0.0.1:{farm_port}/feed/{n}.xml"']
        self.config.write_text("\n".join(lines) + "\n")
        self.processes: list[subprocess.Popen[bytes]] = []
        self.store: SqlStore | None = None

    async def open(self) -> SqlStore:
        await _reset(self.url)
        self.store = await SqlStore.open(self.url)
        await apply_queue_schema(libpq_conninfo(self.url))
        now = datetime.now(UTC)
        for n, query in enumerate(RULES):
            chat = await self.store.upsert_chat("console", f"bench-{n}", None, "bench", now)
            await self.store.save_settings(chat.id, ChatSettings(digest_time=None))
            await self.store.add_rule(chat.id, query, 50, now)
        return self.store

    def start(self, role: str) -> None:
        env = {**os.environ, "STORYWATCH_CONFIG": str(self.config), "DATABASE_URL": self.url}
        log = (self.tmp / f"{role}-{len(self.processes)}.log").open("ab")
        self.processes.append(subprocess.Popen(
            [sys.executable, "-m", "bot", "run", "--role", role], env=env, stdout=log,
            stderr=log, stdin=subprocess.DEVNULL, cwd=self.tmp,
        ))  # fmt: skip

    async def close(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            process.wait(timeout=60)
        if self.store is not None:
            await self.store.close()

    async def one(self, sql: str) -> Any:
        assert self.store is not None
        async with self.store.engine.connect() as conn:
            return (await conn.execute(text(sql))).one()

    async def until(self, sql: str, what: str) -> None:
        """Re-read the database every 100 ms until `sql` gives true (it sends no signal)."""
        deadline = time.monotonic() + WAIT
        while not (await self.one(sql))[0]:
            if time.monotonic() > deadline:
                raise TimeoutError(what)
            await asyncio.sleep(0.1)

    async def cycle_fetched(self) -> None:
        jobs = math.ceil(self.feeds / BATCH)
        await self.until(
            "SELECT count(*) FILTER (WHERE status = 'succeeded') >= " + str(jobs)
            + " FROM procrastinate_jobs WHERE task_name = 'fetch_batch'", "the cold cycle fetched"
        )  # fmt: skip

    async def inbox_drained(self) -> None:
        await self.until("SELECT count(*) = 0 AND (SELECT count(*) FROM articles) > 0 FROM inbox",
                         "the inbox drained")  # fmt: skip


async def _reset(url: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    finally:
        await conn.close()


_SPAN = """SELECT extract(epoch FROM max(e.at) FILTER (WHERE e.type = 'succeeded')
                        - min(e.at) FILTER (WHERE e.type = 'started'))
           FROM procrastinate_events e JOIN procrastinate_jobs j ON j.id = e.job_id
           WHERE j.task_name = '{task}'"""


_FIRST = """SELECT min(e.at) FROM procrastinate_events e JOIN procrastinate_jobs j
            ON j.id = e.job_id WHERE j.task_name = '{task}' AND e.type = '{kind}'"""
# Articles that went through the story index (older ones are stored as seen, unassigned).
_IN_WINDOW = "SELECT count(*) FROM articles WHERE published > now() - interval '72 hours'"


async def fetch_then_stories(
    url: str, tmp: Path, port: int, feeds: int, fetchers: int
) -> dict[str, Any]:
    run = Run(url, tmp, port, feeds)
    await run.open()
    try:
        run.start("ops")
        for _ in range(fetchers):
            run.start("fetch")
        await run.cycle_fetched()
        fetch_s = float((await run.one(_SPAN.format(task="fetch_batch")))[0])
        queued = int((await run.one("SELECT count(*) FROM inbox"))[0])
        overhead = await _queue_overhead_ms(run) if fetchers == 1 else None
        run.start("stories")
        await run.inbox_drained()
        drained = datetime.now(UTC)  # within 100 ms of it (the inbox is re-read that often)
        began = (await run.one(_FIRST.format(task="assign_stories", kind="started")))[0]
        stage_s = (drained - began).total_seconds()
        window = int((await run.one(_IN_WINDOW))[0])
    finally:
        await run.close()
    return {
        "fetch_processes": fetchers, "feeds": feeds, "fetch_s": round(fetch_s, 2),
        "feeds_per_s_per_fetch_process": round(feeds / fetch_s / fetchers, 1),
        "inbox_articles": queued, "window_articles": window, "story_stage_s": round(stage_s, 2),
        "story_stage_articles_per_s": round(queued / stage_s, 1),
        "story_stage_window_articles_per_s": round(window / stage_s, 1),
        **({"queue_overhead_ms_per_feed": overhead} if overhead is not None else {}),
    }  # fmt: skip


async def _queue_overhead_ms(run: Run) -> float:
    """(plan_polls seconds per batch planned + mean gap between one worker's jobs) / batch."""
    assert run.store is not None
    async with run.store.engine.connect() as conn:
        events = (await conn.execute(text(
            "SELECT j.id, j.task_name, e.type, e.at FROM procrastinate_events e "
            "JOIN procrastinate_jobs j ON j.id = e.job_id "
            "WHERE e.type IN ('deferred', 'started', 'succeeded') ORDER BY e.at"
        ))).all()  # fmt: skip
    times: dict[int, dict[str, datetime]] = {}
    tasks: dict[int, str] = {}
    for job, task, kind, at in events:
        times.setdefault(job, {})[kind] = at
        tasks[job] = task
    fetch = sorted(
        (times[j] for j in times if tasks[j] == "fetch_batch"), key=lambda e: e["started"]
    )
    gaps = [(b["started"] - a["succeeded"]).total_seconds()
            for a, b in itertools.pairwise(fetch) if b["deferred"] < a["succeeded"]]  # fmt: skip
    plans = [times[j] for j in times if tasks[j] == "plan_polls" and "succeeded" in times[j]]
    plan_s = sum((p["succeeded"] - p["started"]).total_seconds() for p in plans)
    per_batch = plan_s / max(len(fetch), 1) + (statistics.mean(gaps) if gaps else 0.0)
    return round(per_batch * 1000 / BATCH, 3)


async def latency(url: str, tmp: Path, port: int, feeds: int) -> dict[str, Any]:
    run = Run(url, tmp, port, feeds)
    await run.open()
    try:
        for role in ("stories", "fetch", "fetch", "ops"):
            run.start(role)
        await run.cycle_fetched()
        await run.inbox_drained()
        assert run.store is not None
        async with run.store.engine.connect() as conn:
            start = await conn.execute(text(_FIRST.format(task="plan_polls", kind="started")))
            start = start.scalar_one()
            created = (await conn.execute(text("SELECT created_at FROM outbox"))).scalars().all()
    finally:
        await run.close()
    waits = sorted((c.replace(tzinfo=UTC) - start).total_seconds() for c in created)
    q = statistics.quantiles(waits, n=100) if len(waits) > 1 else waits * 99
    return {"latency_feeds": feeds, "outbox_rows": len(waits),
            "publish_to_outbox_p50_s": round(q[49], 2),
            "publish_to_outbox_p99_s": round(q[98], 2)}  # fmt: skip


async def restore(url: str, size: int) -> dict[str, Any]:
    await _reset(url)
    store = await SqlStore.open(url)
    try:
        now, step = datetime.now(UTC), WINDOW * 0.9 / size
        stream = synthetic_articles(7)
        rows = []
        for n in range(size):
            article, _ = next(stream)
            at = now - WINDOW * 0.95 + step * n
            rows.append({"id": article.id, "feed_id": None, "url": article.url,
                         "title": article.title, "text": article.text, "source": article.source,
                         "published": at, "story_id": article.id, "kind": "new",
                         "fetched_at": at})  # fmt: skip
        async with store.engine.begin() as conn:
            for i in range(0, size, 5000):
                await conn.execute(insert(t.articles), rows[i : i + 5000])
        del rows
        stage = StoryStage(store, RuleBook(store), Clock(), window=WINDOW, models=load_models())
        before, started = _rss_mb(), time.perf_counter()
        await stage.restore()
        took, grown = time.perf_counter() - started, _rss_mb() - before
    finally:
        await store.close()
    return {"restore_window_articles": size, "story_stage_restore_s": round(took, 2),
            "story_index_rss_mb": round(grown, 1)}  # fmt: skip


def _rss_mb() -> float:
    """This process's resident memory now (the index is what grows during a restore)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def bench(url: str, feeds: int, restore_size: int) -> dict[str, Any]:
    port = free_port()
    # The newest item of each feed a minute old: three of its ten items inside the window.
    farm = start_farm(port, base=datetime.now(UTC) - timedelta(hours=9, minutes=1))
    result: dict[str, Any] = {}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            runs = []
            for fetchers in (1, 2):
                runs.append(await fetch_then_stories(url, Path(tmp), port, feeds, fetchers))
            result["runs"] = runs
            result |= await latency(url, Path(tmp), port, feeds)
    finally:
        farm.terminate()
    if restore_size:
        result |= await restore(url, restore_size)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=1000, help="feeds in the cold cycle")
    parser.add_argument("--database", default="postgresql://postgres@127.0.0.1:5432/test_h1")
    parser.add_argument("--restore", type=int, default=100_000, help="0: skip the restore")
    args = parser.parse_args()
    url = normalise_database_url(args.database)
    if "test" not in url.rsplit("/", 1)[-1] and "bench" not in url.rsplit("/", 1)[-1]:
        sys.exit("the bench drops the database's public schema: name a test or bench database")
    load_before = os.getloadavg()
    result = asyncio.run(bench(url, args.feeds, args.restore))
    runs = result["runs"]
    line = {"bench": "scale", "database": "postgresql", **result,
            "feeds_per_s_per_fetch_process": [r["feeds_per_s_per_fetch_process"] for r in runs],
            "story_stage_articles_per_s": max(r["story_stage_articles_per_s"] for r in runs),
            "queue_overhead_ms_per_feed": runs[0].get("queue_overhead_ms_per_feed"),
            "cores": os.cpu_count(), "load_average_before": load_before,
            "load_average_after": os.getloadavg()}  # fmt: skip
    print(json.dumps(line))


if __name__ == "__main__":
    main()
