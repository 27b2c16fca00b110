"""The query language: what parses, how it normalises, and how bad queries are explained."""

from __future__ import annotations

import pytest

from bot.core.query import (
    MAX_QUERY_LENGTH,
    And,
    Not,
    Or,
    QueryError,
    Term,
    describe_query_language,
    parse_query,
)


@pytest.mark.parametrize(
    ("query", "normalised"),
    [
        ("S-400", "S-400"),
        ("  Blinken   Turkey ", "Blinken Turkey"),
        ("Blinken AND Turkey", "Blinken Turkey"),
        ("Blinken | Cavusoglu", "Blinken OR Cavusoglu"),
        ("S-400 NOT India", "S-400 -India"),
        ('"air  defense system"', '"air defense system"'),
        ("(Blinken OR Antony) NATO", "(Blinken OR Antony) NATO"),
        ("TITLE:Blinken", "title:Blinken"),
        ("title:~Blinken", "title:~Blinken"),
        ("-(India OR Pakistan) S-400", "-(India OR Pakistan) S-400"),
        ("10:30 meeting", "10:30 meeting"),
        ("and or not", "and or not"),  # lower-case operators are plain words
        ("Blinken|Cavusoglu", "Blinken OR Cavusoglu"),  # stop characters end a word
        ('Blinken"NATO summit"', 'Blinken "NATO summit"'),
        ("(S-400)India", "S-400 India"),
        ("Blinken\u00a0Turkey", "Blinken Turkey"),  # any Unicode space separates words
    ],
)
def test_queries_normalise(query: str, normalised: str) -> None:
    assert str(parse_query(query)) == normalised


@pytest.mark.parametrize("word", ["Blinken", "NATO", "nato", "S400", "Çavuşoğlu"])
def test_a_single_word_parses_as_one_term(word: str) -> None:
    # A plain ASCII word takes a shortcut past the lexer; it must agree with the lexer.
    root = parse_query(word).root
    assert isinstance(root, Term)
    assert root == Term(word, root.tokens) and not (root.phrase or root.fuzzy or root.field)
    assert parse_query(f"({word})").root == root


def test_and_binds_tighter_than_or() -> None:
    root = parse_query("a b OR c -d").root
    assert isinstance(root, Or)
    first, second = root.children
    assert isinstance(first, And) and isinstance(second, And)
    assert isinstance(second.children[1], Not)


def test_terms_carry_folded_tokens_and_options() -> None:
    root = parse_query('title:~"Mevlüt Çavuşoğlu"').root
    assert root == Term("Mevlüt Çavuşoğlu", ("mevlut", "cavusoglu"), True, True, "title")


@pytest.mark.parametrize(
    ("query", "explains"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ('"air defense', "Unclosed quote"),
        ("(Blinken OR Antony", "Unbalanced parentheses"),
        ("Blinken)", "Unbalanced parentheses"),
        (")Blinken(", "Unbalanced parentheses"),
        ("-India", "only excludes"),
        ("NOT India -Pakistan", "only excludes"),
        ("Blinken OR -India", "Each OR alternative"),
        ("x" * (MAX_QUERY_LENGTH + 1), "limit is 512"),
        ("Blinken OR", "ends too early"),
        ("OR Blinken", "OR needs a word"),
        ("OR", "OR needs a word"),  # a lone operator is not a plain word
        ("NOT", "ends too early"),
        ("S-400 - India", "'-' must be followed"),
        ("foo:bar", "Unknown field"),
        ("title:", "must be followed by a word"),
        ("&", "no letters or digits"),
        ('""', "no letters or digits"),
        ("(" * 20 + "a" + ")" * 20, "nests deeper"),
    ],
)
def test_invalid_queries_are_explained_in_one_line(query: str, explains: str) -> None:
    with pytest.raises(QueryError) as caught:
        parse_query(query)
    message = str(caught.value)
    assert explains in message
    assert "\n" not in message
    assert "e.g." in message or "limit" in message or "flatten" in message


def test_longest_allowed_query_parses() -> None:
    query = " ".join(["Blinken"] * 64)[:MAX_QUERY_LENGTH]
    assert parse_query(query)


def test_help_shows_every_construct() -> None:
    help_text = describe_query_language()
    for example in ('"air defense system"', "OR", "-India", "title:", "~Anthony", "S-400"):
        assert example in help_text
