"""A file shared with "@storywatch import" (an OPML file), downloaded with the bot's token."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import aiohttp
from slack_sdk.web.async_client import AsyncWebClient

from bot.services.chat.ports import Attachment

SLACK_FILES_HOST = "files.slack.com"
DOWNLOAD_TIMEOUT = 30


def shared_file(client: AsyncWebClient, files: Any) -> Attachment | None:
    """The first file of an event's `files`, or None. Only Slack's own file host (or the
    configured API host, e.g. a test fake) is ever asked: the bot's token goes with it."""
    if not isinstance(files, list) or not files or not isinstance(files[0], dict):
        return None
    info: dict[str, Any] = files[0]
    url = str(info.get("url_private_download") or info.get("url_private") or "")
    size = info.get("size")

    async def read(limit: int) -> bytes:
        if not _trusted(url, client.base_url):
            raise ValueError("that file is not on Slack's file server")
        return await _download(url, client.token or "", limit)

    return Attachment(
        str(info.get("name") or "file"), size if isinstance(size, int) else None, read
    )


def _trusted(url: str, api_base: str) -> bool:
    parts, api = urlsplit(url), urlsplit(api_base)
    if parts.scheme == "https" and parts.hostname == SLACK_FILES_HOST:
        return True
    return (parts.scheme, parts.netloc) == (api.scheme, api.netloc)


async def _download(url: str, token: str, limit: int) -> bytes:
    """At most `limit` + 1 bytes of the file (enough to tell that it is too big)."""
    timeout = aiohttp.ClientTimeout(total=DOWNLOAD_TIMEOUT)
    headers = {"Authorization": f"Bearer {token}"}
    async with (
        aiohttp.ClientSession(timeout=timeout) as session,
        session.get(url, headers=headers, allow_redirects=False) as response,
    ):
        response.raise_for_status()
        data = bytearray()
        async for chunk in response.content.iter_chunked(64 * 1024):
            data += chunk
            if len(data) > limit:
                break
        return bytes(data[: limit + 1])
