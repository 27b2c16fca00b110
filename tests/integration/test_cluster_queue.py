"""The ops role refreshes the job table's statistics after a tick deferred many jobs (stale
ones made procrastinate fetch jobs slowly after a bulk enqueue); real PostgreSQL."""

from __future__ import annotations

import pytest

pytest.importorskip("procrastinate")

from conftest import fresh_postgres_url

from bot.cluster.conninfo import libpq_conninfo
from bot.cluster.ops import ANALYZE_AFTER_JOBS, analyze_after_bulk
from bot.cluster.queue import defer_fetch_batch, queue_app
from bot.cluster.schema import apply_queue_schema

pytestmark = pytest.mark.postgres


async def _estimated_jobs(app: object) -> float:
    row = await app.connector.execute_query_one_async(  # type: ignore[attr-defined]
        "SELECT reltuples FROM pg_class WHERE relname = 'procrastinate_jobs'"
    )
    return float(row["reltuples"])


async def test_a_bulk_tick_refreshes_the_job_statistics_and_a_small_one_does_not() -> None:
    conninfo = libpq_conninfo(await fresh_postgres_url())
    await apply_queue_schema(conninfo)
    app = queue_app(conninfo)
    async with app.open_async():
        for n in range(ANALYZE_AFTER_JOBS):
            await defer_fetch_batch(app, [n], f"claim-{n}")
        assert not await analyze_after_bulk(app, ANALYZE_AFTER_JOBS - 1)
        assert await _estimated_jobs(app) < 0  # never analysed: the planner guesses
        assert await analyze_after_bulk(app, ANALYZE_AFTER_JOBS)
        assert await _estimated_jobs(app) == ANALYZE_AFTER_JOBS
