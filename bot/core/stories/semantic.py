"""Sentence vectors for the optional [semantic] extra: the port, and cosine on stored vectors.

The encoder (an adapter, `bot.semantic`) turns a headline and lead into a unit vector kept
as signed bytes (one per dimension, scaled to the vector's own maximum): half a kilobyte per
report. Only candidates the lexical model finds ambiguous are re-scored with it.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Iterable
from typing import Protocol

# Re-scored with the semantic model only between these default probabilities: below, no
# sentence encoder turns a stranger into the same event; above, the words already agree.
AMBIGUOUS = (0.1, 0.9)


class Encoder(Protocol):
    """Turns text into a quantised unit vector (bytes of signed int8)."""

    def encode(self, text: str) -> bytes: ...


def quantise(values: list[float]) -> bytes:
    """A vector as signed bytes scaled to its largest component (cosine is scale-free)."""
    top = max((abs(v) for v in values), default=0.0) or 1.0
    return array("b", (round(127 * v / top) for v in values)).tobytes()


def cosine(a: bytes, b: bytes) -> float:
    """Cosine of two quantised vectors of the same length."""
    x, y = array("b", a), array("b", b)
    dot = sum(p * q for p, q in zip(x, y, strict=True))
    norm = math.sqrt(sum(p * p for p in x) * sum(q * q for q in y))
    return dot / norm if norm else 0.0


def closest(mine: bytes, others: Iterable[bytes | None]) -> float:
    """The highest cosine between `mine` and the vectors given (missing ones skipped)."""
    return max((cosine(mine, v) for v in others if v), default=0.0)
