"""Summaries: central sentences only, never outlet furniture, and a representative headline."""

from __future__ import annotations

from pathlib import Path

import pytest
from furniture_lines import FURNITURE

from bot.core.stories.summary import clean_sentences, representative_headline, summarize

SEEDS = Path(__file__).resolve().parents[2].parent / "shared" / "seeds"


BODY = (
    "Flood barriers on the Vistula held overnight as the river rose 3 metres in Krakow, city "
    "officials said on Sunday.\n"
    "Some 1,200 residents of low-lying districts of Krakow were moved to schools as the "
    "Vistula kept rising.\n"
    "The mayor said the Vistula flood barriers built after 2010 had been tested for a rise of "
    "this size.\n"
    "What happens next?\n"
    "Weather Rivers Poland"
)


def test_summary_of_an_article_wrapped_in_furniture_keeps_only_news() -> None:
    text = "\n".join(FURNITURE[:5]) + "\n" + BODY + "\n" + "\n".join(FURNITURE[5:])
    candidates = clean_sentences(text, "Krakow flood barriers hold as Vistula rises")
    summary = summarize(candidates, "Krakow flood barriers hold as Vistula rises")
    assert "Vistula" in summary
    for line in FURNITURE:
        assert line.strip(" •").lower() not in summary.lower()
    assert "What happens next" not in summary  # a teaser question is not a fact
    assert "Weather Rivers Poland" not in summary  # a tag line is not a sentence


def test_summary_has_one_to_three_sentences_without_repeating_itself() -> None:
    echo = "Flood barriers on the Vistula held overnight as the river rose 3 metres in Krakow."
    candidates = [*clean_sentences(BODY), echo]
    summary = summarize(candidates)
    assert 1 <= summary.count(". ") + 1 <= 3
    assert summary.count("held overnight") == 1


def test_headline_echo_in_the_body_is_not_a_summary_sentence() -> None:
    title = "Krakow moves 1,200 residents as the Vistula keeps rising"
    text = "Krakow moves 1,200 residents as the Vistula keeps rising.\n" + BODY
    assert title + "." not in clean_sentences(text, title)


def test_representative_headline_is_the_one_the_others_agree_with() -> None:
    headlines = [
        ("Wow, you will not believe this river", "u1"),
        ("Krakow flood barriers hold as Vistula rises", "u2"),
        ("Vistula rises in Krakow, flood barriers hold", "u3"),
        ("Flood barriers hold in Krakow", "u4"),
    ]
    assert representative_headline(headlines)[1] in ("u2", "u3")
    assert representative_headline([]) == ("", "")


def test_empty_input_gives_an_empty_summary() -> None:
    assert summarize([]) == ""
    assert clean_sentences("") == []


def test_seed_articles_lose_all_their_boilerplate() -> None:
    paths = sorted(SEEDS.glob("*.txt")) if SEEDS.is_dir() else []
    if not paths:
        pytest.skip("shared seeds not available")
    for path in paths:
        text = path.read_text(encoding="utf-8")
        kept = " ".join(clean_sentences(text)).lower()
        assert kept, path.name
        for furniture in (
            "dear reader",
            "recurring contribution",
            "subscribe",
            "follow us",
            "accessibility links",
            "breaking news",
            "16x9 image",
            "you may also like",
            "with reporting by",
            "journalists report",
            "googleplay",
            "appstore",
            "free press",
            "newsletter",
        ):
            assert furniture not in kept, (path.name, furniture)
