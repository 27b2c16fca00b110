"""Slack for many workspaces: bolt's OAuth install flow, a token per workspace, uninstalls.

Installations live in slack-sdk's own schema (slack_installations, slack_bots,
slack_oauth_states; created by our migration 0005) on the bot's database, read and written
by slack-sdk's *async* SQLAlchemy stores on the bot's AsyncEngine, so no store call blocks
the event loop. Bolt finds each request's workspace token through the installation store;
deliveries find it from the channel's remembered workspace (bot.services.chat.workspaces).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore
from slack_sdk.web.async_client import AsyncWebClient

from bot.services.chat.workspaces import Workspace, Workspaces
from bot.services.errors import DestinationGone

log = logging.getLogger(__name__)

INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"


@dataclass(frozen=True)
class SlackOAuth:
    """What the install flow needs; the stores are built by the composition root."""

    client_id: str
    client_secret: str
    scopes: Sequence[str]
    installations: AsyncInstallationStore
    states: AsyncOAuthStateStore
    redirect_uri: str | None = None
    authorization_url: str | None = None  # Slack's own page unless set (tests)

    def settings(self) -> AsyncOAuthSettings:
        return AsyncOAuthSettings(
            client_id=self.client_id,
            client_secret=self.client_secret,
            scopes=list(self.scopes),
            redirect_uri=self.redirect_uri,
            install_path=INSTALL_PATH,
            redirect_uri_path=REDIRECT_PATH,
            installation_store=self.installations,
            state_store=self.states,
            authorization_url=self.authorization_url,
        )


class WorkspaceClients:
    """A Web API client with the bot token of the workspace a channel belongs to."""

    def __init__(
        self,
        template: AsyncWebClient,
        installations: AsyncInstallationStore,
        workspaces: Workspaces,
    ) -> None:
        self._template, self._installations, self._workspaces = template, installations, workspaces
        self._clients: dict[str, AsyncWebClient] = {}

    async def for_channel(self, channel_id: str) -> AsyncWebClient:
        workspace = await self._workspaces.of_channel(channel_id)
        if workspace is None:
            raise DestinationGone("no workspace is known for this channel")
        bot = await self._installations.async_find_bot(
            enterprise_id=workspace.enterprise_id, team_id=workspace.team_id
        )
        if bot is None or not bot.bot_token:
            raise DestinationGone("the app is not installed in this channel's workspace")
        return self._client(bot.bot_token)

    def _client(self, token: str) -> AsyncWebClient:
        client = self._clients.get(token)
        if client is None:
            t = self._template
            client = self._clients[token] = AsyncWebClient(
                token=token, base_url=t.base_url, timeout=t.timeout, retry_handlers=[]
            )
        return client


class Lifecycle:
    """app_uninstalled and tokens_revoked: forget the tokens, deactivate the workspace's chats."""

    def __init__(
        self, workspaces: Workspaces, installations: AsyncInstallationStore | None
    ) -> None:
        self._workspaces, self._installations = workspaces, installations

    def register(self, app: AsyncApp) -> None:
        app.event("app_uninstalled")(self.on_uninstalled)
        app.event("tokens_revoked")(self.on_tokens_revoked)

    async def on_uninstalled(self, context: Any) -> None:
        workspace = _workspace(context)
        if workspace is None:
            return
        if self._installations is not None:
            await self._installations.async_delete_all(
                enterprise_id=workspace.enterprise_id, team_id=workspace.team_id
            )
        await self._workspaces.gone(workspace, "app uninstalled from the workspace")

    async def on_tokens_revoked(self, event: dict[str, Any], context: Any) -> None:
        workspace = _workspace(context)
        tokens = event.get("tokens") or {}
        if workspace is None:
            return
        for user_id in tokens.get("oauth") or []:  # user tokens: we never use them
            if self._installations is not None:
                await self._installations.async_delete_installation(
                    enterprise_id=workspace.enterprise_id,
                    team_id=workspace.team_id,
                    user_id=user_id,
                )
        if tokens.get("bot"):
            if self._installations is not None:
                await self._installations.async_delete_bot(
                    enterprise_id=workspace.enterprise_id, team_id=workspace.team_id
                )
            await self._workspaces.gone(workspace, "bot token revoked")


def _workspace(context: Any) -> Workspace | None:
    team = context.get("team_id")
    return Workspace(team, context.get("enterprise_id")) if team else None
