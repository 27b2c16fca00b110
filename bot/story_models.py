"""The fitted story models shipped as package data (`bot/core/stories/weights.json`), read once."""

from __future__ import annotations

from importlib import resources

from bot.core.stories import StoryModels, parse


def load_models() -> StoryModels:
    """The shipped models; ModelsError (one clear line) when the file is not the fitter's."""
    return parse(resources.files("bot.core.stories").joinpath("weights.json").read_text("utf-8"))
