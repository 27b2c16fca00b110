"""procrastinate's tables and functions, applied once on PostgreSQL (never on SQLite)."""

from __future__ import annotations

import logging

import psycopg
from procrastinate.schema import SchemaManager

log = logging.getLogger(__name__)

# Any constant works; it only has to be the same for every storywatch process (and differ
# from the Alembic migration's key), so that processes starting together apply it once.
_LOCK_KEY = 0x5700_7178


async def apply_queue_schema(conninfo: str) -> bool:
    """Create procrastinate's schema unless it is there; True if it was created now."""
    async with await psycopg.AsyncConnection.connect(conninfo) as conn, conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
        cursor = await conn.execute("SELECT to_regclass('procrastinate_jobs') IS NOT NULL")
        row = await cursor.fetchone()
        if row is not None and row[0]:
            return False
        # The schema is procrastinate's own SQL file (no parameters: run as one script).
        await conn.execute(SchemaManager.get_schema())  # type: ignore[arg-type]
        log.info("applied the job queue's schema")
        return True
