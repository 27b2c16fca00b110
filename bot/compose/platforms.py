"""The chat platforms: which run, and for each a sender builder (its notifier: all a deliver
role needs) apart from its runtime builder (commands in, replies out)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TextIO

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.compose.basics import secret
from bot.services.chat.ports import CommandPort
from bot.services.chat.workspaces import Workspaces
from bot.services.ports import Clock, Runtime, Sender
from bot.settings import Settings
from bot.storage.workspaces import SqlWorkspaces

if TYPE_CHECKING:
    from bot.slack.oauth import SlackOAuth

OAUTH_STATE_SECONDS = 600  # an "Add to Slack" page is good for ten minutes
CONSOLE = "console"


@dataclass(frozen=True)
class Parts:
    """What a platform may need besides its settings: the database and the clock."""

    engine: AsyncEngine
    clock: Clock
    console: tuple[TextIO, TextIO] | None = None  # the console chat's input and output


@dataclass(frozen=True)
class Platform:
    """One platform: whether it runs, its sender, its runtime (given its sender, if built)."""

    wanted: Callable[[Settings], bool]
    sender: Callable[[Settings, Parts], Sender]
    runtime: Callable[[Settings, CommandPort, Parts, Any], Runtime]


def _telegram_sender(settings: Settings, parts: Parts) -> Sender:
    from bot.telegram.app import TelegramSender

    return TelegramSender(secret(settings.telegram_bot_token), settings.telegram_api_base_url)


def _telegram(settings: Settings, commands: CommandPort, parts: Parts, sender: Any) -> Runtime:
    from bot.telegram.app import TelegramRuntime

    hook = settings.telegram_webhook_secret
    return TelegramRuntime(
        secret(settings.telegram_bot_token),
        commands,
        base_url=settings.telegram_api_base_url,
        webhook_url=settings.telegram_webhook_url,
        webhook_secret=secret(hook) if hook else None,
        listen=settings.listen_host,
        port=settings.telegram_webhook_port,
        sender=sender,
    )


def _slack_sender(settings: Settings, parts: Parts) -> Sender:
    from bot.slack.app import SlackSender

    token = settings.slack_bot_token
    return SlackSender(
        secret(token) if token else None,
        settings.slack_api_base_url,
        slack_oauth(settings, parts.engine),
        workspaces(parts),
    )


def _slack(settings: Settings, commands: CommandPort, parts: Parts, sender: Any) -> Runtime:
    from bot.slack.app import SlackRuntime

    app_token, signing = settings.slack_app_token, settings.slack_signing_secret
    token = settings.slack_bot_token
    return SlackRuntime(
        secret(token) if token else None,
        commands,
        app_token=secret(app_token) if app_token else None,
        signing_secret=secret(signing) if signing else None,
        base_url=settings.slack_api_base_url,
        host=settings.listen_host,
        port=settings.slack_http_port,
        oauth=slack_oauth(settings, parts.engine),
        workspaces=workspaces(parts),
        sender=sender,
    )


def _console_sender(settings: Settings, parts: Parts) -> Sender:
    from bot.console.app import ConsoleSender

    return ConsoleSender(_console_io(parts)[1])


def _console(settings: Settings, commands: CommandPort, parts: Parts, sender: Any) -> Runtime:
    from bot.console.app import ConsoleRuntime

    inp, out = _console_io(parts)
    return ConsoleRuntime(commands, inp, out, sender)


def _console_io(parts: Parts) -> tuple[TextIO, TextIO]:
    return parts.console or (sys.stdin, sys.stdout)


# The platform registry: which platforms run, and how each is built. No if-chains elsewhere.
PLATFORMS: dict[str, Platform] = {
    "telegram": Platform(lambda s: s.telegram_bot_token is not None, _telegram_sender, _telegram),
    "slack": Platform(lambda s: s.runs_slack(), _slack_sender, _slack),
}
CONSOLE_PLATFORM = Platform(lambda s: True, _console_sender, _console)


def chosen(settings: Settings, parts: Parts) -> dict[str, Platform]:
    """The configured platforms, and the console when asked for or when none is."""
    platforms = {name: p for name, p in PLATFORMS.items() if p.wanted(settings)}
    if parts.console is not None or not platforms:
        platforms[CONSOLE] = CONSOLE_PLATFORM
    return platforms


def senders(settings: Settings, parts: Parts) -> dict[str, Sender]:
    """Each chosen platform's outbound side."""
    return {name: p.sender(settings, parts) for name, p in chosen(settings, parts).items()}


def runtimes(
    settings: Settings, commands: CommandPort, parts: Parts, shared: Mapping[str, Sender]
) -> dict[str, Runtime]:
    """Each chosen platform's runtime, on the sender this process already has for it."""
    return {
        name: p.runtime(settings, commands, parts, shared.get(name))
        for name, p in chosen(settings, parts).items()
    }


def workspaces(parts: Parts) -> Workspaces:
    return Workspaces(SqlWorkspaces(parts.engine), parts.clock)


def slack_oauth(settings: Settings, engine: AsyncEngine) -> SlackOAuth | None:
    """The OAuth install flow when SLACK_CLIENT_ID and SLACK_CLIENT_SECRET are set; slack-sdk's
    async SQLAlchemy stores on the bot's own engine (tables from migration 0005)."""
    if settings.slack_client_id is None or settings.slack_client_secret is None:
        return None
    from slack_sdk.oauth.installation_store.sqlalchemy import AsyncSQLAlchemyInstallationStore
    from slack_sdk.oauth.state_store.sqlalchemy import AsyncSQLAlchemyOAuthStateStore

    from bot.slack.oauth import SlackOAuth

    client_id = settings.slack_client_id
    return SlackOAuth(
        client_id,
        settings.slack_client_secret.get_secret_value(),
        settings.slack_scopes,
        AsyncSQLAlchemyInstallationStore(client_id, engine),
        AsyncSQLAlchemyOAuthStateStore(OAUTH_STATE_SECONDS, engine),
        redirect_uri=settings.slack_redirect_uri,
    )
