"""`storywatch digest --chat ID --dry-run`: print the digest a chat would receive now."""

from __future__ import annotations

import asyncio
import sys

from bot.compose.basics import SystemClock, ensure_sqlite_dir
from bot.console.render import render_digest
from bot.core.models import Chat
from bot.services.outbound.digests import DigestService
from bot.settings import Settings
from bot.storage.store import SqlStore


async def find_chat(store: SqlStore, key: str) -> Chat | None:
    if ":" in key:
        platform, _, platform_id = key.partition(":")
        return await store.chat_by_platform(platform, platform_id)
    chats = {str(c.id): c for c in await store.active_chats()}
    return chats.get(key)


async def _preview(settings: Settings, key: str) -> int:
    ensure_sqlite_dir(settings.database_url)
    store = await SqlStore.open(settings.database_url)
    try:
        chat = await find_chat(store, key)
        if chat is None:
            print(
                f"no active chat {key!r} (use its number or PLATFORM:PLATFORM_ID)", file=sys.stderr
            )
            return 1
        digest = await DigestService(store, SystemClock()).preview(chat)
    finally:
        await store.close()
    if digest is None:
        print("Nothing since the last digest: no digest would be sent now.")
    else:
        print("\n".join(render_digest(digest)))
    return 0


def main(settings: Settings, key: str) -> int:
    """Exit 0 when the chat exists (digest or not), 1 when it does not."""
    return asyncio.run(_preview(settings, key))
