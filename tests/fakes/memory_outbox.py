"""The outbox and digest half of the in-memory store: DeliveryPort and DigestPort over dicts.

Semantics follow bot/storage/outbox.py and bot/storage/poll_messages.py: a chat's oldest
pending row goes first; a claim is a lease; only a claimed row takes an outcome; a 429 leaves
`attempts` alone; a digest slot is claimed by moving the chat's `last_digest_at`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from bot.core.alerts import PlannedMessage
from bot.core.codec import to_payload
from bot.core.digest import DigestEntry
from bot.core.models import Chat, MessageKind, StoryView
from bot.core.outbox import (
    WAITING,
    OutboxStatus,
    SentAlert,
    SourcesPlan,
    initial_status,
    sources_plan,
)
from bot.services.records import OutboxRow

Status = OutboxStatus


@dataclass
class StoredRow:
    """One outbox row as the fake keeps it (the columns bot/storage/tables.py has)."""

    id: int
    chat_id: int
    story_id: str
    kind: MessageKind
    dedup_key: str
    payload: dict[str, Any]
    status: OutboxStatus
    next_attempt_at: datetime
    deferred: bool = False
    attempts: int = 0
    claimed_until: datetime | None = None
    sent_ref: str | None = None
    folded: bool = False
    sent_at: datetime | None = None
    last_error: str | None = None

    def key(self) -> tuple[int, str, str, str]:
        return (self.chat_id, self.story_id, self.kind.value, self.dedup_key)

    def is_free(self, now: datetime) -> bool:
        return self.claimed_until is None or self.claimed_until < now


@dataclass
class StoredChat:
    """A chat with the columns the services never see directly."""

    chat: Chat
    created_by: str
    last_digest_at: datetime | None
    deactivated_reason: str | None = None


@dataclass
class StoredStory:
    view: StoryView
    first_seen: datetime
    last_seen: datetime
    developments: int = 0


def _json(payload: dict[str, Any]) -> dict[str, Any]:
    """As the database gives it back: tuples become lists, and a payload that is not JSON
    fails here as it would in the real store."""
    loaded: dict[str, Any] = json.loads(json.dumps(payload))
    return loaded


class MemoryOutbox:
    """DeliveryPort and DigestPort; the state lives on MemoryStore."""

    chats: dict[int, StoredChat]
    rows: dict[int, StoredRow]
    stories: dict[str, StoredStory]
    matches: dict[tuple[int, str], tuple[str, datetime]]  # (chat, story) -> (rule, matched_at)
    events: list[tuple[str, int]]  # (what, outbox row id), in order: "claimed", "sent", ...
    _next_row: int

    # --- DeliveryPort -------------------------------------------------------------------------
    async def claim_due(self, now: datetime, limit: int, lease_seconds: float) -> list[OutboxRow]:
        due = [
            r for r in self.rows.values()
            if r.status is Status.PENDING and r.next_attempt_at <= now and r.is_free(now)
            and self.chats[r.chat_id].chat.active and self._heads_its_chat(r)
        ]  # fmt: skip
        due.sort(key=lambda r: (r.next_attempt_at, r.id))
        return [self._claim(r, now, lease_seconds) for r in due[:limit]]

    def _heads_its_chat(self, row: StoredRow) -> bool:
        return not any(
            r.chat_id == row.chat_id and r.status is Status.PENDING and r.id < row.id
            for r in self.rows.values()
        )

    async def take_deferred_alerts(
        self, chat_id: int, now: datetime, lease_seconds: float
    ) -> list[OutboxRow]:
        found = sorted(
            (r for r in self.rows.values()
             if r.chat_id == chat_id and r.status is Status.PENDING and r.next_attempt_at <= now
             and r.is_free(now) and r.kind is MessageKind.ALERT and r.deferred),
            key=lambda r: r.id,
        )  # fmt: skip
        return [self._claim(r, now, lease_seconds) for r in found]

    def _claim(self, row: StoredRow, now: datetime, lease_seconds: float) -> OutboxRow:
        row.claimed_until = now + timedelta(seconds=lease_seconds)
        self.events.append(("claimed", row.id))
        chat = self.chats[row.chat_id].chat
        return OutboxRow(row.id, chat, row.story_id, row.kind, _json(row.payload), row.attempts,
                         row.deferred)  # fmt: skip

    async def alert_ref(self, chat_id: int, story_id: str) -> SentAlert | None:
        for r in self.rows.values():
            if (r.chat_id, r.story_id, r.kind, r.status) == (
                chat_id, story_id, MessageKind.ALERT, Status.SENT
            ):  # fmt: skip
                return SentAlert(str(r.sent_ref), r.folded)
        return None

    async def mark_sent(
        self, row_id: int, ref: str, now: datetime, *, folded: bool = False
    ) -> None:
        self._set(row_id, "sent", status=Status.SENT, sent_ref=ref, folded=folded, sent_at=now)

    async def mark_retry(
        self, row_id: int, at: datetime, error: str, *, counts_attempt: bool = True
    ) -> None:
        attempts = self.rows[row_id].attempts + (1 if counts_attempt else 0)
        self._set(row_id, "retry", next_attempt_at=at, last_error=error, attempts=attempts)

    async def mark_failed(self, row_id: int, error: str) -> None:
        attempts = self.rows[row_id].attempts + 1
        self._set(row_id, "failed", status=Status.FAILED, last_error=error, attempts=attempts)

    def _set(self, row_id: int, event: str, **values: Any) -> None:
        """Only a claimed row takes an outcome (a row re-armed meanwhile lost its claim)."""
        row = self.rows[row_id]
        if row.claimed_until is None:
            self.events.append((f"{event} ignored: not claimed", row_id))
            return
        for name, value in {**values, "claimed_until": None}.items():
            setattr(row, name, value)
        self.events.append((event, row_id))

    async def deactivate_chat(self, chat_id: int, reason: str) -> None:
        stored = self.chats[chat_id]
        stored.chat = replace(stored.chat, active=False)
        stored.deactivated_reason = reason
        self.version += 1  # type: ignore[attr-defined]  # the rules version, on MemoryStore
        for r in self.rows.values():
            if r.chat_id == chat_id and r.status in WAITING:
                r.status, r.last_error = Status.CANCELLED, reason

    async def release_held(self, chat_id: int) -> int:
        held = [r for r in self.rows.values() if r.chat_id == chat_id and r.status is Status.HELD]
        for r in held:
            r.status = Status.PENDING
        return len(held)

    # --- DigestPort ---------------------------------------------------------------------------
    async def digest_entries(self, chat_id: int, since: datetime) -> list[DigestEntry]:
        found = sorted(
            ((at, label, self.stories[story_id]) for (chat, story_id), (label, at)
             in self.matches.items() if chat == chat_id and story_id in self.stories),
            key=lambda found: found[0],
        )  # fmt: skip
        return [
            DigestEntry(label, s.view.story_id, s.view.headline, s.view.url, s.view.summary,
                        tuple(src.name for src in s.view.sources), s.developments, s.last_seen)
            for _, label, s in found if s.last_seen > since
        ]  # fmt: skip

    async def enqueue_digest(
        self, chat_id: int, slot: datetime, payload: dict[str, Any] | None, now: datetime
    ) -> bool:
        stored = self.chats[chat_id]
        if stored.last_digest_at is not None and stored.last_digest_at >= slot:
            return False
        stored.last_digest_at = slot
        if payload is None:
            return False
        self.add_row(chat_id, "", MessageKind.DIGEST, payload, now, dedup_key=slot.isoformat())
        return True

    async def last_digest_at(self, chat_id: int) -> datetime | None:
        return self.chats[chat_id].last_digest_at

    # --- writing rows -------------------------------------------------------------------------
    def add_row(
        self, chat_id: int, story_id: str, kind: MessageKind, payload: dict[str, Any],
        at: datetime, *, dedup_key: str = "", held: bool = False, deferred: bool = False,
    ) -> StoredRow:  # fmt: skip
        self._next_row += 1
        row = StoredRow(self._next_row, chat_id, story_id, kind, dedup_key, _json(payload),
                        initial_status(held), at, deferred)  # fmt: skip
        self.rows[row.id] = row
        return row

    def write_messages(self, messages: Sequence[PlannedMessage], now: datetime) -> None:
        """A poll's planned messages, by the rules of bot/storage/poll_messages.py."""
        for m in messages:
            payload: dict[str, Any] | None = to_payload(m.message)
            if m.kind is MessageKind.SOURCES and payload is not None:
                payload = self._edit_payload(m, payload, now)
            if payload is None:
                continue
            same = next((r for r in self.rows.values() if r.key() == _key(m)), None)
            if same is None:
                self.add_row(m.chat_id, m.story_id, m.kind, payload, m.not_before,
                             dedup_key=m.dedup_key, held=m.held, deferred=m.deferred)  # fmt: skip
            elif m.kind is MessageKind.SOURCES:  # the one edit row carries the latest sources
                same.payload, same.status = _json(payload), initial_status(m.held)
                same.attempts, same.next_attempt_at, same.claimed_until = 0, m.not_before, None

    def _edit_payload(
        self, m: PlannedMessage, payload: dict[str, Any], now: datetime
    ) -> dict[str, Any] | None:
        alert = self._alert_row(m.chat_id, m.story_id)
        sending = alert is not None and (
            (alert.claimed_until is not None and alert.claimed_until > now)
            or (alert.status is Status.PENDING and alert.next_attempt_at <= now)
        )
        plan = sources_plan(None if alert is None else alert.status, may_be_sending=sending)
        if alert is None or plan is SourcesPlan.QUEUE:
            return payload
        edited = {**alert.payload, "story": _json(payload)["story"]}
        if plan is SourcesPlan.QUEUE_EDIT:
            return edited
        alert.payload = edited  # the waiting alert will show the new sources itself
        return None

    def _alert_row(self, chat_id: int, story_id: str) -> StoredRow | None:
        return next(
            (r for r in self.rows.values()
             if (r.chat_id, r.story_id, r.kind) == (chat_id, story_id, MessageKind.ALERT)),
            None,
        )  # fmt: skip


def _key(m: PlannedMessage) -> tuple[int, str, str, str]:
    return (m.chat_id, m.story_id, m.kind.value, m.dedup_key)
