"""`storywatch migrate [--cluster]`: our migrations, and with --cluster the job queue's schema."""

from __future__ import annotations

import asyncio

from bot.compose.basics import ensure_sqlite_dir
from bot.settings import Settings
from bot.storage.store import SqlStore


async def _migrate(settings: Settings, cluster: bool) -> None:
    ensure_sqlite_dir(settings.database_url)
    store = await SqlStore.open(settings.database_url)  # opening applies our migrations
    await store.close()
    if cluster:
        from bot.cluster.conninfo import libpq_conninfo
        from bot.cluster.schema import apply_queue_schema

        created = await apply_queue_schema(libpq_conninfo(settings.database_url))
        print("job queue schema " + ("applied" if created else "already there"))
    print("database schema up to date")


def main(settings: Settings, *, cluster: bool) -> int:
    asyncio.run(_migrate(settings, cluster))
    return 0
