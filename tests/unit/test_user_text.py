"""What users type: command splitting, refused characters, numeric keys that fit an id."""

from __future__ import annotations

import pytest

from bot.core.user_text import number_key, split_command, unsafe_character, without_unsafe


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("/watch S-400", ("watch", "S-400")),
        ("/watch\nS-400", ("watch", "S-400")),
        ("/watch\tS-400", ("watch", "S-400")),
        ("  /WATCH \r\n S-400  -India \n", ("watch", "S-400 -India")),
        ("/watch", ("watch", "")),
        ("/watch\u00a0S-400", ("watch", "S-400")),  # a no-break space is whitespace too
        ("", ("", "")),
    ],
)
def test_any_whitespace_separates_the_command_and_its_words(
    typed: str, expected: tuple[str, str]
) -> None:
    assert split_command(typed) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("S-400 Çavuşoğlu “quoted” 東京", None),
        ("tabs\tand\nnewlines", None),
        ("a\x00b", "U+0000"),
        ("\x1b[31mred", "U+001B"),
        ("bell\x07", "U+0007"),
        ("del\x7f", "U+007F"),
        ("c1\x9b", "U+009B"),
        ("lone \ud800", "U+D800"),
    ],
)
def test_control_characters_and_lone_surrogates_are_found(text: str, expected: str | None) -> None:
    assert unsafe_character(text) == expected


def test_a_title_keeps_everything_but_the_unsafe_characters() -> None:
    assert without_unsafe("Big\x00 News\x1b\tDaily") == "Big News\tDaily"


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("3", "3"),
        ("#3", "3"),
        ("007", "7"),
        ("2147483647", "2147483647"),
        ("2147483648", None),
        ("99999999999999999999999", None),
        ("²", None),
        ("١٢", "12"),  # Arabic-Indic digits are still a number
        ("S-400 -India", "S-400 -India"),
        ("#hashtag", "hashtag"),
    ],
)
def test_numeric_keys_fit_an_id_or_mean_nothing(key: str, expected: str | None) -> None:
    assert number_key(key) == expected
