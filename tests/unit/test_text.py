"""Folding and tokenizing: what counts as the same word, and where it was in the original."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.text import JoinedTokens, fold, one_edit_apart, one_edit_words, tokens


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Çavuşoğlu", "cavusoglu"),
        ("CAVUSOGLU", "cavusoglu"),
        ("İstanbul", "istanbul"),
        ("ılık", "ilik"),
        ("Crème Brûlée", "creme brulee"),
        ("e\u0301te", "ete"),  # decomposed accent
        ("Straße", "strasse"),
        ("ﬁsh", "fish"),
    ],
)
def test_fold_ignores_case_and_diacritics(text: str, folded: str) -> None:
    assert fold(text) == folded


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("S-400", ["s", "400"]),
        ("S400", ["s", "400"]),
        ("S 400", ["s", "400"]),
        ("s-400s", ["s", "400", "s"]),
        ("S-400's", ["s", "400", "s"]),
        ("F-35A", ["f", "35", "a"]),
        ("F-350", ["f", "350"]),
        ("Cavusoglu's", ["cavusoglu", "s"]),
        ("“Blinken”—NATO…", ["blinken", "nato"]),
        ("under_score", ["under", "score"]),
        ("", []),
    ],
)
def test_tokens_split_at_punctuation_and_letter_digit_boundaries(
    text: str, words: list[str]
) -> None:
    assert [t.text for t in tokens(text)] == words


def test_token_spans_point_into_the_original() -> None:
    text = "Mr Çavuşoğlu’s S400 and e\u0301te"
    assert [text[t.start : t.end] for t in tokens(text)] == [
        "Mr",
        "Çavuşoğlu",
        "s",
        "S",
        "400",
        "and",
        "e\u0301te",
    ]


def test_one_edit() -> None:
    assert one_edit_apart("anthony", "antony")
    assert one_edit_apart("blinken", "blinkin")
    assert one_edit_apart("blinken", "blinkenn")
    assert not one_edit_apart("blinken", "blinken")
    assert not one_edit_apart("blinken", "bliken_x")
    assert "antony" in one_edit_words("anthony")
    assert all(one_edit_apart(w, "anthony") for w in one_edit_words("anthony"))


_ALPHABET = "aAbZ09-_ ,.’“”\n\t" + "éÇşİıß…—Жж" + "\u0301" + "½ﬁ"


@given(st.text(alphabet=_ALPHABET, max_size=40))
def test_fold_is_idempotent(text: str) -> None:
    assert fold(fold(text)) == fold(text)


@given(st.text(alphabet=_ALPHABET, max_size=40))
def test_fast_and_exact_tokenizers_agree_on_words_and_spans(text: str) -> None:
    exact = tokens(text)
    joined = JoinedTokens.of(text)
    assert joined.joined == " " + " ".join(t.text for t in exact) + " " or (
        not exact and joined.joined == " "
    )
    ranges, at = [], 1
    for token in exact:
        ranges.append((at, at + len(token.text)))
        at += len(token.text) + 1
    located = joined.spans(ranges)
    assert [located[r] for r in ranges] == [(t.start, t.end) for t in exact]
