"""Story assignment latency and index memory at 1k/10k/100k articles in the window, JSON line last.

Synthetic but news-shaped stream (deterministic seed): stories with their own names, designators
and topic words, told by 1-8 outlets each, headline plus two short sentences. For each size the
StoryIndex is filled with N articles inside one window (memory traced with tracemalloc while
filling, so only what the index keeps counts), then the next 500 assignments are timed. Beside it
a brute-force all-pairs TF-IDF matcher (cosine against every article in the window) is timed on
a sample of assignments: 500 at 1k, 50 at 10k and 20 at 100k.
Usage: python bench/cluster.py [--sizes 1000,10000,100000]
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import random
import statistics
import sys
import time
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a plain script from a checkout

from bot.core.models import Article  # noqa: E402
from bot.core.stories import StoryIndex  # noqa: E402
from bot.core.stories.terms import terms  # noqa: E402
from bot.story_models import load_models  # noqa: E402

START = datetime(2026, 1, 5, tzinfo=UTC)
WINDOW = timedelta(hours=72)
TIMED = 500
SYLLABLES = ("ka", "lo", "mi", "ra", "te", "su", "no", "vi", "da", "pe", "zo", "ru")
SYLLABLES += ("ha", "li", "mo", "ne", "ta", "si", "gu", "be", "fa", "ko", "ri", "ve")
VERBS = ("warns", "plans", "rejects", "approves", "delays", "wins", "loses", "signs", "cuts")


def _word(rng: random.Random, parts: int) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(parts))


def _story_article(rng: random.Random, vocabulary: list[str], story: list[str]) -> tuple[str, str]:
    """Headline and two sentences for one outlet's take on a story (3 names, code, topic)."""
    names, code, topic = story[:3], story[3], story[4:]
    words = [*rng.sample(names, 2), rng.choice(VERBS), *rng.sample(topic, 2)]
    title = " ".join([*words[:3], code, *words[3:], *rng.sample(vocabulary, 3)])
    day = rng.choice(["Monday", "Friday"])
    filler = " ".join(rng.sample(vocabulary, 4))
    text = (
        f"{names[0]} said on {day} that the {topic[0]} {topic[1]} would cost "
        f"{rng.randint(2, 900)} million. Officials in {names[2]} {rng.choice(VERBS)} the {filler}."
    )
    return title, text


def articles(seed: int) -> Iterator[tuple[Article, int]]:
    """An endless, reproducible stream of (article, story number), one story at a time."""
    rng = random.Random(seed)
    vocabulary = [_word(rng, 3) for _ in range(20000)]
    outlets = [f"{_word(rng, 2).title()} {rng.choice(['Times', 'Post'])}" for _ in range(300)]
    number = story = 0
    while True:
        names = [_word(rng, 3).title() for _ in range(3)]
        code = f"{rng.choice('ABFKST')}-{rng.randint(10, 999)}"
        story_words = [*names, code, *rng.sample(vocabulary[:4000], 4)]
        for _ in range(rng.randint(1, 8)):
            title, text = _story_article(rng, vocabulary, story_words)
            outlet = rng.choice(outlets)
            url = f"https://{outlet.split()[0].lower()}.example/{number}"
            yield Article(str(number), 1, url, title, text, START, outlet), story
            number += 1
        story += 1


def _at(article: Article, n: int, size: int) -> Article:
    """The article re-dated so that `size` articles fill 90% of one window."""
    step = WINDOW * 0.9 / size
    return Article(
        article.id,
        article.feed_id,
        article.url,
        article.title,
        article.text,
        START + step * n,
        article.source,
    )


def _percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, math.ceil(0.99 * len(ordered)) - 1)]
    return {"p50_ms": round(statistics.median(ordered) * 1000, 3), "p99_ms": round(p99 * 1000, 3)}


def measure_index(size: int) -> dict[str, float]:
    """Fill a StoryIndex with `size` articles (memory traced), then time the next ones."""
    stream = articles(seed=size)
    first = next(stream)[0]  # builds the generator's vocabulary before tracing starts
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    index = StoryIndex(load_models(), WINDOW)
    index.assign(_at(first, 0, size))
    for n in range(1, size):
        index.assign(_at(next(stream)[0], n, size))
    kept = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    in_window = len(index)
    samples = []
    for n in range(size, size + TIMED):
        article = _at(next(stream)[0], n, size)
        begin = time.perf_counter()
        index.assign(article)
        samples.append(time.perf_counter() - begin)
    return {
        **_percentiles(samples),
        "bytes_per_article": round(kept / in_window),
        "articles_in_window": in_window,
    }


class BruteForce:
    """All-pairs TF-IDF: each new article is compared with every article in the window."""

    def __init__(self) -> None:
        self.vectors: list[tuple[dict[str, float], int]] = []
        self.df: dict[str, int] = {}

    def vector(self, article: Article) -> dict[str, float]:
        bag = terms(f"{article.title} {article.text}")
        for term in bag:
            self.df[term] = self.df.get(term, 0) + 1
        n = len(self.vectors) + 1
        weights = {t: math.log(n / self.df[t]) + 1.0 for t in bag}
        norm = math.sqrt(sum(w * w for w in weights.values())) or 1.0
        return {t: w / norm for t, w in weights.items()}

    def assign(self, article: Article, story: int) -> int:
        vec = self.vector(article)
        best, best_story = 0.3, -1
        for other, other_story in self.vectors:
            score = sum(w * other.get(t, 0.0) for t, w in vec.items())
            if score > best:
                best, best_story = score, other_story
        self.vectors.append((vec, story))
        return best_story


def measure_brute_force(size: int) -> dict[str, float]:
    """Fill the brute-force window (labels from the generator), then time a sample."""
    stream = articles(seed=size)
    brute = BruteForce()
    for _ in range(size):
        article, story = next(stream)
        brute.vectors.append((brute.vector(article), story))
    sample = size if size <= 1000 else (50 if size <= 10000 else 20)
    samples = []
    for _ in range(min(sample, TIMED)):
        article, story = next(stream)
        begin = time.perf_counter()
        brute.assign(article, story)
        samples.append(time.perf_counter() - begin)
    return {**_percentiles(samples), "sampled_assignments": len(samples)}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    args = parser.parse_args(argv)
    result: dict[str, object] = {}
    for size in (int(s) for s in args.sizes.split(",")):
        index = measure_index(size)
        brute = measure_brute_force(size)
        print(f"{size}: index {index} brute-force {brute}", file=sys.stderr)
        result[str(size)] = {"index": index, "brute_force": brute}
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
