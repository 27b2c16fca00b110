"""Delivers neutral messages to Slack and turns Slack API failures into our DeliveryError family.

Error mapping (Slack `error` code or HTTP status → what the outbox does):

    HTTP 429, ratelimited, rate_limited          → RateLimited(Retry-After)  retry later, in order
    channel_not_found, is_archived,
    not_in_channel, restricted_action*           → DestinationGone   this one channel is unusable
    message_not_found, cant_update_message,
    edit_window_closed, thread_not_found         → MessageGone       send the message anew
    invalid_auth, not_authed, account_inactive,
    token_revoked, token_expired, missing_scope,
    no_permission, org_login_required            → SlackAuthError (a TransientError)
    invalid_arguments, no_text, msg_too_long,
    invalid_blocks (after the plain-text retry) … → MessageRejected   given up after a few tries
    5xx, connection errors, timeouts, others     → TransientError

Token problems are deliberately *not* DestinationGone: a revoked or wrong token is the
operator's fault, not any channel's, and deactivating every channel one by one as their
messages fail would silently drop all subscriptions. They stay queued until the token is fixed.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.models import OutboundMessage
from bot.services.errors import (
    DeliveryError,
    DestinationGone,
    MessageGone,
    MessageRejected,
    RateLimited,
    TransientError,
)
from bot.services.ports import Address
from bot.slack.render import FALLBACK_LIMIT, SlackMessage, render

log = logging.getLogger(__name__)

DEFAULT_RETRY_AFTER = 1.0  # Slack's documented pace for posting is about one message a second

RATE_LIMITED = frozenset({"ratelimited", "rate_limited"})
CHANNEL_GONE = frozenset(
    {
        "channel_not_found",
        "is_archived",
        "not_in_channel",
        "restricted_action",
        "restricted_action_read_only_channel",
        "restricted_action_thread_only_channel",
        "restricted_action_non_threadable_channel",
        "team_access_not_granted",
    }
)
MESSAGE_GONE = frozenset(
    {"message_not_found", "cant_update_message", "edit_window_closed", "thread_not_found"}
)
TOKEN_REJECTED = frozenset(
    {
        "invalid_auth",
        "not_authed",
        "account_inactive",
        "token_revoked",
        "token_expired",
        "missing_scope",
        "no_permission",
        "org_login_required",
    }
)
# Slack refused our Block Kit; the plain fallback text still gets the news through.
BLOCKS_REJECTED = frozenset({"invalid_blocks", "invalid_blocks_format", "msg_too_long"})
# Slack refused the message itself (even as plain text): retrying it unchanged cannot help.
MESSAGE_REJECTED = BLOCKS_REJECTED | {
    "invalid_arguments",
    "invalid_attachments",
    "invalid_metadata_format",
    "no_text",
    "too_many_attachments",
    "markdown_text_conflict",
}

ApiCall = Callable[[SlackMessage], Awaitable[Any]]


class SlackAuthError(TransientError):
    """Slack rejected the bot token itself; every delivery fails until the operator fixes it."""


ClientFor = Callable[[str], Awaitable[AsyncWebClient]]  # channel id -> its workspace's client


class SlackNotifier:
    """Notifier for Slack over the Web API (chat.postMessage / chat.update). With
    `client_for`, each channel is written to with its own workspace's token."""

    def __init__(self, client: AsyncWebClient, client_for: ClientFor | None = None) -> None:
        # The client must not retry on its own (slack-sdk's async default only retries
        # connection errors); our outbox retries, in order, after RateLimited/TransientError.
        self._client = client
        self._client_for = client_for

    async def _client_of(self, to: Address) -> AsyncWebClient:
        if self._client_for is None:
            return self._client
        return await self._client_for(to.platform_id)

    async def send(self, to: Address, message: OutboundMessage) -> str:
        return await self._post(to, message, thread_ts=to.thread_id)

    async def reply(self, to: Address, parent: str, message: OutboundMessage) -> str:
        return await self._post(to, message, thread_ts=parent)

    async def edit(self, to: Address, ref: str, message: OutboundMessage) -> str:
        client = await self._client_of(to)

        async def update(rendered: SlackMessage) -> Any:
            return await client.chat_update(
                channel=to.platform_id, ts=ref, text=rendered.text, blocks=rendered.blocks
            )

        response = await _deliver(update, render(message))
        return str(response.get("ts") or ref)

    async def _post(self, to: Address, message: OutboundMessage, thread_ts: str | None) -> str:
        client = await self._client_of(to)

        async def post(rendered: SlackMessage) -> Any:
            return await client.chat_postMessage(
                channel=to.platform_id,
                text=rendered.text,
                blocks=rendered.blocks or None,
                thread_ts=thread_ts,
                unfurl_links=to.link_previews,
                unfurl_media=to.link_previews,
            )

        response = await _deliver(post, render(message))
        return str(response["ts"])


async def _deliver(call: ApiCall, rendered: SlackMessage) -> Any:
    """Make the API call; on rejected blocks, once more as plain text; map failures."""
    try:
        try:
            return await call(rendered)
        except SlackApiError as exc:
            if error_code(exc) not in BLOCKS_REJECTED:
                raise
            log.warning("Slack rejected our blocks (%s); sending plain text", error_code(exc))
            # An empty block list makes chat.update drop the old blocks too.
            return await call(SlackMessage(rendered.text[:FALLBACK_LIMIT], []))
    except SlackApiError as exc:
        raise delivery_error(exc) from exc
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        raise TransientError(f"Slack unreachable: {type(exc).__name__}: {exc}") from exc


def delivery_error(exc: SlackApiError) -> DeliveryError:
    """Our error for a failed Slack API call."""
    code, status = error_code(exc), _status(exc)
    if status == 429 or code in RATE_LIMITED:
        return RateLimited(_retry_after(exc))
    if code in CHANNEL_GONE:
        return DestinationGone(code)
    if code in MESSAGE_GONE:
        return MessageGone(code)
    if code in MESSAGE_REJECTED:
        return MessageRejected(code)
    if code in TOKEN_REJECTED:
        log.error("Slack rejected the bot token (%s); check SLACK_BOT_TOKEN and scopes", code)
        return SlackAuthError(f"Slack token rejected: {code}")
    return TransientError(f"Slack API error: {code or 'no error code'} (HTTP {status})")


def error_code(exc: SlackApiError) -> str:
    """Slack's `error` string, or "" when the response had no JSON body."""
    try:
        return str(exc.response.get("error") or "")
    except (AttributeError, TypeError, ValueError):
        return ""  # slack-sdk sometimes attaches a raw aiohttp response instead


def _status(exc: SlackApiError) -> int:
    response = exc.response
    status = getattr(response, "status_code", None) or getattr(response, "status", None)
    return int(status) if isinstance(status, int) else 0


def _retry_after(exc: SlackApiError) -> float:
    headers = getattr(exc.response, "headers", None) or {}
    try:
        return max(float(headers.get("Retry-After", DEFAULT_RETRY_AFTER)), 0.0)
    except (TypeError, ValueError):
        return DEFAULT_RETRY_AFTER
