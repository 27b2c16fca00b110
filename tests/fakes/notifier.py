"""A notifier that fails on cue per destination and records every try, failed or not."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from bot.core.models import OutboundMessage
from bot.services.errors import DeliveryError
from bot.services.ports import Address


@dataclass(frozen=True)
class Call:
    """One call the platform received: what, where, and how it ended."""

    action: str  # send / edit / reply
    to: str  # the destination's platform id
    message: OutboundMessage
    parent: str | None  # the message edited or replied to
    ref: str | None  # the new message's reference; None when it failed
    error: DeliveryError | None = None


@dataclass
class ScriptedNotifier:
    """`fail[platform_id]` lists errors raised, in order, by that destination's next calls."""

    fail: defaultdict[str, list[DeliveryError]] = field(default_factory=lambda: defaultdict(list))
    calls: list[Call] = field(default_factory=list)
    _next: int = 0

    def _call(self, action: str, to: Address, message: OutboundMessage, parent: str | None) -> str:
        script = self.fail[to.platform_id]
        if script:
            error = script.pop(0)
            self.calls.append(Call(action, to.platform_id, message, parent, None, error))
            raise error
        self._next += 1
        ref = parent if action == "edit" and parent else f"m{self._next}"
        self.calls.append(Call(action, to.platform_id, message, parent, ref))
        return ref

    async def send(self, to: Address, message: OutboundMessage) -> str:
        return self._call("send", to, message, None)

    async def edit(self, to: Address, ref: str, message: OutboundMessage) -> str:
        return self._call("edit", to, message, ref)

    async def reply(self, to: Address, parent: str, message: OutboundMessage) -> str:
        return self._call("reply", to, message, parent)

    def delivered(self, to: str | None = None) -> list[Call]:
        """The calls that reached the chat `to` (every chat when None), in order."""
        return [c for c in self.calls if c.error is None and to in (None, c.to)]
