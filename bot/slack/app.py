"""Runs the Slack side of the bot: Socket Mode or a signed HTTP endpoint, plus the notifier."""

from __future__ import annotations

import logging

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.services.chat.ports import CommandPort
from bot.services.chat.workspaces import Workspaces
from bot.services.ports import Notifier
from bot.slack.handlers import SlackCommandHandlers
from bot.slack.notifier import SlackNotifier
from bot.slack.oauth import INSTALL_PATH, REDIRECT_PATH, Lifecycle, SlackOAuth, WorkspaceClients

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
TIMESTAMP_HEADER = "X-Slack-Request-Timestamp"
API_TIMEOUT = 15  # seconds; a stuck call must not hold the outbox for slack-sdk's default 30


class SlackSender:
    """Slack's outbound side: the Web API client (one workspace's token, or each installed
    workspace's with `oauth`) and its notifier; the client connects on its first call."""

    def __init__(
        self,
        bot_token: str | None,
        base_url: str | None = None,
        oauth: SlackOAuth | None = None,
        workspaces: Workspaces | None = None,
    ) -> None:
        self.client = AsyncWebClient(
            token=None if oauth else bot_token,
            base_url=base_url or AsyncWebClient.BASE_URL,
            timeout=API_TIMEOUT,
            retry_handlers=[],  # no silent retries (429 included): the outbox retries, in order
        )
        clients = (
            WorkspaceClients(self.client, oauth.installations, workspaces)
            if (oauth and workspaces)
            else None
        )
        self.notifier: Notifier = SlackNotifier(
            self.client, clients.for_channel if clients else None
        )

    async def start(self) -> None:
        """Nothing to connect ahead of the first call."""

    async def stop(self) -> None:
        """Nothing held between calls."""


class SlackRuntime:
    """Slack: receives commands (Socket Mode if `app_token`, else HTTP) and exposes
    `notifier` for deliveries. One workspace with `bot_token`; with `oauth`, any number,
    installed through /slack/install (HTTP mode only). Nothing touches the network until
    `start()`."""

    def __init__(
        self,
        bot_token: str | None,
        commands: CommandPort,
        *,
        app_token: str | None = None,
        signing_secret: str | None = None,
        base_url: str | None = None,
        host: str = "0.0.0.0",
        port: int = 3000,
        oauth: SlackOAuth | None = None,
        workspaces: Workspaces | None = None,
        sender: SlackSender | None = None,
    ) -> None:
        _check_mode(bot_token, app_token, signing_secret, oauth, workspaces)
        self._app_token = None if oauth else app_token
        self._host, self._port = host, port
        self.sender = sender or SlackSender(bot_token, base_url, oauth, workspaces)
        self._client = self.sender.client
        self._app = _bolt_app(self._client, signing_secret, oauth)
        SlackCommandHandlers(commands, workspaces).register(self._app)
        if workspaces is not None:
            Lifecycle(workspaces, oauth.installations if oauth else None).register(self._app)
        self._socket: AsyncSocketModeHandler | None = None
        self._runner: web.AppRunner | None = None

    @property
    def port(self) -> int | None:
        """The bound HTTP port once started in HTTP mode (useful with port=0)."""
        if self._runner is None or not self._runner.addresses:
            return None
        return int(self._runner.addresses[0][1])

    async def start(self) -> None:
        """Checks the token, then connects or listens; returns once running."""
        if self._client.token:  # one workspace: fail fast on a wrong bot token
            identity = await self._client.auth_test()
            log.info("Slack bot %s in team %s", identity.get("user_id"), identity.get("team"))
        if self._app_token:
            await self._start_socket_mode(self._app_token)
        else:
            await self._start_http()

    @property
    def notifier(self) -> Notifier:
        return self.sender.notifier

    async def stop(self) -> None:
        if self._socket is not None:
            await self._socket.close_async()  # type: ignore[no-untyped-call]  # bolt: untyped
            self._socket = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _start_socket_mode(self, app_token: str) -> None:
        # slack-sdk retries a failed connect forever; a wrong app token should fail start() instead.
        await self._client.apps_connections_open(app_token=app_token)
        self._socket = AsyncSocketModeHandler(self._app, app_token, web_client=self._client)
        await self._socket.connect_async()  # type: ignore[no-untyped-call]  # bolt: untyped

    async def _start_http(self) -> None:
        web_app = web.Application()
        web_app.router.add_post(EVENTS_PATH, self._handle_http)
        if self._app.oauth_flow is not None:
            web_app.router.add_get(INSTALL_PATH, self._install)
            web_app.router.add_get(REDIRECT_PATH, self._oauth_redirect)
        runner = web.AppRunner(web_app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, self._host, self._port).start()
        self._runner = runner
        log.info("Slack events endpoint on %s:%s%s", self._host, self.port, EVENTS_PATH)

    async def _handle_http(self, request: web.Request) -> web.Response:
        # Bolt verifies X-Slack-Signature and rejects stale timestamps (401) before any listener,
        # but a timestamp that is not a number makes its check raise (a 500): refuse it here.
        if not _numeric(request.headers.get(TIMESTAMP_HEADER)):
            return web.json_response({"error": "invalid request"}, status=401)
        response = await self._app.async_dispatch(await to_bolt_request(request))
        return await to_aiohttp_response(response)

    async def _install(self, request: web.Request) -> web.Response:
        """The "Add to Slack" page (a fresh OAuth state, also set as a cookie)."""
        assert self._app.oauth_flow is not None
        answer = await self._app.oauth_flow.handle_installation(await to_bolt_request(request))
        return await to_aiohttp_response(answer)

    async def _oauth_redirect(self, request: web.Request) -> web.Response:
        """Slack sends the installer back here: state checked, code exchanged, tokens kept."""
        assert self._app.oauth_flow is not None
        answer = await self._app.oauth_flow.handle_callback(await to_bolt_request(request))
        return await to_aiohttp_response(answer)


def _check_mode(
    bot_token: str | None,
    app_token: str | None,
    signing_secret: str | None,
    oauth: SlackOAuth | None,
    workspaces: Workspaces | None,
) -> None:
    if (not app_token or oauth) and not signing_secret:
        # Without a secret anyone who finds the URL could run admin commands.
        raise ValueError("Slack HTTP mode needs signing_secret (or use app_token)")
    if oauth is None and not bot_token:
        raise ValueError("Slack needs a bot token, or OAuth (client id and secret)")
    if oauth is not None and workspaces is None:
        raise ValueError("Slack OAuth needs the workspaces store (which channel is where)")


def _bolt_app(
    client: AsyncWebClient, signing_secret: str | None, oauth: SlackOAuth | None
) -> AsyncApp:
    return AsyncApp(
        client=client,
        # Passed explicitly ("" in Socket Mode) so bolt never falls back to the environment.
        signing_secret=signing_secret or "",
        request_verification_enabled=True,  # signature + 5-minute timestamp window
        name="storywatch",
        oauth_settings=oauth.settings() if oauth else None,
    )


def _numeric(value: str | None) -> bool:
    """A request timestamp bolt can compare: None is fine too (bolt answers 401 itself)."""
    if value is None:
        return True
    try:
        int(value)
    except ValueError:
        return False
    return True
