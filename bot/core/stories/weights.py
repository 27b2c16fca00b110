"""The fitted story models: standardised logistic models over named features, read from JSON.

The numbers are data: `bench/fit_stories.py` writes them to `weights.json` beside this module
(package data), and `bot.story_models` reads that file at start and hands the models to the
`StoryIndex`. Nothing here reads a file; a model is looked up by feature NAME, never by
position, so adding or reordering a feature cannot silently shift the coefficients.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Term:
    """One feature's part of a model: (x - mean) / scale * coef."""

    feature: str
    mean: float
    scale: float
    coef: float


@dataclass(frozen=True, slots=True)
class Model:
    """P = 1 / (1 + exp(-(intercept + sum(coef * (x - mean) / scale)))); `threshold` is the
    fitted decision point (a `StorySettings` value may override it)."""

    terms: tuple[Term, ...]
    intercept: float
    threshold: float

    @property
    def features(self) -> tuple[str, ...]:
        return tuple(term.feature for term in self.terms)

    def probability(self, values: Mapping[str, float]) -> float:
        """The model's probability for named feature values (KeyError when one is missing)."""
        z = self.intercept
        for term in self.terms:
            z += term.coef * (values[term.feature] - term.mean) / term.scale
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))


@dataclass(frozen=True, slots=True)
class StoryModels:
    """The join model (does an article tell a candidate story?) and the development model
    (does a joining article bring a material new fact?)."""

    join: Model
    development: Model


class ModelsError(ValueError):
    """The models file is not what the fitter writes (a clear message, never a traceback)."""


def parse(text: str) -> StoryModels:
    """Models from the JSON the fitter writes; ModelsError when it is malformed."""
    try:
        data = json.loads(text)
        return StoryModels(_model(data["join"]), _model(data["development"]))
    except (ValueError, KeyError, TypeError) as exc:
        raise ModelsError(f"story models: {exc}") from None


def _model(data: Mapping[str, Any]) -> Model:
    features = data["features"]
    if not isinstance(features, dict) or not features:
        raise ValueError("features must be a non-empty object")
    terms = tuple(
        Term(str(name), float(v["mean"]), float(v["scale"]) or 1.0, float(v["coef"]))
        for name, v in features.items()
    )
    return Model(terms, float(data["intercept"]), float(data["threshold"]))


def render(models: StoryModels) -> str:
    """The JSON text for `models`, 6 significant digits a number, one feature a line: what
    the fitter writes and what `fit_stories.py --check` compares."""
    parts = [
        f'  "{name}": {_render_model(m)}'
        for name, m in (("join", models.join), ("development", models.development))
    ]
    return "{\n" + ",\n".join(parts) + "\n}\n"


def _render_model(m: Model) -> str:
    rows = ",\n".join(
        f'      "{t.feature}": {{"mean": {_n(t.mean)}, "scale": {_n(t.scale)}, '
        f'"coef": {_n(t.coef)}}}'
        for t in m.terms
    )
    return (
        f'{{\n    "intercept": {_n(m.intercept)},\n    "threshold": {_n(m.threshold)},\n'
        f'    "features": {{\n{rows}\n    }}\n  }}'
    )


def _n(x: float) -> str:
    """A number as the file keeps it: 6 significant digits (valid JSON: scales are finite)."""
    return f"{x:.6g}"
