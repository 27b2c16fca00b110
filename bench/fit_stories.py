"""Fit the story models on the first day of stories-real and UCI; write bot/core/stories/weights.py.

Join model: for every article, each candidate story the index proposes is a row (its
`decision.vector`) labelled 1 when it is the article's gold story. The index is fed the gold
stories as it goes (teacher forcing), so the evidence is what the bot would see had it decided
right so far; a second round adds rows from the model's own decisions (what it really sees).
Only each article's strongest candidates are kept: the rest are easy and would drown the rest.
Development model: every labelled follow-up of the training day (development vs repeat).
Thresholds: the join threshold with the best stories-real pairwise F0.5 (precision weighs
double: a wrong join is an alert about the wrong event) among those keeping alert recall
>= 0.97 and UCI precision >= 0.92; the development threshold with the best development F0.5.
Usage: python bench/fit_stories.py [--rounds N] [--uci-weight W] [--dry-run]
The last line printed is JSON: the training-day figures of the chosen thresholds.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections import Counter
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a plain script from a checkout
sys.path.insert(0, str(ROOT / "bench"))

import storydata  # noqa: E402

from bot.core.stories import Considered, MatchSettings, StoryIndex, decision, novelty, weights  # noqa: E402  # noqa: E402
from bot.tools.cluster import parse_article  # noqa: E402

WEIGHTS = ROOT / "bot" / "core" / "stories" / "weights.py"
KEEP = 6  # strongest candidate stories kept per article
Rows = list[tuple[list[float], int, float]]  # (vector, label, sample weight)
# UCI's timestamps are crawl times, written story by story: neighbours in time are the same
# story there by construction, which real feeds never promise. Its rows say nothing about time.
_TIME = tuple(
    decision.FEATURES.index(name) for name in ("log_hours", "log_idle", "headline_only_hours")
)


def teacher_rows(data: storydata.Labelled, ids: set[str], weight: float) -> tuple[Rows, Rows]:
    """Join and development rows from a gold-fed replay, for articles in `ids`."""
    index, joins, devs = StoryIndex(), [], []
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
            kind = data.kinds.get(article.id)
            if target and kind in ("development", "repeat"):
                story = index.story(target)
                assert story is not None
                devs.append(
                    (index.development_vector(considered, story), int(kind == "development"), 1.0)
                )
        placed = index.settle(considered, target)
        anchor[gold] = placed.story_id
    return joins, devs


def own_rows(data: storydata.Labelled, ids: set[str], weight: float) -> Rows:
    """Join rows from the current model's own replay: a candidate is right when most of its
    articles share the article's gold story."""
    index, rows = StoryIndex(), []
    members: dict[str, list[str]] = {}
    for row in data.rows:
        article = parse_article(json.dumps(row))
        considered = index.consider(article)
        gold = data.gold[article.id]
        if article.id in ids:
            right = {sid for sid, ids_ in members.items() if _majority(data, ids_) == gold}
            rows += _strongest(considered, right, weight)
        best = max(considered.candidates, key=lambda c: c.probability, default=None)
        chosen = best.story.id if best and best.probability >= weights.JOIN.threshold else None
        placed = index.settle(considered, chosen)
        members.setdefault(placed.story_id, []).append(article.id)
    return rows


def _time_blind(rows: Rows) -> Rows:
    return [([math.nan if j in _TIME else x for j, x in enumerate(v)], y, w) for v, y, w in rows]


def _majority(data: storydata.Labelled, ids: list[str]) -> str:
    return Counter(data.gold[i] for i in ids).most_common(1)[0][0]


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
    data: storydata.Labelled, settings: MatchSettings
) -> tuple[dict[str, str], dict[str, str]]:
    """The index's verdicts at arrival: article id → story id, and → kind."""
    index, stories, kinds = StoryIndex(settings=settings), {}, {}
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
        ok = s["alert_r"] >= 0.97 and u["pair_p"] >= 0.92
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


def render(models: dict[str, weights.Model]) -> str:
    """weights.py with `models`, laid out as ruff formats it (one value a line)."""

    def column(values: Iterable[object]) -> str:
        return "(\n" + "".join(f"        {v},\n" for v in values) + "    )"

    def model(name: str, m: weights.Model) -> str:
        numbers = {k: column(f"{x:.6g}" for x in getattr(m, k)) for k in ("mean", "scale", "coef")}
        return (
            f"{name} = Model(\n    features={column(repr(f) for f in m.features)},\n"
            f"    mean={numbers['mean']},\n    scale={numbers['scale']},\n"
            f"    coef={numbers['coef']},\n    intercept={m.intercept:.6g},\n"
            f"    threshold={m.threshold:.6g},\n)\n"
        )

    source = WEIGHTS.read_text(encoding="utf-8")
    marker = "# Fitted" if "# Fitted" in source else "# Placeholder"
    head = source[: source.index(marker)]
    body = "\n\n".join(model(name, m) for name, m in models.items())
    note = "# Fitted by bench/fit_stories.py (see its docstring for the data and split).\n"
    return f"{head}{note}{body}"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--uci-weight", type=float, default=0.1)
    parser.add_argument("--l2", type=float, default=1.0)
    parser.add_argument("--uci-time-blind", action="store_true", help="UCI rows teach no timing")
    parser.add_argument("--fit-on", choices=("all", "first-day"), default="all")
    parser.add_argument("--dry-run", action="store_true", help="print, do not write weights.py")
    args = parser.parse_args(argv)
    if not storydata.STORIES_REAL.exists() or not storydata.UCI_CSV.exists():
        print(f"no labelled data under {storydata.SHARED}", file=sys.stderr)
        return 2
    sr, uci = storydata.stories_real(), storydata.uci()
    if args.fit_on == "all":  # what ships: every label; held-out figures come from first-day
        sr, uci = storydata.everything(sr), storydata.everything(uci)
    blind = _time_blind if args.uci_time_blind else (lambda rows: rows)
    join_rows, dev_rows = teacher_rows(sr, sr.training(), 1.0)
    join_rows += blind(teacher_rows(uci, uci.training(), args.uci_weight)[0])
    for round_ in range(args.rounds):
        mean, scale, coef, b = fit_logistic(join_rows, args.l2)
        weights.JOIN = weights.Model(
            decision.FEATURES, tuple(mean), tuple(scale), tuple(coef), b, weights.JOIN.threshold
        )
        tau, join_figures = choose_join(sr, uci, [0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9])
        weights.JOIN = replace(weights.JOIN, threshold=tau)
        if round_ + 1 < args.rounds:
            join_rows += own_rows(sr, sr.training(), 1.0)
            join_rows += blind(own_rows(uci, uci.training(), args.uci_weight))
    mean, scale, coef, b = fit_logistic(dev_rows, args.l2)
    weights.DEVELOPMENT = weights.Model(
        novelty.FEATURES, tuple(mean), tuple(scale), tuple(coef), b, 0.5
    )
    dev_tau, dev_figures = choose_development(sr, [0.2, 0.3, 0.4, 0.5, 0.6, 0.7])
    weights.DEVELOPMENT = replace(weights.DEVELOPMENT, threshold=dev_tau)
    if not args.dry_run:
        WEIGHTS.write_text(
            render({"JOIN": weights.JOIN, "DEVELOPMENT": weights.DEVELOPMENT}), encoding="utf-8"
        )
    print(json.dumps({"join": join_figures, "development": dev_figures, "rows": len(join_rows)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
