"""Fit the story models on labelled sets and write bot/core/stories/weights.json (or check it).

Data: the stories-real sets (two 51-hour windows of real feed items) and UCI's headlines, from
../shared/data. `--fit-on all` (what ships) fits on every label of every set; `--fit-on NAME`
fits on that stories-real set and UCI's first day only, so bench/stories_real.py can score the
other set and the rest of UCI as held out. Join rows of UCI weigh --uci-weight each (it has
many times the positives). The rows and the logistic fit are in storyfit.py.
Thresholds: the join threshold with the best mean pairwise F0.5 over the stories-real sets
(precision weighs double: a wrong join is an alert about the wrong event never sent) among
those keeping every set's alert recall >= 0.97 and UCI's pairwise F1 >= 0.82; then the
development threshold with the best mean development F0.5.
--check refits and fails (exit 1) when the result differs from the shipped file: the shipped
numbers are exactly what this script makes of the data.
Usage: python bench/fit_stories.py [--fit-on all|NAME] [--check | --dry-run]
The last line printed is JSON: the training figures of the chosen thresholds.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a plain script from a checkout
sys.path.insert(0, str(ROOT / "bench"))

import storydata  # noqa: E402
import storyfit  # noqa: E402

from bot.core.stories import (  # noqa: E402
    StoryIndex,
    StoryModels,
    StorySettings,
    decision,
    novelty,
)
from bot.core.stories.weights import Model, render  # noqa: E402
from bot.tools.cluster import parse_article  # noqa: E402

WEIGHTS = ROOT / "bot" / "core" / "stories" / "weights.json"
JOIN_GRID = (0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8)
DEVELOPMENT_GRID = (0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6)
NEUTRAL = Model((), 0.0, 0.5)  # reads no evidence: what the rows are gathered under


def replay(
    data: storydata.Labelled, models: StoryModels, settings: StorySettings | None = None
) -> tuple[dict[str, str], dict[str, str]]:
    """The index's verdicts at arrival: article id → story id, and → kind."""
    index, stories, kinds = StoryIndex(models, settings=settings), {}, {}
    for row in data.rows:
        verdict = index.assign(parse_article(json.dumps(row)))
        stories[verdict.article_id], kinds[verdict.article_id] = verdict.story_id, str(verdict.kind)
    return stories, kinds


def training_figures(
    data: storydata.Labelled, models: StoryModels, settings: StorySettings
) -> dict[str, float]:
    return storydata.score(data, *replay(data, models, settings), data.training())


def fit(
    real: list[storydata.Labelled], uci: storydata.Labelled, uci_weight: float, l2: float
) -> tuple[StoryModels, dict[str, object]]:
    """Both models and their thresholds, fitted on the training part of every set."""
    seed = StoryModels(NEUTRAL, NEUTRAL)  # teacher forcing places every article by its label
    join_rows: list[storyfit.Row] = []
    for data in real:
        join_rows += storyfit.teacher_rows(data, data.training(), 1.0, seed)[0]
    join_rows += storyfit.teacher_rows(uci, uci.training(), uci_weight, seed)[0]
    join = storyfit.fit_model(join_rows, decision.FEATURES, l2, 0.5)
    models = replace(seed, join=join)
    tau, join_figures = choose_join(real, uci, models, JOIN_GRID)
    models = replace(models, join=replace(join, threshold=tau))
    dev_rows = [r for d in real for r in storyfit.teacher_rows(d, d.training(), 1.0, models)[1]]
    development = storyfit.fit_model(dev_rows, novelty.FEATURES, l2, 0.5)
    models = replace(models, development=development)
    dev_tau, dev_figures = choose_development(real, models, DEVELOPMENT_GRID)
    models = replace(models, development=replace(development, threshold=dev_tau))
    return models, {"join": join_figures, "development": dev_figures, "rows": len(join_rows)}


def choose_join(
    real: list[storydata.Labelled],
    uci: storydata.Labelled,
    models: StoryModels,
    grid: Iterable[float],
) -> tuple[float, dict[str, float]]:
    """The threshold with the best mean pairwise F0.5 that keeps the recall floors."""
    best: tuple[tuple[int, float], float, dict[str, float]] | None = None
    for tau in grid:
        settings = StorySettings(join_threshold=tau)
        figures: dict[str, float] = {"tau": tau}
        scores = [training_figures(d, models, settings) for d in real]
        u = training_figures(uci, models, settings)
        for data, s in zip(real, scores, strict=True):
            figures.update({f"{data.name}_{k}": v for k, v in s.items()})
        figures.update({f"uci_{k}": v for k, v in u.items()})
        print(json.dumps(figures), file=sys.stderr)
        ok = all(s["alert_r"] >= 0.97 for s in scores) and u["pair_f1"] >= 0.82
        merit = (int(ok), sum(_f_half(s["pair_p"], s["pair_r"]) for s in scores) / len(scores))
        if best is None or merit > best[0]:
            best = (merit, tau, figures)
    assert best is not None
    return best[1], best[2]


def choose_development(
    real: list[storydata.Labelled], models: StoryModels, grid: Iterable[float]
) -> tuple[float, dict[str, float]]:
    """The development threshold with the best mean development F0.5."""
    best: tuple[float, float, dict[str, float]] | None = None
    for tau in grid:
        settings = StorySettings(development_threshold=tau)
        scores = [training_figures(d, models, settings) for d in real]
        merit = sum(_f_half(s["dev_p"], s["dev_r"]) for s in scores) / len(scores)
        figures: dict[str, float] = {"dev_tau": tau}
        for data, s in zip(real, scores, strict=True):
            figures.update({f"{data.name}_{k}": v for k, v in s.items() if k.startswith("dev_")})
        print(json.dumps(figures), file=sys.stderr)
        if best is None or merit > best[0]:
            best = (merit, tau, figures)
    assert best is not None
    return best[1], best[2]


def _f_half(p: float, r: float) -> float:
    """F-beta with beta 0.5: a wrong alert or update costs a reader more than a missed join."""
    return 1.25 * p * r / (0.25 * p + r) if p + r else 0.0


def training_sets(
    fit_on: str,
) -> tuple[list[storydata.Labelled], storydata.Labelled]:
    """The stories-real sets and UCI, cut for `fit_on` (all, or one stories-real set)."""
    uci = storydata.uci()
    if fit_on == "all":
        return [storydata.real(name) for name in storydata.REAL_SETS], storydata.everything(uci)
    return [storydata.real(fit_on)], uci


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uci-weight", type=float, default=0.1)
    parser.add_argument("--l2", type=float, default=1.0)
    parser.add_argument("--fit-on", choices=("all", *storydata.REAL_SETS), default="all")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="fail if a refit differs")
    mode.add_argument("--dry-run", action="store_true", help="print, do not write")
    args = parser.parse_args(argv)
    if not storydata.available():
        print(f"no labelled data under {storydata.SHARED}", file=sys.stderr)
        return 2
    models, figures = fit(*training_sets(args.fit_on), args.uci_weight, args.l2)
    text = render(models)
    if args.check:
        same = text == WEIGHTS.read_text(encoding="utf-8")
        print(json.dumps({"check": "same" if same else "differs", **figures}))
        return 0 if same else 1
    if not args.dry_run:
        WEIGHTS.write_text(text, encoding="utf-8")
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
