"""Test doubles that record what happened, and builders for feeds."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any
from xml.sax.saxutils import escape

from bot.core.models import OutboundMessage
from bot.services.errors import DeliveryError
from bot.services.ports import Address


class SettableClock:
    """A clock the test moves by hand."""

    def __init__(self, at: datetime | None = None) -> None:
        self.at = at or datetime(2021, 3, 23, 18, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.at

    def advance(self, **delta: float) -> None:
        self.at += timedelta(**delta)


@dataclass
class Delivered:
    """One call a notifier received."""

    action: str  # send / edit / reply
    to: Address
    message: OutboundMessage
    ref: str
    parent: str | None = None


@dataclass
class RecordingNotifier:
    """Records deliveries; `failures` are raised, in order, before anything is recorded."""

    delivered: list[Delivered] = field(default_factory=list)
    failures: list[DeliveryError] = field(default_factory=list)
    _next: int = 0

    def _record(
        self,
        action: str,
        to: Address,
        message: OutboundMessage,
        parent: str | None = None,
        ref: str | None = None,
    ) -> str:
        if self.failures:
            raise self.failures.pop(0)
        if ref is None:
            self._next += 1
            ref = str(self._next)
        self.delivered.append(Delivered(action, to, message, ref, parent))
        return ref

    async def send(self, to: Address, message: OutboundMessage) -> str:
        return self._record("send", to, message)

    async def edit(self, to: Address, ref: str, message: OutboundMessage) -> str:
        return self._record("edit", to, message, ref=ref, parent=ref)

    async def reply(self, to: Address, parent: str, message: OutboundMessage) -> str:
        return self._record("reply", to, message, parent=parent)

    def actions(self) -> list[str]:
        return [d.action for d in self.delivered]


@dataclass(frozen=True)
class Item:
    """One RSS item for `rss`."""

    title: str
    text: str
    link: str
    guid: str
    published: datetime


def rss(title: str, items: list[Item]) -> bytes:
    """A small RSS 2.0 document."""
    body = "".join(
        f"<item><title>{escape(i.title)}</title><link>{escape(i.link)}</link>"
        f'<guid isPermaLink="false">{escape(i.guid)}</guid>'
        f"<pubDate>{format_datetime(i.published)}</pubDate>"
        f"<description>{escape(i.text)}</description></item>"
        for i in items
    )
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
        f"<title>{escape(title)}</title><link>http://example.org/</link>{body}"
        f"</channel></rss>"
    ).encode()


class SavesTogether:
    """A store as one story stage sees it: its first save_stage waits until every stage
    sharing `barrier` has planned, so stages on the same head write at once (the lock
    bypassed, as a paused and superseded process would)."""

    def __init__(self, store: Any, barrier: asyncio.Barrier) -> None:
        self._store, self._barrier, self._met = store, barrier, False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    async def save_stage(self, *args: Any) -> None:
        if not self._met:
            self._met = True
            await self._barrier.wait()
        await self._store.save_stage(*args)
