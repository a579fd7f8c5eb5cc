"""Model families: registry, aliases, task support, estimator construction."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import BaseEstimator, is_classifier, is_regressor
from sklearn.utils.validation import check_is_fitted

from paqdb.errors import InvalidParameterError
from paqdb.ml.families import FAMILIES, TrainingShape, families_for, get_family
from paqdb.options import Range

SUPPORTED = [(name, task) for name, family in FAMILIES.items() for task in family.tasks]


def test_required_families_are_registered() -> None:
    assert {"logistic", "linear_svm", "ridge", "random_forest", "gradient_boosting", "mlp"} <= set(FAMILIES)
    assert [f.name for f in families_for("classification")] == [
        "logistic",
        "linear_svm",
        "gradient_boosting",
        "random_forest",
        "kernel_approximation",
        "mlp",
    ]
    assert [f.name for f in families_for("regression")] == [
        "ridge",
        "gradient_boosting",
        "random_forest",
        "kernel_approximation",
        "mlp",
    ]


def test_unknown_family_lists_the_known_ones() -> None:
    with pytest.raises(InvalidParameterError, match="unknown model family 'xgboost'") as caught:
        get_family("xgboost")
    assert caught.value.hint is not None
    assert all(name in caught.value.hint for name in FAMILIES)


def test_aliases_and_case() -> None:
    assert get_family("linear").name == "ridge"
    assert get_family("Gradient_Boosting").name == "gradient_boosting"
    assert get_family("random_features").name == "kernel_approximation"


@pytest.mark.parametrize(("name", "task"), SUPPORTED)
def test_build_gives_an_unfitted_estimator_of_the_task(name: str, task: str) -> None:
    estimator = get_family(name).build(task, None, seed=3)  # type: ignore[arg-type]
    assert isinstance(estimator, BaseEstimator)
    assert is_classifier(estimator) if task == "classification" else is_regressor(estimator)
    params = estimator.get_params()
    seeds = [
        value for key, value in params.items() if key == "random_state" or key.endswith("__random_state")
    ]
    assert seeds and all(seed == 3 for seed in seeds)
    with pytest.raises(Exception, match="not fitted"):
        check_is_fitted(estimator)


@pytest.mark.parametrize("name", list(FAMILIES))
def test_default_spaces_use_only_known_hyperparameters(name: str) -> None:
    family = FAMILIES[name]
    assert set(family.space) <= family.hyperparameter_names
    for candidates in family.space.values():
        assert isinstance(candidates, Range) or (isinstance(candidates, list) and candidates)


def test_family_rejects_a_task_it_does_not_support() -> None:
    with pytest.raises(InvalidParameterError, match="does not support regression") as caught:
        get_family("logistic").build("regression", None, seed=0)
    assert caught.value.hint is not None and "ridge" in caught.value.hint


def test_unknown_hyperparameter_is_rejected() -> None:
    with pytest.raises(InvalidParameterError, match="has no hyperparameter 'depth'"):
        get_family("gradient_boosting").configuration({"depth": 3})


def test_integer_hyperparameters_are_rounded() -> None:
    configuration = get_family("random_forest").configuration({"max_depth": 7.6, "n_estimators": 10.0})
    assert configuration["max_depth"] == 8 and isinstance(configuration["max_depth"], int)
    assert configuration["n_estimators"] == 10 and isinstance(configuration["n_estimators"], int)


def test_gradient_boosting_marks_native_categoricals_and_early_stops_only_with_enough_rows() -> None:
    family = get_family("gradient_boosting")
    mask = np.array([True, False])
    big = family.build("classification", None, 0, TrainingShape(20_000, 500, mask))
    assert big.get_params()["early_stopping"] is True
    assert big.get_params()["categorical_features"] is None
    native = family.build("classification", {"native_categorical": True}, 0, TrainingShape(20_000, 500, mask))
    np.testing.assert_array_equal(native.get_params()["categorical_features"], mask)
    small = family.build("classification", None, 0, TrainingShape(200, 50, mask))
    assert small.get_params()["early_stopping"] is False
    singleton_class = family.build("classification", None, 0, TrainingShape(20_000, 1, mask))
    assert singleton_class.get_params()["early_stopping"] is False


def test_mlp_layer_sizes_accept_an_int_or_a_list() -> None:
    family = get_family("mlp")
    assert family.build("regression", {"hidden_layer_sizes": 32}, 0).get_params()["hidden_layer_sizes"] == (
        32,
    )
    layers = family.build("regression", {"hidden_layer_sizes": [16, 8]}, 0).get_params()["hidden_layer_sizes"]
    assert layers == (16, 8)
