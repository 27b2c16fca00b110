"""Fit the story models on the first day of stories-real and UCI; write bot/core/stories/weights.py.

Join model: for every article, each candidate story the index proposes is a row (its
`decision.vector`) labelled 1 when it is the article's gold story. The index is fed the gold
stories as it goes (teacher forcing), so the evidence is what the bot would see had it decided
right so far. Only each article's strongest candidates are kept: the rest are easy and would
drown the rest. UCI rows weigh --uci-weight each (it has 30 times the positives).
With --semantic (the [semantic] extra installed) JOIN_SEMANTIC is fitted on the candidates the
join model finds ambiguous, with the sentence-vector similarity as one more input.
Development model: every labelled follow-up of the training day (development vs repeat).
Thresholds: the join threshold with the best stories-real pairwise F0.5 (precision weighs
double: a wrong join is an alert about the wrong event) among those keeping alert recall
>= 0.97 and UCI pairwise F1 >= 0.82; the development threshold with the best development F0.5.
UCI's general timing features are blind in fitting (see `_real_time_only`).
--fit-on all (the default, what ships) fits on every label; --fit-on first-day fits on the
first day of each set only, so bench/stories_real.py can score the rest as held-out.
Usage: python bench/fit_stories.py [--fit-on all|first-day] [--semantic] [--dry-run]
The last line printed is JSON: the training-day figures of the chosen thresholds.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a plain script from a checkout
sys.path.insert(0, str(ROOT / "bench"))

import storydata  # noqa: E402

from bot.core.stories import (  # noqa: E402  # noqa: E402
    Considered,
    MatchSettings,
    StoryIndex,
    decision,
    novelty,
    semantic,
    weights,
)
from bot.core.stories.semantic import Encoder  # noqa: E402
from bot.tools.cluster import parse_article  # noqa: E402

WEIGHTS = ROOT / "bot" / "core" / "stories" / "weights.py"
KEEP = 6  # strongest candidate stories kept per article
Rows = list[tuple[list[float], int, float]]  # (vector, label, sample weight)


def teacher_rows(
    data: storydata.Labelled, ids: set[str], weight: float, encoder: Encoder | None = None
) -> tuple[Rows, Rows, Rows]:
    """Join, development and (with an encoder) semantic rows from a gold-fed replay, for the
    articles in `ids`. Semantic rows are the ambiguous candidates, where that model is used."""
    index, joins, devs, sem = StoryIndex(encoder=encoder), [], [], []
    anchor: dict[str, str] = {}  # gold story → the index story holding it
    for row in data.rows:
        article = parse_article(json.dumps(row))
        considered = index.consider(article)
        gold = data.gold[article.id]
        target = anchor.get(gold)
        if index.story(target or "") is None:
            target = None
        if article.id in ids:
            joins += _strongest(considered, {target} if target else set(), weight)
            sem += _ambiguous(considered, target, weight)
            kind = data.kinds.get(article.id)
            if target and kind in ("development", "repeat"):
                story = index.story(target)
                assert story is not None
                devs.append(
                    (index.development_vector(considered, story), int(kind == "development"), 1.0)
                )
        placed = index.settle(considered, target)
        anchor[gold] = placed.story_id
    return joins, devs, sem


def _ambiguous(considered: Considered, target: str | None, weight: float) -> Rows:
    mine = considered.sentence_vector
    if mine is None:
        return []
    low, high = semantic.AMBIGUOUS
    return [
        (
            [*c.vector, semantic.closest(mine, (x.member.vector for x in c.links[:3]))],
            int(c.story.id == target),
            weight,
        )
        for c in considered.candidates
        if low <= c.probability <= high
    ]


def _real_time_only(rows: Rows) -> Rows:
    """UCI rows with the general timing features blind (NaN). Its timestamps are crawl times,
    written story by story, so neighbours in time are one story there by construction; what it
    may teach about timing is confined to the headline-only interaction, where it belongs."""
    return [
        ([math.nan if j in _CRAWL_TIME else x for j, x in enumerate(v)], y, w) for v, y, w in rows
    ]


_CRAWL_TIME = (decision.FEATURES.index("log_hours"), decision.FEATURES.index("log_idle"))


def _strongest(considered: Considered, right: set[str], weight: float) -> Rows:
    """The article's KEEP strongest candidates, labelled 1 when their story is in `right`."""
    cands = sorted(considered.candidates, key=lambda c: c.links[0].strength, reverse=True)
    return [(list(c.vector), int(c.story.id in right), weight) for c in cands[:KEEP]]


def fit_logistic(
    rows: Rows, l2: float = 1.0, iterations: int = 25, blind: set[int] | None = None
) -> tuple[list[float], list[float], list[float], float]:
    """Standardised L2 logistic regression by Newton's method: (mean, scale, coef, intercept).
    A feature given as NaN (a row blind to it) enters as its mean, so it teaches nothing."""
    d = len(rows[0][0])
    known = [[(x, w) for x, _, w in rows if not math.isnan(x[j])] for j in range(d)]
    mean = [sum(x[j] * w for x, w in known[j]) / sum(w for _, w in known[j]) for j in range(d)]
    scale = [
        math.sqrt(sum(w * (x[j] - mean[j]) ** 2 for x, w in known[j]) / sum(w for _, w in known[j]))
        or 1.0
        for j in range(d)
    ]
    data = [
        ([1.0] + [0.0 if math.isnan(x[j]) else (x[j] - mean[j]) / scale[j] for j in range(d)], y, w)
        for x, y, w in rows
    ]
    beta = [0.0] * (d + 1)
    for _ in range(iterations):
        grad = [0.0] * (d + 1)
        hess = [[0.0] * (d + 1) for _ in range(d + 1)]
        for z, y, w in data:
            logit = sum(b * v for b, v in zip(beta, z, strict=True))
            p = 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, logit))))
            g, h = w * (p - y), w * p * (1.0 - p)
            for i, zi in enumerate(z):
                grad[i] += g * zi
                row = hess[i]
                hz = h * zi
                for j in range(i, d + 1):
                    row[j] += hz * z[j]
        for i in range(1, d + 1):
            grad[i] += l2 * beta[i]
            hess[i][i] += l2
        for i in range(d + 1):
            for j in range(i):
                hess[i][j] = hess[j][i]
        step = _solve(hess, grad)
        beta = [b - s for b, s in zip(beta, step, strict=True)]
        if max(abs(s) for s in step) < 1e-6:
            break
    return mean, scale, beta[1:], beta[0]


def _solve(a: list[list[float]], b: list[float]) -> list[float]:
    """Gaussian elimination with partial pivoting (the Hessian is small and well posed)."""
    n = len(b)
    m = [[*row, b[i]] for i, row in enumerate(a)]
    for c in range(n):
        p = max(range(c, n), key=lambda r: abs(m[r][c]))
        m[c], m[p] = m[p], m[c]
        for r in range(c + 1, n):
            f = m[r][c] / m[c][c]
            for k in range(c, n + 1):
                m[r][k] -= f * m[c][k]
    x = [0.0] * n
    for r in range(n - 1, -1, -1):
        x[r] = (m[r][n] - sum(m[r][k] * x[k] for k in range(r + 1, n))) / m[r][r]
    return x


def replay(
    data: storydata.Labelled, settings: MatchSettings, encoder: Encoder | None = None
) -> tuple[dict[str, str], dict[str, str]]:
    """The index's verdicts at arrival: article id → story id, and → kind."""
    index, stories, kinds = StoryIndex(settings=settings, encoder=encoder), {}, {}
    for row in data.rows:
        verdict = index.assign(parse_article(json.dumps(row)))
        stories[verdict.article_id], kinds[verdict.article_id] = verdict.story_id, str(verdict.kind)
    return stories, kinds


def choose_join(
    sr: storydata.Labelled, uci: storydata.Labelled, grid: Iterable[float]
) -> tuple[float, dict[str, float]]:
    """The threshold with the best training-day F1 that keeps the precision floors."""
    best: tuple[float, float, dict[str, float]] | None = None
    for tau in grid:
        s = storydata.score(sr, *replay(sr, MatchSettings(join_threshold=tau)), sr.training())
        u = storydata.score(uci, *replay(uci, MatchSettings(join_threshold=tau)), uci.training())
        figures = {
            "tau": tau,
            **{f"sr_{k}": v for k, v in s.items()},
            **{f"uci_{k}": v for k, v in u.items()},
        }
        print(json.dumps(figures), file=sys.stderr)
        ok = s["alert_r"] >= 0.97 and u["pair_f1"] >= 0.82
        merit = (1 if ok else 0, _f_half(s["pair_p"], s["pair_r"]))
        if best is None or merit > best[:2]:
            best = (*merit, figures)  # type: ignore[assignment]
    assert best is not None
    return best[2]["tau"], best[2]


def _f_half(p: float, r: float) -> float:
    """F-beta with beta 0.5: a wrong alert or update costs a reader more than a missed join."""
    return 1.25 * p * r / (0.25 * p + r) if p + r else 0.0


def choose_development(
    sr: storydata.Labelled, grid: Iterable[float]
) -> tuple[float, dict[str, float]]:
    best: tuple[int, float, float, dict[str, float]] | None = None
    for tau in grid:
        s = storydata.score(
            sr, *replay(sr, MatchSettings(development_threshold=tau)), sr.training()
        )
        merit = (1, _f_half(s["dev_p"], s["dev_r"]))
        print(json.dumps({"dev_tau": tau, **s}), file=sys.stderr)
        if best is None or merit > best[:2]:
            best = (*merit, tau, s)
    assert best is not None
    return best[2], best[3]


def render(models: dict[str, weights.Model], join_semantic: weights.Model | None) -> str:
    """weights.py with `models`, laid out as ruff formats it (one value a line)."""

    def column(values: Iterable[object]) -> str:
        return "(\n" + "".join(f"        {v},\n" for v in values) + "    )"

    def model(name: str, m: weights.Model) -> str:
        numbers = {k: column(f"{x:.6g}" for x in getattr(m, k)) for k in ("mean", "scale", "coef")}
        names = column(json.dumps(f) for f in m.features)  # double quotes, as ruff writes them
        return (
            f"{name} = Model(\n    features={names},\n"
            f"    mean={numbers['mean']},\n    scale={numbers['scale']},\n"
            f"    coef={numbers['coef']},\n    intercept={m.intercept:.6g},\n"
            f"    threshold={m.threshold:.6g},\n)\n"
        )

    source = WEIGHTS.read_text(encoding="utf-8")
    marker = "# Fitted" if "# Fitted" in source else "# Placeholder"
    head = source[: source.index(marker)]
    body = "\n\n".join(model(name, m) for name, m in models.items())
    body += "\n\n# Fitted with the [semantic] extra installed (--semantic); None until then.\n"
    body += model("JOIN_SEMANTIC", join_semantic) if join_semantic else "JOIN_SEMANTIC = None\n"
    note = "# Fitted by bench/fit_stories.py (see its docstring for the data and split).\n"
    return f"{head}{note}{body}"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uci-weight", type=float, default=0.1)
    parser.add_argument("--l2", type=float, default=1.0)
    parser.add_argument("--fit-on", choices=("all", "first-day"), default="all")
    parser.add_argument("--semantic", action="store_true", help="also fit JOIN_SEMANTIC")
    parser.add_argument("--dry-run", action="store_true", help="print, do not write weights.py")
    args = parser.parse_args(argv)
    if not storydata.STORIES_REAL.exists() or not storydata.UCI_CSV.exists():
        print(f"no labelled data under {storydata.SHARED}", file=sys.stderr)
        return 2
    encoder = _encoder() if args.semantic else None
    sr, uci = storydata.stories_real(), storydata.uci()
    if args.fit_on == "all":  # what ships: every label; held-out figures come from first-day
        sr, uci = storydata.everything(sr), storydata.everything(uci)
    figures = fit(sr, uci, args.uci_weight, args.l2)
    if encoder is not None:
        figures["semantic"] = fit_semantic(sr, uci, args.uci_weight, args.l2, encoder)
    if not args.dry_run:
        models = {"JOIN": weights.JOIN, "DEVELOPMENT": weights.DEVELOPMENT}
        WEIGHTS.write_text(render(models, weights.JOIN_SEMANTIC), encoding="utf-8")
    print(json.dumps(figures))
    return 0


def fit(
    sr: storydata.Labelled, uci: storydata.Labelled, uci_weight: float, l2: float
) -> dict[str, object]:
    """Fit the join and development models and their thresholds (into `weights`)."""
    join_rows, dev_rows, _ = teacher_rows(sr, sr.training(), 1.0)
    join_rows += _real_time_only(teacher_rows(uci, uci.training(), uci_weight)[0])
    mean, scale, coef, b = fit_logistic(join_rows, l2)
    weights.JOIN = weights.Model(decision.FEATURES, tuple(mean), tuple(scale), tuple(coef), b, 0.5)
    tau, join_figures = choose_join(sr, uci, [0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9])
    weights.JOIN = replace(weights.JOIN, threshold=tau)
    mean, scale, coef, b = fit_logistic(dev_rows, l2)
    weights.DEVELOPMENT = weights.Model(
        novelty.FEATURES, tuple(mean), tuple(scale), tuple(coef), b, 0.5
    )
    dev_tau, dev_figures = choose_development(sr, [0.2, 0.25, 0.3, 0.35, 0.4, 0.5, 0.6])
    weights.DEVELOPMENT = replace(weights.DEVELOPMENT, threshold=dev_tau)
    return {"join": join_figures, "development": dev_figures, "rows": len(join_rows)}


def fit_semantic(
    sr: storydata.Labelled, uci: storydata.Labelled, uci_weight: float, l2: float, encoder: Encoder
) -> dict[str, float]:
    """Fit JOIN_SEMANTIC on the ambiguous candidates, scored with the join threshold."""
    rows = teacher_rows(sr, sr.training(), 1.0, encoder)[2]
    rows += _real_time_only(teacher_rows(uci, uci.training(), uci_weight, encoder)[2])
    mean, scale, coef, b = fit_logistic(rows, l2)
    names = (*decision.FEATURES, "semantic")
    weights.JOIN_SEMANTIC = weights.Model(
        names, tuple(mean), tuple(scale), tuple(coef), b, weights.JOIN.threshold
    )
    settings = MatchSettings()
    s = storydata.score(sr, *replay(sr, settings, encoder), sr.training())
    u = storydata.score(uci, *replay(uci, settings, encoder), uci.training())
    return {
        "rows": len(rows),
        **{f"sr_{k}": v for k, v in s.items()},
        **{f"uci_{k}": v for k, v in u.items()},
    }


def _encoder() -> Encoder:
    from bot.semantic import load  # the adapter: only with the extra installed

    return load()


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
