"""Turns Slack slash commands, app mentions and button clicks into CommandPort calls."""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

import aiohttp
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.services.chat.feed_checks import FollowUp
from bot.services.chat.ports import CommandContext, CommandPort, CommandReply
from bot.services.chat.workspaces import Workspace, Workspaces
from bot.services.errors import AdminCheckFailed
from bot.slack.files import shared_file
from bot.slack.render import SlackMessage, render_reply

log = logging.getLogger(__name__)

PLATFORM = "slack"
SLASH_COMMAND = "/storywatch"
NOT_A_USER = frozenset({"user_not_found", "user_not_visible"})
FAILURE_TEXT = "Sorry, that did not work. Please try again in a minute."

# Slack wraps links typed in messages as <https://x> or <https://x|label>; commands want the URL.
_WRAPPED_LINK = re.compile(r"<((?:https?|mailto):[^>|]+)(?:\|[^>]*)?>")
_MENTION = re.compile(r"<@[A-Z0-9]+(?:\|[^>]*)?>")
_UNESCAPES = (("&lt;", "<"), ("&gt;", ">"), ("&amp;", "&"))  # &amp; last: "&amp;lt;" is "&lt;"


def command_text(typed: str) -> str:
    """Slack's "watch S-400" (text after /storywatch or a mention) as our "/watch S-400"."""
    text = _WRAPPED_LINK.sub(lambda m: m.group(1), typed)
    for entity, char in _UNESCAPES:
        text = text.replace(entity, char)
    text = text.strip().lstrip("/")
    return f"/{text}" if text else "/help"


def slack_spelling(text: str, names: list[str]) -> str:
    """Replies say "/watch S-400"; in Slack that is typed "/storywatch watch S-400"."""
    if not names:
        return text
    pattern = rf"(?<![\w/])/({'|'.join(map(re.escape, names))})\b"
    return re.sub(pattern, rf"{SLASH_COMMAND} \1", text)


def strip_mentions(text: str, bot_user_id: str | None) -> str:
    """The mention text without the bot's own @-mention (any leading mention if id unknown)."""
    if bot_user_id:
        return re.sub(rf"<@{re.escape(bot_user_id)}(?:\|[^>]*)?>", " ", text).strip()
    return _MENTION.sub(" ", text, count=1).strip()


def admin_check(client: AsyncWebClient, user_id: str) -> Callable[[], Awaitable[bool]]:
    """A lazy, cached users.info check: workspace admins and owners count as admins."""
    known: list[bool] = []

    async def is_admin() -> bool:
        if not known:
            known.append(await _is_workspace_admin(client, user_id))
        return known[0]

    return is_admin


async def _is_workspace_admin(client: AsyncWebClient, user_id: str) -> bool:
    try:
        response = await client.users_info(user=user_id)
    except SlackApiError as exc:
        if exc.response.get("error") in NOT_A_USER:
            return False
        # Neither yes nor no: the command is refused with "try again", never granted.
        raise AdminCheckFailed(f"users.info: {exc.response.get('error')}") from exc
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise AdminCheckFailed(f"users.info: {type(exc).__name__}: {exc}") from exc
    user = response.get("user") or {}
    return any(bool(user.get(flag)) for flag in ("is_admin", "is_owner", "is_primary_owner"))


class SlackCommandHandlers:
    """Bolt listeners; bolt injects arguments by parameter name (ack, command, body, ...)."""

    def __init__(self, commands: CommandPort, workspaces: Workspaces | None = None) -> None:
        self._commands, self._workspaces = commands, workspaces
        self._names = sorted(
            (name.lstrip("/") for name, _ in commands.command_list()), key=len, reverse=True
        )

    def register(self, app: AsyncApp) -> None:
        app.command(SLASH_COMMAND)(self.on_slash_command)
        app.event("app_mention")(self.on_app_mention)
        # Every button we render carries its CommandPort data; there are no other actions.
        app.action(re.compile(r".+"))(self.on_block_action)

    async def on_slash_command(
        self,
        ack: Any,
        command: dict[str, Any],
        respond: Any,
        client: AsyncWebClient,
        context: Any,
    ) -> None:
        await ack()  # within Slack's 3 s; the answer follows through response_url
        await self._seen(command["channel_id"], context)

        async def answer(reply: CommandReply) -> None:
            await _answer_ephemeral(respond, client, ctx, self._spelled(reply), replace=None)

        later = FollowUp(answer)
        user_name = command.get("user_name")
        ctx = _context(client, command["channel_id"], command["user_id"], user_name, later)
        text = command_text(command.get("text", ""))
        reply = await self._safely(self._commands.handle(ctx, text))
        try:
            await _answer_ephemeral(respond, client, ctx, reply, replace=None)
        finally:
            later.answered()

    async def on_app_mention(
        self, event: dict[str, Any], client: AsyncWebClient, context: Any
    ) -> None:
        if event.get("subtype") or not event.get("user"):
            return  # edits and bot echoes are not new commands
        await self._seen(event["channel"], context)
        text = command_text(strip_mentions(event.get("text", ""), context.get("bot_user_id")))

        async def answer(reply: CommandReply) -> None:
            rendered = render_reply(self._spelled(reply))
            await client.chat_postMessage(
                channel=event["channel"],
                thread_ts=event.get("thread_ts"),  # answer where asked: thread or channel
                text=rendered.text,
                blocks=rendered.blocks,
                unfurl_links=False,
            )

        later = FollowUp(answer)
        ctx = _context(client, event["channel"], event["user"], followup=later)
        ctx = replace(ctx, attachment=shared_file(client, event.get("files")))
        try:
            await answer(await self._safely(self._commands.handle(ctx, text), spell=False))
        finally:
            later.answered()

    async def on_block_action(
        self,
        ack: Any,
        body: dict[str, Any],
        action: dict[str, Any],
        respond: Any,
        client: AsyncWebClient,
        context: Any,
    ) -> None:
        await ack()
        container = body.get("container") or {}
        channel = (body.get("channel") or {}).get("id") or container.get("channel_id", "")
        await self._seen(channel, context)
        ctx = _context(client, channel, body["user"]["id"], body["user"].get("username"))
        data = action.get("value") or action.get("action_id", "")
        reply = await self._safely(self._commands.on_button(ctx, data))
        # A button inside an ephemeral answer (e.g. "Stop? Yes") is replaced by the outcome.
        replace = bool(container.get("is_ephemeral"))
        await _answer_ephemeral(respond, client, ctx, reply, replace=replace)

    async def _seen(self, channel_id: str, context: Any) -> None:
        """Remember the channel's workspace, so its alerts go out with that workspace's token."""
        team = context.get("team_id") if context is not None else None
        if self._workspaces is None or not team or not channel_id:
            return
        try:
            await self._workspaces.seen(channel_id, Workspace(team, context.get("enterprise_id")))
        except Exception:  # the command itself must still be answered
            log.exception("could not remember the workspace of channel %s", channel_id)

    async def _safely(self, call: Awaitable[CommandReply], spell: bool = True) -> CommandReply:
        # The user is still waiting for an answer; a stack trace belongs in the log, not Slack.
        try:
            reply = await call
        except Exception:
            log.exception("Slack command failed")
            return CommandReply(FAILURE_TEXT)
        return self._spelled(reply) if spell else reply

    def _spelled(self, reply: CommandReply) -> CommandReply:
        return replace(reply, text=slack_spelling(reply.text, self._names))


def _context(
    client: AsyncWebClient,
    channel_id: str,
    user_id: str,
    user_name: str | None = None,
    followup: FollowUp | None = None,
) -> CommandContext:
    return CommandContext(
        platform=PLATFORM,
        platform_chat_id=channel_id,
        user_id=user_id,
        is_admin=admin_check(client, user_id),
        thread_id=None,
        user_name=user_name or "",
        followup=followup,
    )


async def _answer_ephemeral(
    respond: Any,
    client: AsyncWebClient,
    ctx: CommandContext,
    reply: CommandReply,
    replace: bool | None,
) -> None:
    """Only the asking user sees the answer: via response_url, else chat.postEphemeral."""
    rendered: SlackMessage = render_reply(reply)
    if getattr(respond, "response_url", None):
        # response_url also works where the bot is not a member (DMs, channels not joined yet).
        await respond(
            text=rendered.text,
            blocks=rendered.blocks,
            response_type="ephemeral",
            replace_original=replace,
        )
        return
    await client.chat_postEphemeral(
        channel=ctx.platform_chat_id, user=ctx.user_id, text=rendered.text, blocks=rendered.blocks
    )
