"""Keeping the pacer's budget: its scale recomputed from every polled feed's stored state."""

from __future__ import annotations

from typing import Protocol

from bot.core.pace_state import PaceState
from bot.core.pacing import Pacer


class PaceStates(Protocol):
    """The stored rate state (JSON, or None before a feed's first paced poll) of each feed."""

    async def pace_states(self) -> list[str | None]: ...


async def recalibrate(store: PaceStates, pacer: Pacer) -> None:
    """Run at start and every few minutes in each process that reads feeds: every process
    computes the same scale from the same rows, so the cluster's total stays in budget."""
    states = [PaceState.from_json(text) for text in await store.pace_states()]
    pacer.calibrate(states)
