"""What the bot planned (its outbox) next to what each chat received (the fake platforms).

`assert_inboxes` states the delivery guarantee the way a user sees it: every planned alert
and update arrived, in the planned order, threaded and edited where it should be; the only
extra messages are copies of a message that was in flight to that chat when the bot died.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType

from fakes.slack_api import FakeSlackApi
from fakes.telegram_api import FakeBotApi
from kill_plan import STORY, UPDATE_MARKER, Report, markers
from sqlalchemy import func, select

from bot.storage import tables as t
from bot.storage.store import make_engine

_O, _C = t.outbox.c, t.chats.c


@dataclass(frozen=True)
class OutboxRow:
    """One planned message, as stored; `chat` is "platform:id"."""

    id: int
    chat: str
    kind: str
    story_id: str
    status: str
    sent_ref: str | None
    claimed_until: datetime | None


class OutboxReader:
    """Reads the bot's database from the test (SQLite or PostgreSQL); the bot may be running."""

    def __init__(self, database_url: str) -> None:
        self.engine = make_engine(database_url)

    async def __aenter__(self) -> OutboxReader:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.engine.dispose()

    async def rows(self) -> list[OutboxRow]:
        query = (
            select(_O.id, _C.platform, _C.platform_id, _O.kind, _O.story_id, _O.status,
                   _O.sent_ref, _O.claimed_until)
            .join(t.chats, _C.id == _O.chat_id)
            .order_by(_O.id)
        )  # fmt: skip
        async with self.engine.connect() as conn:
            found = (await conn.execute(query)).all()
        return [
            OutboxRow(r.id, f"{r.platform}:{r.platform_id}", r.kind, r.story_id, r.status,
                      r.sent_ref, r.claimed_until)
            for r in found
        ]  # fmt: skip

    async def drained(self, articles: int) -> bool:
        """All `articles` are stored and no message waits to be sent."""
        async with self.engine.connect() as conn:
            stored = await conn.scalar(select(func.count()).select_from(t.articles))
            waiting = await conn.scalar(
                select(func.count()).where(_O.status.in_(("pending", "held")))
            )
        return stored == articles and waiting == 0


@dataclass(frozen=True)
class Received:
    """A new message as the platform shows it; `reply_to` is the message it is threaded under."""

    ref: str
    text: str
    reply_to: str | None


@dataclass(frozen=True)
class Inbox:
    """One chat: its rule, the new messages it got in order, and each message's text now."""

    chat: str
    rule: str
    received: list[Received]
    shown: dict[str, str]
    edited: frozenset[str]


def telegram_inbox(api: FakeBotApi, chat_id: int, rule: str, first: int) -> Inbox:
    """Messages to `chat_id` from `api.sent[first]` on (earlier ones answered commands)."""
    received = [
        Received(str(r.message_id), r.text,
                 str(r.reply_parameters["message_id"]) if r.reply_parameters else None)
        for r in api.sent[first:] if r.chat_id == chat_id
    ]  # fmt: skip
    shown = {str(m): text for (c, m), (text, _) in api.chats.texts.items() if c == chat_id}
    edited = frozenset(str(r.message_id) for r in api.edits if r.chat_id == chat_id)
    return Inbox(f"telegram:{chat_id}", rule, received, shown, edited)


def slack_inbox(api: FakeSlackApi, channel: str, rule: str) -> Inbox:
    posts = [p for p in api.posted if p.channel == channel]
    received = [Received(p.ts, p.shown, p.thread_ts) for p in posts]
    shown = {p.ts: p.shown for p in posts}
    shown |= {p.ts: p.shown for p in api.updated if p.channel == channel}  # the latest wins
    edited = frozenset(p.ts for p in api.updated if p.channel == channel)
    return Inbox(f"slack:{channel}", rule, received, shown, edited)


def assert_inboxes(
    inboxes: list[Inbox], reports: list[Report], rows: list[OutboxRow], in_flight: Counter[str]
) -> None:
    for inbox in inboxes:
        mine = [row for row in rows if row.chat == inbox.chat]
        assert mine and all(row.status == "sent" for row in mine), (inbox.chat, mine)
        expected = markers(inbox.rule, reports)
        said = [_marker(m, expected) for m in inbox.received]
        # A copy follows its first right away: the chat's next message waits behind it.
        assert _distinct(said) == expected, f"{inbox.chat} ({inbox.rule}) received {said}"
        repeated = copies(inbox, reports)
        assert repeated <= in_flight[inbox.chat], (
            f"{inbox.chat}: {repeated} repeated messages, {in_flight[inbox.chat]} were in flight"
        )
        by_ref = {m.ref: m for m in inbox.received}
        planned = [row for row in mine if row.kind in ("alert", "update")]
        marked = [_marker(by_ref[row.sent_ref], expected) if row.sent_ref in by_ref else "?"
                  for row in planned]  # fmt: skip
        assert marked == expected, f"{inbox.chat}: planned {marked}, in this order"
        _assert_threads_and_edits(inbox, mine)


def copies(inbox: Inbox, reports: list[Report]) -> int:
    """How many messages the chat received a second (third …) time in a row."""
    said = [_marker(m, markers(inbox.rule, reports)) for m in inbox.received]
    return len(said) - len(_distinct(said))


def _distinct(said: list[str]) -> list[str]:
    return [s for i, s in enumerate(said) if i == 0 or said[i - 1] != s]


def _marker(message: Received, expected: list[str]) -> str:
    """Which expected message this is (a copy may show more outlets than its first); an
    update quotes its development, and may name the story's headline too."""
    if message.reply_to is not None and UPDATE_MARKER in message.text:
        return UPDATE_MARKER
    return next((e for e in expected if e in message.text), message.text[:60])


def _assert_threads_and_edits(inbox: Inbox, rows: list[OutboxRow]) -> None:
    """An update sits under its story's alert; the alert shows every outlet of the story."""
    alerts = {row.story_id: row.sent_ref for row in rows if row.kind == "alert"}
    replies = {m.ref: m.reply_to for m in inbox.received}
    for row in rows:
        if row.kind == "update":
            assert replies[row.sent_ref or ""] == alerts[row.story_id], (inbox.chat, row)
        if row.kind == "sources":
            assert row.sent_ref == alerts[row.story_id] and row.sent_ref in inbox.edited, row
    headline = STORY[2][1].title
    story = [ref for ref in alerts.values() if headline in inbox.shown.get(ref or "", "")]
    if "S-400" in inbox.rule:
        (ref,) = story
        story_id = next(sid for sid, alert in alerts.items() if alert == ref)
        mine = [(r.id, r.kind, r.status, r.sent_ref) for r in rows if r.story_id == story_id]
        assert all(f"Outlet {o}" in inbox.shown[ref or ""] for o in "ABC"), (
            f"{inbox.chat}: the alert {ref} (edited: {ref in inbox.edited}) shows "
            f"{inbox.shown[ref or '']!r}; the story's rows: {mine}"
        )
