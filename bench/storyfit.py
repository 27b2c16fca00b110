"""Fitting the story models: gold-fed replays give the rows, Newton's method fits the logistic.

Join rows: for every article, each candidate story the index proposes is a row (its named
evidence) labelled 1 when it is the article's gold story. The index is fed the gold stories
as it goes (teacher forcing), so the evidence is what the bot would see had it decided right
so far. Only each article's strongest candidates are kept: the rest are easy and would drown
the rest. Development rows: every labelled follow-up joined to its gold story, read with the
join model just fitted (its probability is one of the development model's inputs).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence

import storydata

from bot.core.stories import Considered, StoryIndex, StoryModels, decision, novelty
from bot.core.stories.weights import Model, Term
from bot.tools.cluster import parse_article

KEEP = 6  # strongest candidate stories kept per article
Row = tuple[list[float], int, float]  # (values in FEATURES order, label, sample weight)
# UCI's timestamps are crawl times, written story by story, so neighbours in time are one
# story there by construction: its rows are blind to the general timing features.
CRAWL_TIME = ("log_hours", "log_idle")


def teacher_rows(
    data: storydata.Labelled, ids: set[str], weight: float, models: StoryModels
) -> tuple[list[Row], list[Row]]:
    """Join and development rows of the articles in `ids`, from a gold-fed replay."""
    index, joins, devs = StoryIndex(models), [], []
    anchor: dict[str, str] = {}  # gold story → the index story holding it
    blind = CRAWL_TIME if not data.kinds else ()
    for row in data.rows:
        considered = index.consider(parse_article(json.dumps(row)))
        article_id = considered.article.id
        target = anchor.get(data.gold[article_id])
        story = index.story(target or "")
        if article_id in ids:
            joins += _strongest(considered, story.id if story else None, weight, blind)
            kind = data.kinds.get(article_id)
            if story is not None and kind in ("development", "repeat"):
                values = index.development_evidence(considered, story)
                devs.append((columns(values, novelty.FEATURES), int(kind == "development"), 1.0))
        placed = index.settle(considered, story.id if story else None)
        anchor[data.gold[article_id]] = placed.story_id
    return joins, devs


def _strongest(
    considered: Considered, right: str | None, weight: float, blind: Sequence[str]
) -> list[Row]:
    """The article's KEEP strongest candidates, labelled 1 when their story is `right`."""
    cands = sorted(considered.candidates, key=lambda c: c.links[0].strength, reverse=True)
    return [
        (columns(c.evidence, decision.FEATURES, blind), int(c.story.id == right), weight)
        for c in cands[:KEEP]
    ]


def columns(
    values: dict[str, float], names: Sequence[str], blind: Sequence[str] = ()
) -> list[float]:
    """Named values in the order of `names`; a blind feature is NaN (it teaches nothing)."""
    return [math.nan if name in blind else values[name] for name in names]


def fit_model(rows: list[Row], names: Sequence[str], l2: float, threshold: float) -> Model:
    """A standardised L2 logistic regression over `rows`, as a named model."""
    mean, scale, coef, intercept = fit_logistic(rows, l2)
    terms = tuple(Term(*t) for t in zip(names, mean, scale, coef, strict=True))
    return Model(terms, intercept, threshold)


def fit_logistic(
    rows: list[Row], l2: float = 1.0, iterations: int = 25
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
        step = _newton_step(data, beta, l2)
        beta = [b - s for b, s in zip(beta, step, strict=True)]
        if max(abs(s) for s in step) < 1e-6:
            break
    return mean, scale, beta[1:], beta[0]


def _newton_step(
    data: list[tuple[list[float], int, float]], beta: list[float], l2: float
) -> list[float]:
    n = len(beta)
    grad = [0.0] * n
    hess = [[0.0] * n for _ in range(n)]
    for z, y, w in data:
        logit = sum(b * v for b, v in zip(beta, z, strict=True))
        p = 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, logit))))
        g, h = w * (p - y), w * p * (1.0 - p)
        for i, zi in enumerate(z):
            grad[i] += g * zi
            row, hz = hess[i], h * zi
            for j in range(i, n):
                row[j] += hz * z[j]
    for i in range(1, n):
        grad[i] += l2 * beta[i]
        hess[i][i] += l2
    for i in range(n):
        for j in range(i):
            hess[i][j] = hess[j][i]
    return _solve(hess, grad)


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
