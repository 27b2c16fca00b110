"""Labelled story data for the bench scripts: the stories-real sets and UCI, splits, scores.

Scores are those of each set's `score.py` (pairwise, alert and development precision and
recall, and what a reader sees: alerts per multi-report story, the share of such stories with
exactly one alert, duplicate alerts among all alerts, stories with no alert of their own),
computed over a subset of the articles so a held-out part can be scored alone.
"""

from __future__ import annotations

import csv
import json
from collections import Counter, defaultdict
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
REAL_SETS = ("stories-real", "stories-real-2")  # two 51-hour windows of the same outlets
UCI_CSV = SHARED / "uci-news-subset" / "headlines.csv"
TRAIN_HOURS = 24  # UCI's first day is for fitting when it is held out; the rest is scored


@dataclass(frozen=True, slots=True)
class Labelled:
    """One data set: JSON-lines rows in time order, gold stories and follow-up labels."""

    name: str
    rows: list[dict[str, str]]
    gold: dict[str, str]
    kinds: dict[str, str]  # article id → new / repeat / development (where labelled)
    cut: datetime  # rows published before this are the training part

    def published(self, row: dict[str, str]) -> datetime:
        return datetime.fromisoformat(row["published"].replace("Z", "+00:00"))

    def held_out(self) -> set[str]:
        return {r["id"] for r in self.rows if self.published(r) >= self.cut}

    def training(self) -> set[str]:
        return {r["id"] for r in self.rows if self.published(r) < self.cut}

    def ids(self) -> set[str]:
        return {r["id"] for r in self.rows}


def available() -> bool:
    """True when every labelled set is on disk (../shared/data beside the checkout)."""
    return UCI_CSV.exists() and all((SHARED / name).is_dir() for name in REAL_SETS)


def real(name: str) -> Labelled:
    """One stories-real set (../shared/data/NAME) with its labels, every article for fitting."""
    path = SHARED / name
    rows = _jsonl(path / "articles.jsonl")
    gold = {d["id"]: d["story"] for d in _jsonl(path / "stories.jsonl")}
    kinds = {d["id"]: d["label"] for d in _jsonl(path / "developments.jsonl")}
    return everything(Labelled(name, rows, gold, kinds, _cut(rows)))


def uci(path: Path = UCI_CSV) -> Labelled:
    """The UCI headlines (title only, publisher as outlet) in crawl-time order."""
    with path.open(newline="", encoding="utf-8") as fh:
        raw = sorted(csv.DictReader(fh), key=lambda r: (int(r["TIMESTAMP"]), int(r["ID"])))
    rows = [
        {
            "id": r["ID"],
            "title": r["TITLE"],
            "text": "",
            "url": r["URL"],
            "source": r["PUBLISHER"],
            "published": datetime.fromtimestamp(int(r["TIMESTAMP"]) / 1000, UTC).isoformat(),
        }
        for r in raw
    ]
    return Labelled("uci", rows, {r["ID"]: r["STORY"] for r in raw}, {}, _cut(rows))


def everything(data: Labelled) -> Labelled:
    """The same set with every article on the training side (the cut after the last one)."""
    last = max(data.published(r) for r in data.rows)
    return replace(data, cut=last + timedelta(seconds=1))


def _jsonl(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _cut(rows: list[dict[str, str]]) -> datetime:
    first = datetime.fromisoformat(rows[0]["published"].replace("Z", "+00:00"))
    return first + timedelta(hours=TRAIN_HOURS)


def _pairs(n: int) -> int:
    return n * (n - 1) // 2


def score(
    data: Labelled, stories: dict[str, str], kinds: dict[str, str], ids: set[str]
) -> dict[str, float]:
    """Pairwise, alert, development and reader figures over the articles `ids`."""
    gold = [data.gold[i] for i in ids]
    predicted = [stories.get(i, "_" + i) for i in ids]
    cells = Counter(zip(predicted, gold, strict=True))
    tp = sum(_pairs(n) for n in cells.values())
    npred = sum(_pairs(n) for n in Counter(predicted).values())
    ngold = sum(_pairs(n) for n in Counter(gold).values())
    out = _prf("pair", tp, npred, ngold)
    out["pairs_predicted"], out["pairs_gold"] = npred, ngold
    for kind, key in (("new", "alert"), ("development", "dev")):
        if kind == "new":
            g = _first_of_each_story(data, ids)
        else:
            g = {i for i in ids if data.kinds.get(i) == kind}
        p = {i for i in ids if kinds.get(i, "new") == kind}
        out.update(_prf(key, len(g & p), len(p), len(g)))
    out.update(reader(data, kinds, ids))
    return out


def reader(data: Labelled, kinds: dict[str, str], ids: set[str]) -> dict[str, float]:
    """What a reader sees, as score.py defines it, over the gold stories among `ids`."""
    members: defaultdict[str, int] = defaultdict(int)
    alerts: defaultdict[str, int] = defaultdict(int)
    for i in ids:
        members[data.gold[i]] += 1
        alerts[data.gold[i]] += kinds.get(i, "new") == "new"
    multi = [s for s, n in members.items() if n > 1]
    alerted = [alerts[s] for s in multi if alerts[s] > 0]
    total = sum(alerts.values())
    duplicates = sum(max(a - 1, 0) for a in alerts.values())
    return {
        "alerts_per_story": round(sum(alerted) / len(alerted), 3) if alerted else 0.0,
        "one_alert_share": round(sum(alerts[s] == 1 for s in multi) / len(multi), 4)
        if multi
        else 1.0,
        "dup_alert_share": round(duplicates / total, 4) if total else 0.0,
        "duplicate_alerts": duplicates,
        "stories_without_alert": sum(1 for s in members if alerts[s] == 0),
    }


def _first_of_each_story(data: Labelled, ids: set[str]) -> set[str]:
    seen: set[str] = set()
    first = set()
    for row in data.rows:
        story = data.gold[row["id"]]
        if story not in seen:
            seen.add(story)
            if row["id"] in ids:
                first.add(row["id"])
    return first


def _prf(key: str, tp: int, npred: int, ngold: int) -> dict[str, float]:
    p = tp / npred if npred else 1.0
    r = tp / ngold if ngold else 1.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {f"{key}_p": round(p, 4), f"{key}_r": round(r, 4), f"{key}_f1": round(f, 4)}
