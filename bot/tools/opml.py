"""`storywatch opml import FILE --chat ID` and `storywatch opml export --chat ID`: the chat
commands /import and /export, offline, with the same checks and the same one summary."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from bot.compose.basics import SystemClock, ensure_sqlite_dir
from bot.compose.parts import feed_check, opml_service
from bot.core.models import Chat
from bot.services.chat.feed_checks import FeedChecks
from bot.services.chat.opml_import import OpmlError, OpmlService
from bot.settings import Settings
from bot.storage.store import SqlStore
from bot.tools.digest import find_chat


async def _run(settings: Settings, action: str, key: str, path: Path | None) -> int:
    ensure_sqlite_dir(settings.database_url)
    store = await SqlStore.open(settings.database_url)
    clock = SystemClock()
    service = opml_service(settings, store.engine, clock, feed_check(settings, clock), FeedChecks())
    try:
        chat = await find_chat(store, key)
        if chat is None:
            print(
                f"no active chat {key!r} (use its number or PLATFORM:PLATFORM_ID)", file=sys.stderr
            )
            return 1
        if action == "export":
            sys.stdout.buffer.write(await service.export_bytes(chat))
            return 0
        assert path is not None
        return await _import(service, chat, path)
    finally:
        await store.close()


async def _import(service: OpmlService, chat: Chat, path: Path) -> int:
    cap = service.limits.max_bytes
    try:
        with path.open("rb") as handle:
            data = handle.read(cap + 1)
    except OSError as exc:
        print(f"cannot read {path}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    try:
        if len(data) > cap:
            raise OpmlError(f"That file is over {cap:,} bytes, the limit for an OPML file.")
        listed = await service.read(data)
    except OpmlError as exc:
        print(f"{exc} Nothing was added.", file=sys.stderr)
        return 1
    print((await service.import_feeds(chat, listed)).text)
    return 0


def main(settings: Settings, action: str, key: str, path: str | None = None) -> int:
    """Exit 0 when done (refused feeds are listed in the summary), 1 for a file or chat
    that cannot be used."""
    return asyncio.run(_run(settings, action, key, Path(path) if path else None))
