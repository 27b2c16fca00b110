"""Fitted model coefficients (data): written by bench/fit_stories.py, do not edit by hand."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Model:
    """A standardised logistic model: P = 1 / (1 + exp(-(b + sum(w * (x - mean) / scale))))."""

    features: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float
    threshold: float


# Fitted by bench/fit_stories.py (see its docstring for the data and split).
JOIN = Model(
    features=(
        "title_shared",
        "cross_shared",
        "lead_shared",
        "coverage",
        "shared_names",
        "names_disagree",
        "dates_disagree",
        "figures_disagree",
        "same_feed",
        "log_hours",
        "core_shared",
        "log_size",
        "log_second",
        "log_idle",
        "headline_only",
        "headline_only_hours",
        "headline_only_title",
    ),
    mean=(
        4.81739,
        2.41392,
        1.86498,
        0.138798,
        0.16014,
        0.226544,
        0.00164855,
        0.0630845,
        0.166833,
        1.8754,
        1.45046,
        1.32676,
        0.419819,
        1.81926,
        0.3064,
        0.468074,
        2.35513,
    ),
    scale=(
        4.90238,
        3.68832,
        4.09837,
        0.11433,
        0.516673,
        0.418595,
        0.0405689,
        0.243115,
        0.372827,
        1.04967,
        4.06365,
        1.83606,
        0.845762,
        1.04548,
        0.460998,
        0.94432,
        4.98301,
    ),
    coef=(
        1.41563,
        0.407953,
        0.00594925,
        1.40321,
        0.255699,
        0.0827585,
        -0.34501,
        -0.0158909,
        -0.111035,
        -0.79574,
        0.0845236,
        0.183261,
        0.758794,
        -0.0172393,
        2.33205,
        -5.81034,
        -1.2547,
    ),
    intercept=-7.0726,
    threshold=0.5,
)


DEVELOPMENT = Model(
    features=(
        "new_title_figures",
        "new_figures",
        "new_title_names",
        "new_quote",
        "same_feed",
        "log_age",
        "coverage",
        "opinion",
        "join",
        "new_title_words",
        "new_event_verb",
        "log_idle",
    ),
    mean=(
        0.117647,
        0.374332,
        0.641711,
        0.0802139,
        0.502674,
        2.20511,
        0.356916,
        0.0748663,
        0.619264,
        0.455945,
        0.213904,
        1.65156,
    ),
    scale=(
        0.396588,
        0.773204,
        0.892616,
        0.271624,
        0.499993,
        1.00581,
        0.171075,
        0.263176,
        0.401028,
        0.244169,
        0.41006,
        0.975611,
    ),
    coef=(
        0.184565,
        -0.33943,
        0.235265,
        0.198746,
        0.442503,
        0.00661356,
        -0.180308,
        0.266693,
        0.0740003,
        0.491342,
        0.55796,
        0.333144,
    ),
    intercept=-1.15732,
    threshold=0.3,
)
