"""Outbox payloads: the hand-built dicts are exactly what `asdict` gave, and round-trip."""

from __future__ import annotations

import json
from dataclasses import asdict

from bot.core.codec import from_payload, story_payload, to_payload
from bot.core.models import AlertMessage, Highlight, Source, StoryView, UpdateMessage

VIEW = StoryView(
    "s1", "Ankara confirms S-400 talks", "https://a.example/1", "Talks resumed.",
    (Source("Outlet A", "https://a.example/1"), Source("Outlet B", "https://b.example/2")),
)  # fmt: skip
MESSAGES = [
    AlertMessage(VIEW, Highlight("S-400 talks", ((0, 5),)), ("s-400",)),
    UpdateMessage(
        VIEW,
        "Delivery date set",
        Source("Outlet B", "https://b.example/2"),
        Highlight("date", ((0, 4), (5, 6))),
    ),
]


def test_payloads_keep_the_stored_shape_and_round_trip() -> None:
    for message in MESSAGES:
        payload = to_payload(message)
        assert payload == {"type": payload["type"], **asdict(message)}
        assert from_payload(json.loads(json.dumps(payload))) == message


def test_a_shared_story_part_is_used_as_given() -> None:
    story = story_payload(VIEW)
    assert all(to_payload(m, story)["story"] is story for m in MESSAGES)
