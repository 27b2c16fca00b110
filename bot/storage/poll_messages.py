"""A poll batch's outbox rows written with a few multi-row statements instead of 2-4 per message.

Rule order for each planned message, applied in plan order (the decisions themselves are
bot.core.outbox's `sources_plan` and `initial_status`; this module only carries them out):
1. A SOURCES edit whose alert no deliverer can have read yet (held, or not due) changes that
   alert's payload in place; nothing is queued (the alert will show the new sources itself).
2. A message whose (chat, story, kind, dedup key) row exists is never queued twice, except a
   SOURCES edit: the one edit row per chat and story is re-armed with the latest sources
   (and loses any claim, so an older edit being sent cannot mark it done).
3. Anything else becomes a new row; rows are inserted in plan order, so ids keep each chat's
   order.
All existing rows the batch can touch are read in two queries up front; the plan is then
applied in memory, and written as one insert and two executemany updates.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.core.alerts import PlannedMessage
from bot.core.codec import story_payload, to_payload
from bot.core.models import MessageKind, StoryView
from bot.core.outbox import OutboxStatus, SourcesPlan, initial_status, sources_plan
from bot.storage import tables as t

_O = t.outbox.c
_Key = tuple[int, str, str, str]  # chat, story, kind, dedup key
_CHUNK = 500  # ids per IN (...) list: well inside every driver's parameter limit


@dataclass(slots=True)
class _Alert:
    """The alert row of one chat and story, as the batch has left it so far."""

    row_id: int | None  # None: inserted by this batch (`row` is its pending insert)
    status: str
    payload: dict[str, Any]
    row: dict[str, Any] | None = None
    may_be_sending: bool = False  # due or claimed: a deliverer may have read it already


@dataclass(slots=True)
class _Outbox:
    """What the batch knows of the outbox, and what it will write."""

    rows: dict[_Key, int | None]  # existing or pending keys -> row id (None: pending)
    alerts: dict[tuple[int, str], _Alert]
    inserts: list[dict[str, Any]] = field(default_factory=list)
    rearm: dict[int, dict[str, Any]] = field(default_factory=dict)
    edited: dict[int, dict[str, Any]] = field(default_factory=dict)
    stories: dict[int, tuple[StoryView, dict[str, Any]]] = field(default_factory=dict)


async def save_messages(
    conn: AsyncConnection, messages: Sequence[PlannedMessage], now: datetime
) -> None:
    """Write `messages` (planned in this order) inside the caller's transaction."""
    if not messages:
        return
    box = await _load(conn, messages, now)
    for message in messages:
        _apply(box, message, now)
    await _write(conn, box)


_ALERT_COLUMNS = (
    _O.id, _O.chat_id, _O.story_id, _O.status, _O.payload, _O.next_attempt_at, _O.claimed_until,
)  # fmt: skip


async def _load(
    conn: AsyncConnection, messages: Sequence[PlannedMessage], now: datetime
) -> _Outbox:
    story_ids = sorted({m.story_id for m in messages})
    chats = {m.chat_id for m in messages}
    box = _Outbox({}, {})
    for chunk in _chunks(story_ids):
        keys = select(_O.id, _O.chat_id, _O.story_id, _O.kind, _O.dedup_key).where(
            _O.story_id.in_(chunk)
        )
        for row in await conn.execute(keys):
            if row.chat_id in chats:
                box.rows[(row.chat_id, row.story_id, row.kind, row.dedup_key)] = row.id
        alerts = select(*_ALERT_COLUMNS).where(
            _O.story_id.in_(chunk), _O.kind == MessageKind.ALERT.value
        )
        for a in await conn.execute(alerts):
            if a.chat_id in chats:
                box.alerts[(a.chat_id, a.story_id)] = _Alert(
                    a.id, a.status, a.payload, may_be_sending=_may_be_sending(a, now)
                )
    return box


def _may_be_sending(alert: Any, now: datetime) -> bool:
    """A pending alert that is due, or claimed (even by a worker that died): a deliverer
    may have read its text, and marks it sent with that text."""
    claimed: bool = alert.claimed_until is not None and alert.claimed_until > now
    due: bool = alert.status == OutboxStatus.PENDING and alert.next_attempt_at <= now
    return claimed or due


def _apply(box: _Outbox, m: PlannedMessage, now: datetime) -> None:
    payload: dict[str, Any] | None = to_payload(m.message, _story(box, m))
    if m.kind is MessageKind.SOURCES and payload is not None:
        payload = _edit_payload(box, m, payload)
    if payload is None:
        return
    status = initial_status(m.held).value
    key = (m.chat_id, m.story_id, m.kind.value, m.dedup_key)
    if key not in box.rows:
        _insert(box, key, m, payload, status, now)
    elif m.kind is MessageKind.SOURCES:
        _rearm(box, box.rows[key], key, payload, status, m.not_before)
    # Any other existing row: the same message was already planned; never twice.


def _story(box: _Outbox, m: PlannedMessage) -> dict[str, Any] | None:
    """The story part, built once per story view: a batch's messages share their views."""
    view = getattr(m.message, "story", None)
    if not isinstance(view, StoryView):
        return None
    known = box.stories.get(id(view))
    if known is None or known[0] is not view:
        known = box.stories[id(view)] = (view, story_payload(view))
    return known[1]


def _edit_payload(
    box: _Outbox, m: PlannedMessage, payload: dict[str, Any]
) -> dict[str, Any] | None:
    """An edit changes the story part only: the chat keeps the snippet of its own match.
    None when the alert is still unsent and was updated in place instead."""
    alert = box.alerts.get((m.chat_id, m.story_id))
    status = None if alert is None else OutboxStatus(alert.status)
    plan = sources_plan(status, may_be_sending=alert is not None and alert.may_be_sending)
    if alert is None or plan is SourcesPlan.QUEUE:
        return payload
    edited = {**alert.payload, "story": payload["story"]}
    if plan is SourcesPlan.QUEUE_EDIT:
        return edited
    alert.payload = edited
    if alert.row is not None:
        alert.row["payload"] = edited
    elif alert.row_id is not None:
        box.edited[alert.row_id] = {"rid": alert.row_id, "payload": edited}
    return None


def _insert(
    box: _Outbox,
    key: _Key,
    m: PlannedMessage,
    payload: dict[str, Any],
    status: str,
    now: datetime,
) -> None:
    row = {
        "chat_id": m.chat_id,
        "story_id": m.story_id,
        "kind": m.kind.value,
        "dedup_key": m.dedup_key,
        "payload": payload,
        "status": status,
        "attempts": 0,
        "next_attempt_at": m.not_before,
        "deferred": m.deferred,
        "created_at": now,
    }
    box.inserts.append(row)
    box.rows[key] = None
    if m.kind is MessageKind.ALERT:
        box.alerts[(m.chat_id, m.story_id)] = _Alert(None, status, payload, row)


def _rearm(
    box: _Outbox,
    row_id: int | None,
    key: _Key,
    payload: dict[str, Any],
    status: str,
    at: datetime,
) -> None:
    """One edit row per chat and story carries the latest sources; re-arm it."""
    if row_id is None:  # queued earlier in this batch: the pending insert carries it
        pending = next(r for r in reversed(box.inserts) if _key(r) == key)
        pending.update(payload=payload, status=status, attempts=0, next_attempt_at=at)
        return
    box.rearm[row_id] = {"rid": row_id, "payload": payload, "status": status, "at": at}


def _key(row: dict[str, Any]) -> _Key:
    return (row["chat_id"], row["story_id"], row["kind"], row["dedup_key"])


_REARM = (
    update(t.outbox)
    .where(_O.id == bindparam("rid"))
    .values(
        payload=bindparam("payload"),
        status=bindparam("status"),
        attempts=0,
        next_attempt_at=bindparam("at"),
        # A deliverer may be sending the old edit right now: without its claim, its "sent"
        # does not land (OutboxStore marks claimed rows only), so the new sources go next.
        claimed_until=None,
    )
)
_EDIT = update(t.outbox).where(_O.id == bindparam("rid")).values(payload=bindparam("payload"))


async def _write(conn: AsyncConnection, box: _Outbox) -> None:
    if box.edited:
        await conn.execute(_EDIT, list(box.edited.values()))
    if box.rearm:
        await conn.execute(_REARM, list(box.rearm.values()))
    if box.inserts:
        await conn.execute(t.outbox.insert(), box.inserts)


def _chunks(items: list[Any]) -> list[list[Any]]:
    return [items[i : i + _CHUNK] for i in range(0, len(items), _CHUNK)]
