"""Outbound messages to and from JSON, so the outbox can hold them across restarts."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from bot.core.models import (
    AlertMessage,
    DigestItem,
    DigestMessage,
    DigestSection,
    Highlight,
    NoticeMessage,
    OutboundMessage,
    Source,
    StoryView,
    UpdateMessage,
)

_TYPES: dict[type, str] = {
    AlertMessage: "alert",
    UpdateMessage: "update",
    DigestMessage: "digest",
    NoticeMessage: "notice",
}


def to_payload(message: OutboundMessage) -> dict[str, Any]:
    """A JSON-ready dict tagged with the message type."""
    return {"type": _TYPES[type(message)], **asdict(message)}


def _story(data: dict[str, Any]) -> StoryView:
    sources = tuple(Source(**s) for s in data["sources"])
    return StoryView(**{**data, "sources": sources})


def _highlight(data: dict[str, Any]) -> Highlight:
    return Highlight(data["text"], tuple((int(a), int(b)) for a, b in data["spans"]))


def _digest_item(data: dict[str, Any]) -> DigestItem:
    # Digests queued before outlet names were stored have none: they show a count instead.
    return DigestItem(**{**data, "outlets": tuple(data.get("outlets", ()))})


def _digest(data: dict[str, Any]) -> DigestMessage:
    sections = tuple(
        DigestSection(s["title"], tuple(_digest_item(i) for i in s["items"]))
        for s in data["sections"]
    )
    return DigestMessage(data["title"], sections, data.get("more", 0))


def from_payload(payload: dict[str, Any]) -> OutboundMessage:
    """Inverse of `to_payload`; raises KeyError/ValueError on a payload it does not know."""
    kind = payload["type"]
    if kind == "alert":
        return AlertMessage(
            _story(payload["story"]),
            _highlight(payload["highlight"]),
            tuple(payload.get("matched_terms", ())),
        )
    if kind == "update":
        return UpdateMessage(
            _story(payload["story"]),
            payload["whats_new"],
            Source(**payload["source"]),
            _highlight(payload["highlight"]),
        )
    if kind == "digest":
        return _digest(payload)
    if kind == "notice":
        return NoticeMessage(payload["text"], tuple(_story(s) for s in payload["stories"]))
    raise ValueError(f"unknown message type {kind!r}")
