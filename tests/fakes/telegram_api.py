"""A local fake of the Telegram Bot API (aiohttp on 127.0.0.1) that records what the bot did.

Use in tests:

    async with FakeBotApi() as api:
        runtime = TelegramRuntime(api.token, commands, base_url=api.base_url, rate_limit=False)
        api.push_message(42, "/watch S-400")
        await api.wait_for(lambda: api.messages_to(42))

Or standalone (for subprocess crash tests):

    python tests/fakes/telegram_api.py --port 8081 --state sent.jsonl

which prints {"base_url": ..., "token": ...} once listening, appends each accepted
sendMessage/editMessageText to the state file as a JSON line, and offers control endpoints:
`POST /_fake/updates` (a raw update), `POST /_fake/message` ({"chat_id", "text", "user_id"},
entities added for commands) and `GET /_fake/sent`.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from aiohttp import web

JSON_FIELDS = {"reply_markup", "reply_parameters", "link_preview_options", "commands"}
INT_FIELDS = {"chat_id", "message_id", "user_id", "offset", "limit", "timeout"}
INT_FIELDS |= {"message_thread_id"}
# Fields the Bot API always sends for these member statuses (space-separated, all False here).
ADMIN_RIGHTS = (
    "can_be_edited is_anonymous can_manage_chat can_delete_messages can_manage_video_chats "
    "can_restrict_members can_promote_members can_change_info can_invite_users "
    "can_post_stories can_edit_stories can_delete_stories"
)
RESTRICTED_RIGHTS = (
    "is_member can_change_info can_invite_users can_pin_messages can_send_messages "
    "can_send_polls can_send_other_messages can_add_web_page_previews can_manage_topics "
    "can_send_audios can_send_documents can_send_photos can_send_videos "
    "can_send_video_notes can_send_voice_notes"
)
# Tags Telegram accepts with parse_mode=HTML.
HTML_TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre"}
HTML_TAGS |= {"span", "tg-spoiler", "tg-emoji", "blockquote"}
MAX_TEXT = 4096


@dataclass(frozen=True)
class ApiError:
    """An error response exactly as the Bot API shapes it."""

    error_code: int
    description: str
    parameters: dict[str, Any] | None = None

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"ok": False, "error_code": self.error_code}
        out["description"] = self.description
        return out | ({"parameters": self.parameters} if self.parameters else {})


def too_many_requests(retry_after: int) -> ApiError:
    return ApiError(
        429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after}
    )


BLOCKED = ApiError(403, "Forbidden: bot was blocked by the user")
KICKED = ApiError(403, "Forbidden: bot was kicked from the group chat")
CHAT_NOT_FOUND = ApiError(400, "Bad Request: chat not found")
EDIT_NOT_FOUND = ApiError(400, "Bad Request: message to edit not found")
BAD_ENTITIES = ApiError(400, "Bad Request: can't parse entities: unsupported start tag")


def migrated(new_chat_id: int) -> ApiError:
    return ApiError(
        400,
        "Bad Request: group chat was upgraded to a supergroup chat",
        {"migrate_to_chat_id": new_chat_id},
    )


@dataclass
class Recorded:
    """One accepted sendMessage or editMessageText."""

    method: str
    chat_id: int
    message_id: int
    text: str
    parse_mode: str | None = None
    reply_markup: dict[str, Any] | None = None
    reply_parameters: dict[str, Any] | None = None
    message_thread_id: int | None = None
    link_preview_options: dict[str, Any] | None = None

    def buttons(self) -> list[tuple[str, str]]:
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [(b["text"], b.get("callback_data", "")) for row in rows for b in row]


@dataclass
class _Failure:
    method: str
    chat_id: int | None
    error: ApiError


@dataclass
class _Chats:
    types: dict[int, str] = field(default_factory=dict)
    next_id: dict[int, int] = field(default_factory=dict)
    texts: dict[tuple[int, int], tuple[str, Any]] = field(default_factory=dict)
    members: dict[tuple[int, int], str] = field(default_factory=dict)

    def type_of(self, chat_id: int) -> str:
        if chat_id in self.types:
            return self.types[chat_id]
        if chat_id > 0:
            return "private"
        return "supergroup" if str(chat_id).startswith("-100") else "group"

    def new_message_id(self, chat_id: int) -> int:
        self.next_id[chat_id] = self.next_id.get(chat_id, 0) + 1
        return self.next_id[chat_id]

    def chat_json(self, chat_id: int) -> dict[str, Any]:
        kind = self.type_of(chat_id)
        names = {"title": f"Chat {chat_id}"} if kind != "private" else {"first_name": "Ann"}
        return {"id": chat_id, "type": kind, **names}


class FakeBotApi:
    """Bot API on 127.0.0.1 with error injection; every call is recorded in `calls`."""

    def __init__(
        self,
        token: str = "123456:TEST-token",
        username: str = "storywatch_bot",
        *,
        port: int = 0,
        state_file: Path | None = None,
    ) -> None:
        self.token, self.username, self.port = token, username, port
        self.state_file = state_file
        self.bot_user = {"id": int(token.split(":")[0]), "is_bot": True, "first_name": "SW"}
        self.bot_user["username"] = username
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.called_at: list[float] = []  # time.monotonic() of each call's arrival, as `calls`
        self.sent: list[Recorded] = []
        self.edits: list[Recorded] = []
        self.answered_callbacks: list[str] = []
        self.commands: list[dict[str, Any]] = []
        self.webhook: dict[str, Any] | None = None
        self.documents: list[SentDocument] = []  # sendDocument, in order
        self.files: dict[str, bytes] = {}  # file_id -> content, downloadable by the bot
        self.chats = _Chats()
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._failures: list[_Failure] = []
        self._holds: dict[str, asyncio.Event] = {}
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self._closing = False
        self._tasks: set[asyncio.Task[None]] = set()

    # -- lifecycle -------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self._handle)
        app.router.add_get("/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)
        app.router.add_post("/_fake/updates", self._push_from_http)
        app.router.add_post("/_fake/message", self._push_message_from_http)
        app.router.add_get("/_fake/sent", self._sent_over_http)
        self._runner = web.AppRunner(app, shutdown_timeout=1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        await site.start()
        self.port = int(self._runner.addresses[0][1])

    async def close(self) -> None:
        self._closing = True
        await self._notify()  # wake long polls so shutdown does not wait for their timeout
        if self._runner is not None:
            await self._runner.cleanup()

    async def __aenter__(self) -> FakeBotApi:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- test controls ---------------------------------------------------------------------
    def push_update(self, update: dict[str, Any]) -> int:
        update.setdefault("update_id", next(self._update_ids))
        self._updates.append(update)
        task = asyncio.get_running_loop().create_task(self._notify())
        self._tasks.add(task)  # keep a reference until done, or the task may be collected
        task.add_done_callback(self._tasks.discard)
        return int(update["update_id"])

    def push_message(
        self,
        chat_id: int,
        text: str,
        *,
        user_id: int | None = 1001,
        thread_id: int | None = None,
        sender_chat_id: int | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        """Queue a user's (or, with user_id=None in a channel, a channel's) text message."""
        message = self._message(chat_id, text, user_id, **extra)
        if thread_id is not None:
            message |= {"message_thread_id": thread_id, "is_topic_message": True}
        if sender_chat_id is not None:
            message["sender_chat"] = self.chats.chat_json(sender_chat_id)
        if text.startswith("/"):
            length = len(text.split()[0].encode("utf-16-le")) // 2
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        kind = "channel_post" if self.chats.type_of(chat_id) == "channel" else "message"
        self.push_update({kind: message})
        return message

    def push_document(
        self, chat_id: int, data: bytes, name: str, *, caption: str | None = None,
        reply_to: int | None = None, user_id: int = 1001, size: int | None = None,
    ) -> dict[str, Any]:  # fmt: skip
        """Queue a user's document (a file sent with an optional caption or as a reply)."""
        file_id = f"file{next(self._update_ids)}"
        self.files[file_id] = data
        document = {
            "file_id": file_id,
            "file_unique_id": file_id,
            "file_name": name,
            "mime_type": "text/x-opml",
            "file_size": len(data) if size is None else size,
        }
        message = self._message(chat_id, None, user_id, document=document)
        if caption is not None:
            message["caption"] = caption
            if caption.startswith("/"):
                length = len(caption.split()[0])
                message["caption_entities"] = [{"type": "bot_command", "offset": 0,
                                                "length": length}]  # fmt: skip
        if reply_to is not None:
            text, _ = self.chats.texts.get((chat_id, reply_to), ("", None))
            message["reply_to_message"] = {
                "message_id": reply_to, "date": int(time.time()), "text": text,
                "chat": self.chats.chat_json(chat_id), "from": self.bot_user,
            }  # fmt: skip
        self.push_update({"message": message})
        return message

    def push_migration(self, old_chat_id: int, new_chat_id: int) -> None:
        message = self._message(old_chat_id, None, 1001, migrate_to_chat_id=new_chat_id)
        self.push_update({"message": message})

    def push_callback(
        self, chat_id: int, message_id: int, data: str, *, user_id: int = 1001
    ) -> str:
        query_id = f"cb{next(self._update_ids)}"
        text, _ = self.chats.texts.get((chat_id, message_id), ("", None))
        message = {"message_id": message_id, "date": int(time.time()), "text": text}
        message |= {"chat": self.chats.chat_json(chat_id), "from": self.bot_user}
        query = {"id": query_id, "from": self._user(user_id), "chat_instance": "ci"}
        self.push_update({"callback_query": query | {"message": message, "data": data}})
        return query_id

    def set_member(self, chat_id: int, user_id: int, status: str) -> None:
        self.chats.members[(chat_id, user_id)] = status

    def hold(self, method: str) -> asyncio.Event:
        """Calls of `method` wait until the returned event is set (then it stops holding)."""
        gate = self._holds[method] = asyncio.Event()
        return gate

    def fail_next(self, method: str, error: ApiError, *, chat_id: int | None = None) -> None:
        self._failures.append(_Failure(method, chat_id, error))

    def messages_to(self, chat_id: int) -> list[Recorded]:
        return [r for r in self.sent if r.chat_id == chat_id]

    def calls_of(self, method: str) -> list[dict[str, Any]]:
        return [params for name, params in self.calls if name == method]

    # A timeout argument (not asyncio.timeout at the call site) keeps scenario tests one line.
    async def wait_for(self, predicate: Callable[[], Any], timeout: float = 5) -> None:  # noqa: ASYNC109
        """Wait until `predicate()` is true; re-checked after every API call or pushed update."""
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(predicate), timeout)

    # -- HTTP ------------------------------------------------------------------------------
    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response(ApiError(401, "Unauthorized").body(), status=401)
        method, params = request.match_info["method"], await _params(request)
        self.calls.append((method, params))
        self.called_at.append(time.monotonic())
        try:
            result = await self._dispatch(method, params)
        except _Refused as refused:
            return web.json_response(refused.error.body(), status=refused.error.error_code)
        finally:
            await self._notify()
        return web.json_response({"ok": True, "result": result})

    async def _dispatch(self, method: str, params: dict[str, Any]) -> Any:
        gate = self._holds.get(method)
        if gate is not None:  # a slow Bot API: answer once the test opens the gate
            await self._notify()
            await gate.wait()
        failure = self._take_failure(method, params.get("chat_id"))
        if failure is not None:
            raise _Refused(failure)
        handler = getattr(self, f"_api_{method}", None)
        if handler is None:
            raise _Refused(ApiError(404, "Not Found"))
        return await handler(params)

    def _take_failure(self, method: str, chat_id: Any) -> ApiError | None:
        for failure in self._failures:
            if failure.method == method and failure.chat_id in (None, chat_id):
                self._failures.remove(failure)
                return failure.error
        return None

    async def _push_from_http(self, request: web.Request) -> web.Response:
        update_id = self.push_update(await request.json())
        return web.json_response({"ok": True, "result": update_id})

    async def _push_message_from_http(self, request: web.Request) -> web.Response:
        """{"chat_id": 42, "text": "/watch S-400", "user_id": 42}, entities added."""
        body = await request.json()
        message = self.push_message(
            body["chat_id"], body["text"], user_id=body.get("user_id", 1001)
        )
        return web.json_response({"ok": True, "result": message})

    async def _sent_over_http(self, request: web.Request) -> web.Response:
        return web.json_response({"ok": True, "result": [r.__dict__ for r in self.sent]})

    # -- Bot API methods -------------------------------------------------------------------
    async def _api_getMe(self, params: dict[str, Any]) -> Any:
        return self.bot_user | {"can_join_groups": True, "can_read_all_group_messages": False}

    async def _api_getUpdates(self, params: dict[str, Any]) -> Any:
        offset = params.get("offset", 0)
        self._updates = [u for u in self._updates if u["update_id"] >= offset]
        ready = lambda: bool(self._updates) or self._closing  # noqa: E731
        try:
            async with self._changed:
                await asyncio.wait_for(
                    self._changed.wait_for(ready), float(params.get("timeout", 0))
                )
        except TimeoutError:
            pass
        return self._updates[: params.get("limit", 100)]

    async def _api_sendMessage(self, params: dict[str, Any]) -> Any:
        chat_id = params["chat_id"]
        _check_text(params)
        reply: dict[str, Any] = params.get("reply_parameters") or {}
        orphan = bool(reply) and (chat_id, reply["message_id"]) not in self.chats.texts
        if orphan and not reply.get("allow_sending_without_reply"):
            raise _Refused(ApiError(400, "Bad Request: message to be replied not found"))
        message_id = self.chats.new_message_id(chat_id)
        return self._record(self.sent, "sendMessage", message_id, params)

    async def _api_editMessageText(self, params: dict[str, Any]) -> Any:
        key = (params["chat_id"], params["message_id"])
        _check_text(params)
        if key not in self.chats.texts:
            raise _Refused(EDIT_NOT_FOUND)
        if self.chats.texts[key] == (params["text"], params.get("reply_markup")):
            raise _Refused(
                ApiError(
                    400,
                    "Bad Request: message is not modified: specified new message "
                    "content and reply markup are exactly the same",
                )
            )
        return self._record(self.edits, "editMessageText", params["message_id"], params)

    async def _api_getFile(self, params: dict[str, Any]) -> Any:
        file_id = params["file_id"]
        if file_id not in self.files:
            raise _Refused(ApiError(400, "Bad Request: invalid file_id"))
        size = len(self.files[file_id])
        return {"file_id": file_id, "file_unique_id": file_id, "file_size": size,
                "file_path": f"documents/{file_id}.opml"}  # fmt: skip

    async def _api_sendDocument(self, params: dict[str, Any]) -> Any:
        upload = params.get("document")
        if isinstance(upload, str) and upload.startswith("attach://"):
            upload = params.get(upload.removeprefix("attach://"))
        if not isinstance(upload, SentFile):
            raise _Refused(ApiError(400, "Bad Request: there is no document in the request"))
        chat_id = params["chat_id"]
        message_id = self.chats.new_message_id(chat_id)
        self.documents.append(SentDocument(chat_id, upload.name, upload.data,
                                           params.get("caption")))  # fmt: skip
        document = {"file_id": f"sent{message_id}", "file_unique_id": f"sent{message_id}"}
        return {"message_id": message_id, "date": int(time.time()), "document": document,
                "chat": self.chats.chat_json(chat_id), "from": self.bot_user}  # fmt: skip

    async def _download(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.Response(status=401)
        file_id = request.match_info["path"].rsplit("/", 1)[-1].removesuffix(".opml")
        if file_id not in self.files:
            return web.Response(status=404)
        return web.Response(body=self.files[file_id])

    async def _api_answerCallbackQuery(self, params: dict[str, Any]) -> Any:
        self.answered_callbacks.append(params["callback_query_id"])
        return True

    async def _api_setMyCommands(self, params: dict[str, Any]) -> Any:
        self.commands = params["commands"]
        return True

    async def _api_getMyCommands(self, params: dict[str, Any]) -> Any:
        return self.commands

    async def _api_getChatMember(self, params: dict[str, Any]) -> Any:
        status = self.chats.members.get((params["chat_id"], params["user_id"]), "member")
        member: dict[str, Any] = {"status": status, "user": self._user(params["user_id"])}
        rights = {"administrator": ADMIN_RIGHTS, "restricted": RESTRICTED_RIGHTS}
        member |= dict.fromkeys(rights.get(status, "").split(), False)
        extra: dict[str, dict[str, Any]] = {"creator": {"is_anonymous": False}}
        extra["kicked"] = {"until_date": 0}
        return (
            member | extra.get(status, {}) | ({"until_date": 0} if status == "restricted" else {})
        )

    async def _api_setWebhook(self, params: dict[str, Any]) -> Any:
        self.webhook = params
        return True

    async def _api_deleteWebhook(self, params: dict[str, Any]) -> Any:
        self.webhook = None
        return True

    async def _api_close(self, params: dict[str, Any]) -> Any:
        return True

    async def _api_logOut(self, params: dict[str, Any]) -> Any:
        return True

    # -- shapes ----------------------------------------------------------------------------
    def _user(self, user_id: int) -> dict[str, Any]:
        return {"id": user_id, "is_bot": False, "first_name": f"User{user_id}"}

    def _message(
        self, chat_id: int, text: str | None, user_id: int | None, **extra: Any
    ) -> dict[str, Any]:
        message_id = self.chats.new_message_id(chat_id)
        message: dict[str, Any] = {"message_id": message_id, "date": int(time.time())}
        message |= {"chat": self.chats.chat_json(chat_id), **extra}
        if user_id is not None:
            message["from"] = self._user(user_id)
        if text is not None:
            message["text"] = text
            self.chats.texts[(chat_id, message_id)] = (text, None)
        return message

    def _record(self, into: list[Recorded], method: str, message_id: int, p: dict[str, Any]) -> Any:
        chat_id = p["chat_id"]
        keys = ("parse_mode", "reply_markup", "reply_parameters", "message_thread_id")
        record = Recorded(method, chat_id, message_id, p["text"], **{k: p.get(k) for k in keys})
        record.link_preview_options = p.get("link_preview_options")
        into.append(record)
        self.chats.texts[(chat_id, message_id)] = (p["text"], p.get("reply_markup"))
        if self.state_file is not None:
            with self.state_file.open("a", encoding="utf-8") as state:
                state.write(json.dumps(record.__dict__) + "\n")
        message = {"message_id": message_id, "date": int(time.time()), "text": p["text"]}
        message |= {"chat": self.chats.chat_json(chat_id), "from": self.bot_user}
        if p.get("message_thread_id"):
            message |= {"message_thread_id": p["message_thread_id"], "is_topic_message": True}
        return message | ({"reply_markup": p["reply_markup"]} if p.get("reply_markup") else {})


class _TelegramHtml(HTMLParser):
    """Telegram's HTML parse mode, strictly enough to catch what it would refuse."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []
        self.visible = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in HTML_TAGS:
            raise _Refused(_cant_parse(f'Unsupported start tag "{tag}"'))
        self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open.pop() != tag:
            raise _Refused(_cant_parse(f'Unmatched end tag "{tag}"'))

    def handle_data(self, data: str) -> None:
        self.visible += data


def _cant_parse(why: str) -> ApiError:
    return ApiError(400, f"Bad Request: can't parse entities: {why}")


def _check_text(params: dict[str, Any]) -> None:
    """Refuse, like Telegram, text that is empty, too long or (in HTML mode) malformed."""
    visible = str(params.get("text", ""))
    if params.get("parse_mode") == "HTML":
        parser = _TelegramHtml()
        parser.feed(visible)
        parser.close()
        if parser.open:
            unclosed = parser.open[-1]
            raise _Refused(_cant_parse(f'Can\'t find end tag for start tag "{unclosed}"'))
        visible = parser.visible
    if not visible.strip():
        raise _Refused(ApiError(400, "Bad Request: message text is empty"))
    if len(visible.encode("utf-16-le")) // 2 > MAX_TEXT:
        raise _Refused(ApiError(400, "Bad Request: message is too long"))


class _Refused(Exception):
    def __init__(self, error: ApiError) -> None:
        super().__init__(error.description)
        self.error = error


async def _params(request: web.Request) -> dict[str, Any]:
    """Bot API parameters from a JSON, urlencoded or multipart body (or the query string);
    an uploaded file becomes a SentFile."""
    if request.content_type == "application/json":
        raw: dict[str, Any] = dict(await request.json())
    else:
        raw = {k: _field(v) for k, v in (await request.post()).items()}
    raw |= dict(request.query)
    return {key: _decode(key, value) for key, value in raw.items()}


@dataclass(frozen=True)
class SentFile:
    """A file part of a multipart request."""

    name: str
    data: bytes


@dataclass(frozen=True)
class SentDocument:
    """A document the bot sent (sendDocument)."""

    chat_id: int
    name: str
    data: bytes
    caption: str | None


def _field(value: Any) -> Any:
    if isinstance(value, web.FileField):
        return SentFile(value.filename, value.file.read())
    return value


def _decode(key: str, value: Any) -> Any:
    if isinstance(value, str) and key in JSON_FIELDS:
        return json.loads(value)
    if isinstance(value, str) and key in INT_FIELDS and value.lstrip("-").isdigit():
        return int(value)
    return value


async def _serve(port: int, state: Path | None, token: str, username: str) -> None:
    async with FakeBotApi(token, username, port=port, state_file=state) as api:
        print(json.dumps({"base_url": api.base_url, "token": api.token}), flush=True)
        await asyncio.Event().wait()  # until the process is stopped


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--state", type=Path, default=None)
    parser.add_argument("--token", default="123456:TEST-token")
    parser.add_argument("--username", default="storywatch_bot")
    args = parser.parse_args()
    asyncio.run(_serve(args.port, args.state, args.token, args.username))


if __name__ == "__main__":
    main()
