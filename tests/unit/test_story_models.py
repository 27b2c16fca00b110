"""The fitted story models: read by feature name from the shipped file, refused when malformed."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.core.stories import ModelsError, StoryModels, decision, novelty, parse
from bot.core.stories.weights import render
from bot.story_models import load_models


def test_the_shipped_models_read_exactly_the_features_the_code_computes() -> None:
    models = load_models()
    assert set(models.join.features) == set(decision.FEATURES)
    assert set(models.development.features) == set(novelty.FEATURES)
    assert 0 < models.join.threshold < 1 and 0 < models.development.threshold < 1


def test_a_model_reads_features_by_name_not_by_position() -> None:
    join = load_models().join
    values = {name: float(n) / 3 for n, name in enumerate(join.features)}
    shuffled = replace(join, terms=tuple(reversed(join.terms)))
    assert shuffled.probability(values) == pytest.approx(join.probability(values))
    del values[join.features[0]]
    with pytest.raises(KeyError):
        join.probability(values)  # a missing feature is an error, never a silent zero


def test_the_file_written_is_the_file_read() -> None:
    models = load_models()
    assert parse(render(models)) == models
    assert isinstance(models, StoryModels)


@pytest.mark.parametrize(
    "text",
    ["", "{}", '{"join": {}, "development": {}}', '{"join": {"features": {}}}', "[1, 2]"],
)
def test_a_malformed_models_file_is_one_clear_error(text: str) -> None:
    with pytest.raises(ModelsError, match=r"^story models: "):
        parse(text)
