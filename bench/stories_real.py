"""Story figures as a reader sees them, on both stories-real sets and on UCI, at arrival; JSON last.

1. In sample: `storywatch cluster` (the real command, the shipped models, default install) on
   each stories-real set and on UCI. Each article is scored by the story it got when it
   arrived (an alert cannot be unsent): what a reader sees (alerts per multi-report story,
   the share of such stories with exactly one alert, duplicate alerts among all alerts,
   stories with no alert of their own), pairwise precision and recall, alert recall,
   development precision and recall.
2. Held out: the models are fitted again (bench/fit_stories.py's fit, in this process,
   nothing written) on one stories-real set and UCI's first day, and the OTHER stories-real
   set and the rest of UCI are scored; both ways round.
Usage: python bench/stories_real.py [--no-held-out]
"""

from __future__ import annotations

import argparse
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

READER = ("alerts_per_story", "one_alert_share", "dup_alert_share", "stories_without_alert")
KEYS = (*READER, "pair_p", "pair_r", "pair_f1", "alert_r", "dev_p", "dev_r", "pairs_predicted")


def run_cluster(data: storydata.Labelled) -> dict[str, float]:
    """Score `storywatch cluster` (a subprocess, as a user runs it) on the whole set."""
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as fh:
        fh.writelines(json.dumps(row) + "\n" for row in data.rows)
        path = fh.name
    command = [sys.executable, "-m", "bot", "cluster", path]
    done = subprocess.run(command, capture_output=True, text=True, check=True, cwd=ROOT)
    Path(path).unlink()
    verdicts = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    stories = {v["id"]: v["story"] for v in verdicts}
    kinds = {v["id"]: v["kind"] for v in verdicts}
    return _pick(data, storydata.score(data, stories, kinds, data.ids()))


def held_out(fit_on: str) -> dict[str, dict[str, float]]:
    """Fit on `fit_on` and UCI's first day; score the other stories-real set and UCI's rest."""
    real, uci = fit_stories.training_sets(fit_on)
    models, _ = fit_stories.fit(real, uci, uci_weight=0.1, l2=1.0)
    other = next(name for name in storydata.REAL_SETS if name != fit_on)
    out = {}
    for data, ids in ((storydata.real(other), None), (uci, uci.held_out())):
        stories, kinds = fit_stories.replay(data, models)
        out[data.name] = _pick(data, storydata.score(data, stories, kinds, ids or data.ids()))
    return out


def _pick(data: storydata.Labelled, figures: dict[str, float]) -> dict[str, float]:
    """The reported figures; development and reader ones only where follow-ups are labelled."""
    keys = KEYS if data.kinds else tuple(k for k in KEYS if k.startswith(("pair_", "alert_")))
    return {k: figures[k] for k in keys if k in figures}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-held-out", action="store_true")
    args = parser.parse_args(argv)
    if not storydata.available():
        print(f"no labelled data under {storydata.SHARED}", file=sys.stderr)
        return 2
    result: dict[str, object] = {}
    for data in (*(storydata.real(name) for name in storydata.REAL_SETS), storydata.uci()):
        result[data.name] = run_cluster(data)
        print(json.dumps({data.name: result[data.name]}), file=sys.stderr)
    if not args.no_held_out:
        for name in storydata.REAL_SETS:
            result[f"held_out_fitted_on_{name}"] = held_out(name)
            print(json.dumps({name: result[f"held_out_fitted_on_{name}"]}), file=sys.stderr)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
