"""`storywatch match`: exit codes, stdin, and the bold snippet it prints."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from bot.tools.match import main

ARTICLE = "\n\nBlinken urges Turkey to drop the S-400\nThe S400 deal stands, Çavuşoğlu said.\n"


@pytest.fixture
def article(tmp_path: Path) -> Path:
    path = tmp_path / "article.txt"
    path.write_text(ARTICLE, encoding="utf-8")
    return path


def test_matching_file_exits_0_and_bolds_the_words(
    article: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["S-400 -India", str(article)]) == 0
    out = capsys.readouterr().out
    assert f"{article}: match" in out
    assert "The **S400** deal stands" in out


def test_title_is_the_first_non_empty_line(
    article: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["title:Blinken", str(article)]) == 0
    assert "**Blinken** urges Turkey" in capsys.readouterr().out
    assert main(["title:Cavusoglu", str(article)]) == 1


def test_no_match_exits_1(article: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["F-35", str(article)]) == 1
    assert f"{article}: no match" in capsys.readouterr().out


def test_any_matching_input_is_enough(
    article: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = tmp_path / "other.txt"
    other.write_text("Weather\nSunny all week.\n", encoding="utf-8")
    assert main(["Cavusoglu", str(other), str(article)]) == 0
    out = capsys.readouterr().out
    assert f"{other}: no match" in out and f"{article}: match" in out


def test_reads_stdin_without_files(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(ARTICLE))
    assert main(["cavusoglu"]) == 0
    assert "<stdin>: match" in capsys.readouterr().out


def test_invalid_query_exits_2_with_one_line_explanation(
    article: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["(S-400", str(article)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "Unbalanced parentheses" in captured.err
    assert captured.err.count("\n") == 1


def test_unreadable_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["S-400", str(tmp_path / "missing.txt")]) == 2
    assert "cannot read" in capsys.readouterr().err
