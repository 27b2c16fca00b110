"""The console chat: commands typed at the terminal, replies and alerts printed."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from dataclasses import replace
from pathlib import Path
from typing import TextIO

from bot.console.notifier import ConsoleNotifier
from bot.console.render import render_reply
from bot.services.chat.feed_checks import FollowUp
from bot.services.chat.ports import Attachment, CommandContext, CommandPort, CommandReply

PLATFORM = "console"
CHAT_ID = "console"


def local_file(text: str) -> Attachment | None:
    """ "/import feeds.opml" at the terminal: the operator's own file, read when needed."""
    name, _, path = text.partition(" ")
    if name.lower() != "/import" or not path.strip():
        return None
    file = Path(path.strip()).expanduser()

    async def read(limit: int) -> bytes:
        with file.open("rb") as handle:
            return await asyncio.to_thread(handle.read, limit + 1)

    size = file.stat().st_size if file.is_file() else None
    return Attachment(file.name, size, read)


async def _always() -> bool:
    return True  # the person at the terminal owns the bot


class ConsoleSender:
    """The console's outbound side: alerts printed to `out`."""

    def __init__(self, out: TextIO) -> None:
        self.notifier = ConsoleNotifier(out)

    async def start(self) -> None:
        """Nothing to connect."""

    async def stop(self) -> None:
        """Nothing to close."""


class ConsoleRuntime:
    """Reads commands from `inp` line by line; stops reading at end of input."""

    def __init__(
        self, commands: CommandPort, inp: TextIO, out: TextIO, sender: ConsoleSender | None = None
    ) -> None:
        self._commands, self._inp, self._out = commands, inp, out
        self.sender = sender or ConsoleSender(out)
        self.notifier = self.sender.notifier
        self._task: asyncio.Task[None] | None = None
        self.context = CommandContext(PLATFORM, CHAT_ID, "operator", _always)

    async def start(self) -> None:
        self._out.write("storywatch console chat: type /help (Ctrl-C to quit)\n")
        self._out.flush()
        self._task = asyncio.create_task(self._read_loop())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def type(self, line: str) -> None:
        """Handle one typed line as if the user entered it (the demo uses this)."""
        text = line.strip()
        if not text:
            return
        if text.startswith("/press "):
            reply = await self._commands.on_button(self.context, text.removeprefix("/press "))
        elif text.startswith("/"):
            later = FollowUp(self._show)
            ctx = replace(self.context, followup=later, attachment=local_file(text))
            reply = await self._commands.handle(ctx, text)
            later.answered()  # the reply below is printed before any later one can be
        else:
            self._out.write("Commands start with / — try /help\n")
            return
        await self._show(reply)

    async def _show(self, reply: CommandReply) -> None:
        self._out.write("\n".join(f"  {line}" for line in render_reply(reply)) + "\n")
        self._out.flush()

    async def _read_loop(self) -> None:
        # A daemon thread reads, so a blocked readline never holds up shutdown.
        loop = asyncio.get_running_loop()
        lines: asyncio.Queue[str] = asyncio.Queue()

        def pump() -> None:
            for line in iter(self._inp.readline, ""):
                loop.call_soon_threadsafe(lines.put_nowait, line)

        threading.Thread(target=pump, name="console-input", daemon=True).start()
        while True:
            await self.type(await lines.get())
