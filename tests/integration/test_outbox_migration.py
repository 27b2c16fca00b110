"""Migration 0003 on SQLite and PostgreSQL: the old "folded:" sent_ref prefix becomes a column."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, text

from bot.core.outbox import SentAlert
from bot.storage.migrate import MIGRATIONS
from bot.storage.store import SqlStore, make_engine

NOW = datetime(2026, 1, 1, tzinfo=UTC).replace(tzinfo=None)


def _upgrade_to(revision: str) -> Callable[[Connection], None]:
    def run(connection: Connection) -> None:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    return run


async def test_folded_alerts_sent_before_the_upgrade_keep_threading(database_url: str) -> None:
    engine = make_engine(database_url)
    async with engine.begin() as conn:
        await conn.run_sync(_upgrade_to("0001"))
        await conn.execute(
            text(
                "INSERT INTO chats (platform, platform_id, active, settings, created_by, "
                "created_at) VALUES ('console', 'c', true, '{}', 'u', :now)"
            ),
            {"now": NOW},
        )
        for story, ref in (("folded-story", "folded:12"), ("plain-story", "13")):
            await conn.execute(
                text(
                    "INSERT INTO outbox (chat_id, story_id, kind, dedup_key, payload, status, "
                    "attempts, next_attempt_at, sent_ref, deferred, created_at) VALUES "
                    "(1, :story, 'alert', '', '{}', 'sent', 0, :now, :ref, false, :now)"
                ),
                {"story": story, "ref": ref, "now": NOW},
            )
        await conn.run_sync(_upgrade_to("0003_outbox_columns"))
    await engine.dispose()

    store = await SqlStore.open(database_url)
    try:
        assert await store.alert_ref(1, "folded-story") == SentAlert("12", folded=True)
        assert await store.alert_ref(1, "plain-story") == SentAlert("13", folded=False)
    finally:
        await store.close()
