"""Keeping the pacer's budget: its scale recomputed from every polled feed's stored state."""

from __future__ import annotations

import asyncio
from typing import Protocol

from bot.core.pace_state import PaceState
from bot.core.pacing import Pacer


class PaceStates(Protocol):
    """The stored rate state (JSON, or None before a feed's first paced poll) of each feed."""

    async def pace_states(self) -> list[str | None]: ...


async def recalibrate(store: PaceStates, pacer: Pacer) -> None:
    """Run at start and every few minutes in each process that reads feeds: every process
    computes the same scale from the same rows, so the cluster's total stays in budget.
    In a thread: at 10,000 feeds it is a fraction of a second of CPU."""
    texts = await store.pace_states()
    await asyncio.to_thread(_calibrate, pacer, texts)


def _calibrate(pacer: Pacer, texts: list[str | None]) -> None:
    pacer.calibrate(PaceState.from_json(text) for text in texts)
