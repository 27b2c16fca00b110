"""Workspaces of a chat platform serving many (Slack installed by OAuth in many teams).

A channel's workspace is remembered when a command or event comes from it, so deliveries can
pick that workspace's token; when a workspace uninstalls the app (or revokes its bot token)
every chat in it is deactivated, and the other workspaces are untouched.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from bot.services.ports import Clock

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Workspace:
    """A Slack team (and its Enterprise Grid org, if any)."""

    team_id: str
    enterprise_id: str | None = None


class WorkspaceStore(Protocol):
    """Which workspace each channel belongs to, and deactivating a workspace's chats."""

    async def remember_channel(
        self, channel_id: str, workspace: Workspace, now: datetime
    ) -> None: ...

    async def workspace_of(self, channel_id: str) -> Workspace | None: ...

    async def deactivate_workspace(self, workspace: Workspace, reason: str) -> int: ...


class Workspaces:
    """The use case; `seen` writes once per channel and process, not once per command."""

    def __init__(self, store: WorkspaceStore, clock: Clock) -> None:
        self._store, self._clock = store, clock
        self._known: dict[str, Workspace] = {}

    async def seen(self, channel_id: str, workspace: Workspace) -> None:
        if self._known.get(channel_id) == workspace:
            return
        await self._store.remember_channel(channel_id, workspace, self._clock.now())
        self._known[channel_id] = workspace

    async def of_channel(self, channel_id: str) -> Workspace | None:
        known = self._known.get(channel_id)
        return known if known is not None else await self._store.workspace_of(channel_id)

    async def gone(self, workspace: Workspace, reason: str) -> int:
        """Deactivate every chat of `workspace`; how many there were."""
        count = await self._store.deactivate_workspace(workspace, reason)
        log.info("workspace %s: %s; %s chat(s) deactivated", workspace.team_id, reason, count)
        self._known = {c: w for c, w in self._known.items() if w != workspace}
        return count
