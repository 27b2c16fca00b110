"""Slack channels' workspaces (the slack_channels table), and deactivating a workspace."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, String, Table, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.outbox import WAITING, OutboxStatus
from bot.services.chat.workspaces import Workspace
from bot.storage import tables as t
from bot.storage.cluster import bump_rules_version
from bot.storage.errors import translate_errors

PLATFORM = "slack"

slack_channels = Table(
    "slack_channels",
    t.metadata,
    Column("channel_id", String(128), primary_key=True),
    Column("team_id", String(32), nullable=False, index=True),
    Column("enterprise_id", String(32)),
    Column("seen_at", t.UTCDateTime, nullable=False),
)
c = slack_channels.c


@translate_errors
class SqlWorkspaces:
    """The WorkspaceStore port on the bot's engine."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def remember_channel(self, channel_id: str, workspace: Workspace, now: datetime) -> None:
        values = {
            "team_id": workspace.team_id,
            "enterprise_id": workspace.enterprise_id,
            "seen_at": now,
        }
        change = update(slack_channels).where(c.channel_id == channel_id).values(**values)
        async with self.engine.begin() as conn:
            if (await conn.execute(change)).rowcount:
                return
        try:
            async with self.engine.begin() as conn:
                await conn.execute(insert(slack_channels).values(channel_id=channel_id, **values))
        except IntegrityError:  # a concurrent command from the same new channel got there first
            async with self.engine.begin() as conn:
                await conn.execute(change)

    async def workspace_of(self, channel_id: str) -> Workspace | None:
        query = select(c.team_id, c.enterprise_id).where(c.channel_id == channel_id)
        async with self.engine.connect() as conn:
            row = (await conn.execute(query)).first()
        return None if row is None else Workspace(row.team_id, row.enterprise_id)

    async def deactivate_workspace(self, workspace: Workspace, reason: str) -> int:
        """Deactivate the workspace's Slack chats and cancel what they still had queued."""
        channels = select(c.channel_id).where(c.team_id == workspace.team_id)
        chats = t.chats.c
        ids = (
            select(chats.id)
            .where(chats.platform == PLATFORM, chats.platform_id.in_(channels))
            .where(chats.active.is_(True))
        )
        async with self.engine.begin() as conn:
            found = list((await conn.execute(ids)).scalars())
            if not found:
                return 0
            await conn.execute(
                update(t.chats)
                .where(chats.id.in_(found))
                .values(active=False, deactivated_reason=reason)
            )
            await bump_rules_version(conn)
            await conn.execute(
                update(t.outbox)
                .where(t.outbox.c.chat_id.in_(found))
                .where(t.outbox.c.status.in_([s.value for s in WAITING]))
                .values(status=OutboxStatus.CANCELLED.value, last_error=reason)
            )
        return len(found)
