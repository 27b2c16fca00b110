"""A local fake of the Slack Web API, response URLs and Socket Mode, on 127.0.0.1."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import itertools
import json
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

BOT_TOKEN = "xoxb-fake-bot-token"
APP_TOKEN = "xapp-fake-app-token"
SIGNING_SECRET = "fake-signing-secret"
TEAM_ID = "T0FAKE"
BOT_USER_ID = "U0BOT"
APP_ID = "A0STORY"
CLIENT_ID = "1111.2222"
CLIENT_SECRET = "fake-client-secret-0123456789"


@dataclass
class SlackPost:
    """A message the bot posted, ephemeral answer, or an edit, as the fake stored it."""

    channel: str
    ts: str
    text: str
    blocks: list[dict[str, Any]] = field(default_factory=list)
    thread_ts: str | None = None
    user: str | None = None  # ephemeral recipient
    params: dict[str, Any] = field(default_factory=dict)
    token: str = ""  # the bot token it was posted with (which workspace's)

    @property
    def shown(self) -> str:
        """Everything a reader sees: block texts (or the fallback text when no blocks)."""
        return "\n".join(_texts(self.blocks)) if self.blocks else self.text


@dataclass
class _Failure:
    error: str
    status: int
    retry_after: int | None


class FakeSlackApi:
    """`async with FakeSlackApi() as api:` serves /api/<method> at `api.base_url`."""

    def __init__(self, *, bot_token: str = BOT_TOKEN, app_token: str = APP_TOKEN) -> None:
        self.bot_token, self.app_token = bot_token, app_token
        self.teams: dict[str, str] = {bot_token: TEAM_ID}  # valid bot token -> its team
        self._grants: dict[str, dict[str, Any]] = {}  # OAuth code -> oauth.v2.access answer
        self.calls: list[tuple[str, dict[str, Any]]] = []  # every API call: (method, params)
        self.posted: list[SlackPost] = []  # chat.postMessage, in order
        self.updated: list[SlackPost] = []  # chat.update, in order
        self.ephemeral: list[SlackPost] = []  # chat.postEphemeral
        self.responses: list[dict[str, Any]] = []  # JSON posted to response URLs
        self.acks: dict[str, dict[str, Any]] = {}  # Socket Mode acks by envelope_id
        self.users: dict[str, dict[str, Any]] = {}
        self.archived: set[str] = set()
        self.files: dict[str, bytes] = {}  # shared files, downloadable with a bot token
        self.downloads: list[str] = []  # file ids the bot downloaded
        self._failures: dict[str, list[_Failure]] = defaultdict(list)
        self._messages: dict[tuple[str, str], SlackPost] = {}
        self._ts_counter: dict[str, itertools.count[int]] = defaultdict(lambda: itertools.count(1))
        self._ids = itertools.count(1)
        self._sockets: list[web.WebSocketResponse] = []
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.root = ""

    # -- lifecycle -------------------------------------------------------------------------
    async def __aenter__(self) -> FakeSlackApi:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/response/{hook}", self._response_url)
        app.router.add_get("/socket", self._socket)
        app.router.add_get("/files/{file_id}", self._file)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.root = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        for ws in list(self._sockets):
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def base_url(self) -> str:
        return f"{self.root}/api/"

    # -- test controls ---------------------------------------------------------------------
    def fail_next(
        self, method: str, *, error: str, status: int = 200, retry_after: int | None = None
    ) -> None:
        """The next call of `method` fails the way Slack fails: `{"ok": false, "error": ...}`."""
        self._failures[method].append(_Failure(error, status, retry_after))

    def set_user(self, user_id: str, *, is_admin: bool = False, is_owner: bool = False) -> None:
        self.users[user_id] = {
            "id": user_id,
            "name": user_id.lower(),
            "is_admin": is_admin,
            "is_owner": is_owner,
            "is_primary_owner": False,
        }

    def delete_message(self, channel: str, ts: str) -> None:
        self._messages.pop((channel, ts), None)

    def share_file(self, data: bytes, name: str = "feeds.opml") -> dict[str, Any]:
        """A file as an event's `files` entry lists it (url_private_download on this fake)."""
        file_id = f"F{next(self._ids):06d}"
        self.files[file_id] = data
        url = f"{self.root}/files/{file_id}"
        return {"id": file_id, "name": name, "size": len(data), "url_private": url,
                "url_private_download": url, "filetype": "xml"}  # fmt: skip

    def response_url(self) -> str:
        return f"{self.root}/response/{next(self._ids)}"

    def method_calls(self, method: str) -> list[dict[str, Any]]:
        return [params for name, params in self.calls if name == method]

    async def wait_for(
        self,
        predicate: Callable[[], bool],
        timeout: float = 5.0,  # noqa: ASYNC109  # tests read better as wait_for(pred, timeout=5)
    ) -> None:
        """Wait until `predicate()` holds; it is re-checked after every request the fake sees."""
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(predicate)

    async def push_envelope(
        self, kind: str, payload: dict[str, Any], *, accepts_response_payload: bool = False
    ) -> str:
        """Send a Socket Mode envelope to the connected bot; returns its envelope_id."""
        await self.wait_for(lambda: bool(self._sockets))
        envelope_id = f"env-{next(self._ids)}"
        envelope = {
            "envelope_id": envelope_id,
            "type": kind,
            "payload": payload,
            "accepts_response_payload": accepts_response_payload,
        }
        await self._sockets[-1].send_json(envelope)
        return envelope_id

    # -- HTTP handlers -------------------------------------------------------------------------
    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await _params(request)
        self.calls.append((method, params))
        try:
            return self._answer(method, params, _token(request, params))
        finally:
            await self._notify()

    def _answer(self, method: str, params: dict[str, Any], token: str) -> web.Response:
        if self._failures[method]:
            failure = self._failures[method].pop(0)
            headers = {"Retry-After": str(failure.retry_after)} if failure.retry_after else {}
            body = {"ok": False, "error": failure.error}
            return web.json_response(body, status=failure.status, headers=headers)
        if method == "oauth.v2.access":
            return web.json_response(self._oauth_access(params, token))
        valid = token == self.app_token if method == "apps.connections.open" else (
            token in self.teams)  # fmt: skip
        if not valid:
            return web.json_response({"ok": False, "error": "invalid_auth"})
        handler = _METHODS.get(method)
        if handler is None:
            return web.json_response({"ok": False, "error": "unknown_method"}, status=404)
        params["_token"] = token
        return web.json_response(handler(self, params))

    def _oauth_access(self, params: dict[str, Any], basic: str) -> dict[str, Any]:
        """oauth.v2.access: client id and secret as HTTP Basic auth, a code used once."""
        if basic != f"basic:{CLIENT_ID}:{CLIENT_SECRET}":
            return {"ok": False, "error": "invalid_client_id"}
        answer = self._grants.pop(str(params.get("code")), None)
        if answer is None:
            return {"ok": False, "error": "invalid_code"}
        self.teams[answer["access_token"]] = answer["team"]["id"]
        return answer

    async def _file(self, request: web.Request) -> web.Response:
        file_id = request.match_info["file_id"]
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if token not in self.bot_tokens() or file_id not in self.files:
            return web.Response(status=404, text="not found")  # Slack answers a login page
        self.downloads.append(file_id)
        return web.Response(body=self.files[file_id])

    def bot_tokens(self) -> set[str]:
        return set(self.teams)

    def grant(self, code: str, team_id: str, token: str, *, user_id: str = "U0INSTALLER") -> None:
        """An installer approved the app in `team_id`: `code` exchanges once for `token`."""
        self._grants[code] = {
            "ok": True, "app_id": APP_ID, "authed_user": {"id": user_id},
            "scope": "commands,chat:write,app_mentions:read,users:read,files:read",
            "token_type": "bot", "access_token": token, "bot_user_id": f"UB{team_id}",
            "team": {"id": team_id, "name": f"Team {team_id}"}, "enterprise": None,
            "is_enterprise_install": False,
        }  # fmt: skip

    def revoke(self, token: str) -> None:
        self.teams.pop(token, None)

    async def _response_url(self, request: web.Request) -> web.Response:
        self.responses.append({"hook": request.match_info["hook"], **(await request.json())})
        await self._notify()
        return web.Response(text="ok")

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._sockets.append(ws)
        hello = {"type": "hello", "num_connections": 1, "connection_info": {"app_id": APP_ID}}
        await ws.send_json(hello)
        await self._notify()
        try:
            async for message in ws:
                if message.type == WSMsgType.TEXT:
                    ack = json.loads(message.data)
                    self.acks[str(ack.get("envelope_id"))] = ack
                    await self._notify()
        finally:
            self._sockets.remove(ws)
        return ws

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    # -- API methods (params → JSON body) --------------------------------------------------
    def _next_ts(self, channel: str) -> str:
        return f"1700000000.{next(self._ts_counter[channel]):06d}"

    def _post_message(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = str(params.get("channel", ""))
        if channel in self.archived:
            return {"ok": False, "error": "is_archived"}
        post = _post(params, self._next_ts(channel))
        self.posted.append(post)
        self._messages[(channel, post.ts)] = post
        return {"ok": True, "channel": channel, "ts": post.ts, "message": {"text": post.text}}

    def _update(self, params: dict[str, Any]) -> dict[str, Any]:
        key = (str(params.get("channel", "")), str(params.get("ts", "")))
        if key not in self._messages:
            return {"ok": False, "error": "message_not_found"}
        post = _post(params, key[1])
        self.updated.append(post)
        self._messages[key] = post
        return {"ok": True, "channel": key[0], "ts": key[1], "text": post.text}

    def _post_ephemeral(self, params: dict[str, Any]) -> dict[str, Any]:
        post = _post(params, self._next_ts("ephemeral"))
        self.ephemeral.append(post)
        return {"ok": True, "message_ts": post.ts}

    def _users_info(self, params: dict[str, Any]) -> dict[str, Any]:
        user = self.users.get(str(params.get("user")))
        return {"ok": True, "user": user} if user else {"ok": False, "error": "user_not_found"}

    def _conversations_info(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = str(params.get("channel"))
        info = {"id": channel, "name": channel.lower(), "is_archived": channel in self.archived}
        return {"ok": True, "channel": info}

    def _auth_test(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": "https://fake.slack.test/",
            "team": "Fake Team",
            "user": "storywatch",
            "team_id": self.teams.get(str(params.get("_token")), TEAM_ID),
            "user_id": BOT_USER_ID,
            "bot_id": "B0BOT",
        }

    def _connections_open(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "url": self.root.replace("http://", "ws://") + "/socket"}


_METHODS: dict[str, Callable[[FakeSlackApi, dict[str, Any]], dict[str, Any]]] = {
    "auth.test": FakeSlackApi._auth_test,
    "chat.postMessage": FakeSlackApi._post_message,
    "chat.update": FakeSlackApi._update,
    "chat.postEphemeral": FakeSlackApi._post_ephemeral,
    "users.info": FakeSlackApi._users_info,
    "conversations.info": FakeSlackApi._conversations_info,
    "apps.connections.open": FakeSlackApi._connections_open,
}


async def _params(request: web.Request) -> dict[str, Any]:
    params: dict[str, Any] = dict(request.query)
    if request.method == "POST" and request.can_read_body:
        if request.content_type == "application/json":
            params.update(await request.json())
        else:
            params.update({k: str(v) for k, v in (await request.post()).items()})
    if isinstance(params.get("blocks"), str):  # form-encoded calls send blocks as JSON text
        params["blocks"] = json.loads(params["blocks"])
    return params


def _token(request: web.Request, params: dict[str, Any]) -> str:
    """The Bearer token, or "basic:ID:SECRET" for HTTP Basic auth (oauth.v2.access)."""
    header = request.headers.get("Authorization", "")
    if header.startswith("Basic "):
        return "basic:" + base64.b64decode(header.removeprefix("Basic ")).decode()
    return header.removeprefix("Bearer ").strip() or str(params.get("token", ""))


def _post(params: dict[str, Any], ts: str) -> SlackPost:
    return SlackPost(
        channel=str(params.get("channel", "")),
        ts=ts,
        text=str(params.get("text", "")),
        blocks=list(params.get("blocks") or []),
        thread_ts=params.get("thread_ts"),
        user=params.get("user"),
        params=params,
        token=str(params.get("_token", "")),
    )


def _texts(node: Any) -> list[str]:
    """Every `text` string inside a block structure, depth first."""
    if isinstance(node, dict):
        own = [node["text"]] if isinstance(node.get("text"), str) else []
        return own + [
            t for value in node.values() if not isinstance(value, str) for t in _texts(value)
        ]
    if isinstance(node, list):
        return [t for item in node for t in _texts(item)]
    return []


# -- payloads as Slack sends them ------------------------------------------------------------
def signed_headers(
    body: str,
    *,
    secret: str = SIGNING_SECRET,
    timestamp: int | str | None = None,
    content_type: str = "application/x-www-form-urlencoded",
) -> dict[str, str]:
    """Headers Slack adds to a request: v0 HMAC-SHA256 over "v0:{ts}:{body}"."""
    ts = str(int(time.time()) if timestamp is None else timestamp)  # a str is sent as given
    digest = hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": f"v0={digest}",
        "Content-Type": content_type,
    }


def slash_command(
    text: str, response_url: str, *, channel_id: str = "C0NEWS", user_id: str = "U0ALICE",
    team_id: str = TEAM_ID,
) -> dict[str, str]:  # fmt: skip
    """A /storywatch payload (form fields over HTTP, the envelope payload in Socket Mode)."""
    return {
        "token": "deprecated-verification-token",
        "team_id": team_id,
        "team_domain": "fake",
        "channel_id": channel_id,
        "channel_name": "news",
        "user_id": user_id,
        "user_name": user_id.lower(),
        "command": "/storywatch",
        "text": text,
        "api_app_id": APP_ID,
        "response_url": response_url,
        "trigger_id": "1.2.3",
    }


def block_action(
    value: str,
    *,
    response_url: str,
    channel_id: str = "C0NEWS",
    user_id: str = "U0ALICE",
    ephemeral: bool = False,
) -> dict[str, Any]:
    """A button click on one of the bot's messages (`payload` JSON of a block_actions POST)."""
    return {
        "type": "block_actions",
        "team": {"id": TEAM_ID, "domain": "fake"},
        "user": {"id": user_id, "username": user_id.lower(), "team_id": TEAM_ID},
        "api_app_id": APP_ID,
        "container": {"type": "message", "channel_id": channel_id, "is_ephemeral": ephemeral},
        "channel": {"id": channel_id, "name": "news"},
        "trigger_id": "1.2.3",
        "response_url": response_url,
        "actions": [
            {
                "type": "button",
                "action_id": value,
                "block_id": "b1",
                "value": value,
                "action_ts": "1700000001.000100",
            }
        ],
    }


def app_mention(
    text: str,
    *,
    channel_id: str = "C0NEWS",
    user_id: str = "U0ALICE",
    thread_ts: str | None = None,
    files: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """An Events API callback for "@storywatch <text>"."""
    event = {
        "type": "app_mention",
        "user": user_id,
        "text": f"<@{BOT_USER_ID}> {text}",
        "ts": "1700000002.000200",
        "channel": channel_id,
        "event_ts": "1700000002.000200",
    }
    if thread_ts:
        event["thread_ts"] = thread_ts
    if files:
        event["files"] = files
    return {
        "token": "x",
        "team_id": TEAM_ID,
        "api_app_id": APP_ID,
        "event": event,
        "type": "event_callback",
        "event_id": "Ev0001",
        "event_time": 1700000002,
    }


def workspace_event(kind: str, team_id: str, **event: Any) -> dict[str, Any]:
    """An Events API callback about the app itself (app_uninstalled, tokens_revoked)."""
    return {
        "token": "x", "team_id": team_id, "api_app_id": APP_ID,
        "event": {"type": kind, **event}, "type": "event_callback",
        "event_id": f"Ev{kind}{team_id}", "event_time": int(time.time()),
        "authorizations": [{"team_id": team_id, "enterprise_id": None, "is_bot": True}],
    }  # fmt: skip
