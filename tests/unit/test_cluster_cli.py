"""`storywatch cluster`: JSON lines in, one story verdict per article out, bad lines reported."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from bot.tools import cluster

LINES = [
    {
        "id": "1",
        "title": "Ankara refuses to give up Russian S-400 missiles despite Washington pressure",
        "text": "Turkey will keep the Russian S-400 system, foreign minister Hakan Demir said.",
        "url": "https://ledger.example/1",
        "source": "Daily Ledger",
        "published": "2026-03-02T09:00:00Z",
    },
    {
        "id": "2",
        "title": "Turkey says Russian S-400 missile deal is closed, defying Washington",
        "text": "Foreign minister Hakan Demir said the Russian S-400 purchase is final.",
        "url": "https://harbour.example/2",
        "source": "Harbour Times",
        "published": "2026-03-02T09:40:00+00:00",
    },
    {
        "id": "3",
        "title": "Heavy rain floods Lisbon metro stations during evening rush hour",
        "published": "2026-03-02T10:00:00",
    },
]


def run(tmp_path: Path, lines: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    path = tmp_path / "articles.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    status = cluster.main([str(path)])
    captured = capsys.readouterr()
    return status, captured.out + "\x00" + captured.err


def test_each_article_gets_a_story_and_kind(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, output = run(tmp_path, [json.dumps(x) for x in LINES], capsys)
    out, err = output.split("\x00")
    verdicts = [json.loads(line) for line in out.splitlines()]
    assert status == 0 and err == ""
    assert [v["id"] for v in verdicts] == ["1", "2", "3"]
    assert verdicts[0] == {"id": "1", "story": "1", "kind": "new"}
    assert verdicts[1]["story"] == "1" and verdicts[1]["kind"] in ("repeat", "development")
    assert verdicts[2] == {"id": "3", "story": "3", "kind": "new"}


def test_malformed_lines_are_reported_with_their_number_and_skipped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = [
        json.dumps(LINES[0]),
        "{not json",
        json.dumps({"id": "x", "title": "No date here"}),
        json.dumps(LINES[1]),
    ]
    status, output = run(tmp_path, lines, capsys)
    out, err = output.split("\x00")
    assert status == 1
    assert [json.loads(line)["id"] for line in out.splitlines()] == ["1", "2"]
    reported = [line.split(":")[0] for line in err.splitlines()]
    assert reported == ["line 2", "line 3"]
    assert "published" in err.splitlines()[1]


def test_reads_stdin_when_no_file_is_given(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps(LINES[2]) + "\n"))
    assert cluster.main([]) == 0
    assert json.loads(capsys.readouterr().out) == {"id": "3", "story": "3", "kind": "new"}


def test_missing_file_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cluster.main([str(tmp_path / "absent.jsonl")]) == 2
    assert "cannot read" in capsys.readouterr().err
