"""Furniture lines are told from news sentences, whatever the outlet."""

import pytest
from furniture_lines import FURNITURE

from bot.core.furniture import is_boilerplate


@pytest.mark.parametrize("line", FURNITURE)
def test_furniture_lines_are_boilerplate(line: str) -> None:
    assert is_boilerplate(line)


@pytest.mark.parametrize(
    "line",
    [
        "Officials said 1,200 residents were moved to schools overnight.",
        '"We will rebuild every bridge," the mayor told our reporter at the scene.',
        "The minister said the agreement would be signed in Warsaw next week.",
    ],
)
def test_news_sentences_are_not_boilerplate(line: str) -> None:
    assert not is_boilerplate(line)
