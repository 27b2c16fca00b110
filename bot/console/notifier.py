"""A Notifier that prints to a text stream: the console chat's delivery."""

from __future__ import annotations

import itertools
from typing import TextIO

from bot.console.render import render
from bot.core.models import OutboundMessage
from bot.services.ports import Address


class ConsoleNotifier:
    """Prints messages; edits and replies are shown as such, with message numbers."""

    def __init__(self, out: TextIO) -> None:
        self._out = out
        self._numbers = itertools.count(1)

    def _print(self, header: str, message: OutboundMessage, number: str | None = None) -> str:
        number = number or str(next(self._numbers))
        lines = render(message)
        self._out.write(f"\n── message #{number}: {header} ──\n")
        self._out.write("\n".join(f"│ {line}" for line in lines) + "\n")
        self._out.flush()
        return number

    async def send(self, to: Address, message: OutboundMessage) -> str:
        return self._print("new", message)

    async def edit(self, to: Address, ref: str, message: OutboundMessage) -> str:
        return self._print("edited in place (no new notification)", message, ref)

    async def reply(self, to: Address, parent: str, message: OutboundMessage) -> str:
        return self._print(f"reply to message #{parent}", message)
