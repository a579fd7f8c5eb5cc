"""Budgets, RANGE values and search specs built from SQL option values: good forms and clear errors."""

from __future__ import annotations

import numpy as np
import pytest

from paqdb.errors import InvalidParameterError
from paqdb.ml.families import SpaceValue
from paqdb.options import Range
from paqdb.search.space import (
    grid_configurations,
    grid_values,
    sample_configuration,
    sample_value,
    space_size,
)
from paqdb.search.spec import DEFAULT_BUDGET, Budget, SearchSpec, parse_budget


@pytest.mark.parametrize(
    ("value", "budget"),
    [
        ("2 minutes", Budget(seconds=120.0)),
        ("90 s", Budget(seconds=90.0)),
        ("1.5h", Budget(seconds=5400.0)),
        ("30 seconds", Budget(seconds=30.0)),
        ("2 minute", Budget(seconds=120.0)),
        ("45", Budget(seconds=45.0)),
        (" 10 MIN ", Budget(seconds=600.0)),
        ("20 trials", Budget(trials=20)),
        ("1 trial", Budget(trials=1)),
        ("5 minutes or 50 trials", Budget(seconds=300.0, trials=50)),
        ("50 trials, 1h", Budget(seconds=3600.0, trials=50)),
        (["20 trials", "2 minutes"], Budget(seconds=120.0, trials=20)),
        (90, Budget(seconds=90.0)),
        (0.5, Budget(seconds=0.5)),
    ],
)
def test_parse_budget_good_forms(value: object, budget: Budget) -> None:
    assert parse_budget(value) == budget


@pytest.mark.parametrize(
    "value",
    [
        0,
        -5,
        "0 seconds",
        "-2 minutes",
        "0 trials",
        "soon",
        "",
        "2.5 trials",
        "10 parsecs",
        "minutes",
        True,
        None,
        "1 minute or 2 minutes",
        [],
        float("inf"),
    ],
)
def test_parse_budget_bad_forms_quote_the_value_and_show_examples(value: object) -> None:
    with pytest.raises(InvalidParameterError) as caught:
        parse_budget(value)
    assert repr(value) in caught.value.message
    assert (
        caught.value.hint is not None and "'2 minutes'" in caught.value.hint and "trials" in caught.value.hint
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((1.0, 1.0), "empty"),
        ((2.0, 1.0), "empty"),
        ((0.0, 1.0, "log"), "positive"),
        ((-1.0, 1.0, "log"), "positive"),
        ((1.0, 2.0, "cubic"), "scale"),
        ((1.5, 8.0, "int"), "whole"),
        ((float("nan"), 1.0), "finite"),
    ],
)
def test_bad_ranges_are_rejected(args: tuple, message: str) -> None:
    with pytest.raises(InvalidParameterError, match=message):
        Range(*args)


def test_range_scale_is_case_insensitive() -> None:
    assert Range(1e-4, 1e-1, "LOG").scale == "log"  # type: ignore[arg-type]


def test_from_options_reads_every_option() -> None:
    spec = SearchSpec.from_options(
        {
            "families": ["logistic", "gbt"],
            "budget": "2 minutes",
            "metric": "AUC",
            "strategy": "grid",
            "seed": 7,
            "validation": 0.25,
            "task": "classification",
            "max_depth": [4, 8, 16],
            "learning_rate": Range(1e-4, 1e-1, "log"),
            "c": 0.5,
        }
    )
    assert spec.families == ("logistic", "gradient_boosting")
    assert spec.budget == Budget(seconds=120.0)
    assert (spec.metric, spec.strategy, spec.seed, spec.validation_fraction, spec.task) == (
        "auc",
        "grid",
        7,
        0.25,
        "classification",
    )
    assert spec.hyperparameters == {
        "max_depth": [4, 8, 16],
        "learning_rate": Range(1e-4, 1e-1, "log"),
        "C": [0.5],
    }


def test_defaults() -> None:
    spec = SearchSpec.from_options({})
    assert spec.families is None and spec.budget == DEFAULT_BUDGET and spec.strategy == "tupaq"
    assert spec.seed == 0 and spec.validation_fraction == 0.2 and spec.metric is None
    assert DEFAULT_BUDGET.seconds == 60.0


def test_families_as_a_comma_separated_string() -> None:
    assert SearchSpec.from_options({"families": "logistic, mlp"}).families == ("logistic", "mlp")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"families": ["logistic", "xgboost"]}, "unknown model family 'xgboost'"),
        ({"families": []}, "families is an empty list"),
        ({"families": 3}, "not a list of family names"),
        ({"max_depth": []}, "empty list of candidates"),
        ({"budget": 0}, "budget 0"),
        ({"budget": "0 seconds"}, "budget '0 seconds'"),
        ({"depth": [3]}, "unknown search option 'depth'"),
        (
            {"families": ["logistic"], "max_depth": [4, 8]},
            "'max_depth' belongs to none of the chosen families",
        ),
        ({"strategy": "bayes"}, "unknown search strategy 'bayes'"),
        ({"metric": "precision"}, "unknown metric 'precision'"),
        ({"metric": "rmse", "task": "classification"}, "metric 'rmse' is for regression"),
        ({"seed": 1.5}, "seed 1.5 is not an integer"),
        ({"validation": 1.5}, "validation 1.5"),
        ({"validation": 0}, "validation 0"),
        ({"task": "clustering"}, "unknown task 'clustering'"),
    ],
)
def test_bad_specs_are_rejected_naming_the_problem(options: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidParameterError, match=message) as caught:
        SearchSpec.from_options(options)
    assert caught.value.hint


def test_unknown_option_lists_the_valid_ones() -> None:
    with pytest.raises(InvalidParameterError) as caught:
        SearchSpec.from_options({"buget": "2 minutes"})
    assert caught.value.hint is not None
    assert (
        "budget" in caught.value.hint and "families" in caught.value.hint and "max_depth" in caught.value.hint
    )


def test_resolve_applies_overrides_to_the_families_that_have_them() -> None:
    spec = SearchSpec.from_options({"max_depth": [4, 8], "budget": "20 trials"})
    plan = spec.resolve("classification")
    assert [f.name for f in plan.families] == [
        "logistic",
        "linear_svm",
        "gradient_boosting",
        "random_forest",
        "kernel_approximation",
        "mlp",
    ]
    assert plan.spaces["gradient_boosting"]["max_depth"] == [4, 8]
    assert plan.spaces["random_forest"]["max_depth"] == [4, 8]
    assert "max_depth" not in plan.spaces["logistic"]
    assert plan.overridden["random_forest"] == frozenset({"max_depth"})
    assert plan.metric.name == "accuracy"
    assert plan.budget == Budget(trials=20)


def test_resolve_rejects_what_does_not_fit_the_task() -> None:
    with pytest.raises(InvalidParameterError, match="'logistic' does not support regression"):
        SearchSpec(families=("logistic",)).resolve("regression")
    with pytest.raises(InvalidParameterError, match="metric 'accuracy' is for classification"):
        SearchSpec(metric="accuracy").resolve("regression")
    # C belongs to logistic and linear_svm only, neither of which does regression.
    with pytest.raises(InvalidParameterError, match="'C' belongs to none"):
        SearchSpec(hyperparameters={"C": [1.0]}).resolve("regression")


def test_budget_given_as_text_in_the_constructor() -> None:
    assert SearchSpec(budget="20 trials").budget == Budget(trials=20)  # type: ignore[arg-type]


def test_sampling_is_reproducible_and_respects_scales() -> None:
    space: dict[str, SpaceValue] = {
        "a": Range(1e-4, 1e-1, "log"),
        "b": Range(2, 5, "int"),
        "c": [None, 3],
        "d": Range(0.0, 1.0),
    }
    first = [sample_configuration(space, np.random.default_rng(3)) for _ in range(2)]
    assert first[0] == first[1]
    draws = [sample_value(space["b"], np.random.default_rng(i)) for i in range(50)]
    assert set(draws) == {2, 3, 4, 5}
    log_draws = np.array([sample_value(space["a"], np.random.default_rng(i)) for i in range(200)])
    assert ((log_draws >= 1e-4) & (log_draws <= 1e-1)).all()
    assert (log_draws < 1e-2).mean() > 0.5  # log-uniform puts two of three decades below 1e-2


def test_grid_values_and_size() -> None:
    assert grid_values(Range(1e-3, 1e1, "log"), points=5) == pytest.approx([1e-3, 1e-2, 1e-1, 1, 10])
    assert grid_values(Range(1, 3, "int")) == [1, 2, 3]
    space: dict[str, SpaceValue] = {"x": [1, 2], "y": ["a", "b", "c"]}
    assert space_size(space) == 6 and space_size({"z": Range(0.0, 1.0)}) is None
    assert len(list(grid_configurations(space))) == 6
