"""Task inference, label checks and the deterministic, stratified split."""

from __future__ import annotations

import datetime
import decimal
import time
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from paqdb.errors import InvalidParameterError, TrainingError, UndefinedColumnError
from paqdb.ml.training import infer_task, prepare_training_data, split_rows, train_model


@pytest.mark.parametrize(
    ("label", "task"),
    [
        (pa.array(["a", "b"]), "classification"),
        (pa.array(["a", "b"], pa.large_string()), "classification"),
        (pa.array([True, False]), "classification"),
        (pa.array(["a", "b"]).dictionary_encode(), "classification"),
        (pa.array([0.5, 1.5]), "regression"),
        (pa.array([0.5, 1.5], pa.float32()), "regression"),
        (pa.array([decimal.Decimal("1.25")]), "regression"),
        (pa.array(list(range(20)) * 2, pa.int64()), "classification"),
        (pa.array(list(range(21)), pa.int32()), "regression"),
        (pa.chunked_array([[1, 2], [3, None]]), "classification"),
    ],
)
def test_infer_task(label: pa.Array, task: str) -> None:
    assert infer_task(label) == task


def test_label_of_an_unusable_type_is_a_training_error() -> None:
    with pytest.raises(TrainingError, match="date32"):
        infer_task(pa.array([datetime.date(2024, 1, 1)]))


def test_no_rows_is_a_training_error_with_a_hint() -> None:
    empty = pa.table({"x": pa.array([], pa.float64()), "y": pa.array([], pa.string())})
    with pytest.raises(TrainingError, match="has no rows") as caught:
        prepare_training_data(empty, "y")
    assert caught.value.hint


def test_all_null_label_is_a_training_error() -> None:
    table = pa.table({"x": [1.0, 2.0], "y": pa.array([None, None], pa.string())})
    with pytest.raises(TrainingError, match="NULL in every"):
        prepare_training_data(table, "y")


def test_rows_with_null_or_nan_label_are_dropped() -> None:
    table = pa.table({"x": [1.0, 2.0, 3.0, 4.0, 5.0], "y": [1.0, None, float("nan"), 4.0, 2.5]})
    data = prepare_training_data(table, "y")
    assert data.n_rows == 3 and data.dropped_rows == 2
    assert data.features.num_rows == 3
    np.testing.assert_array_equal(data.target, [1.0, 4.0, 2.5])


def test_single_class_is_a_training_error() -> None:
    table = pa.table({"x": [1.0, 2.0, 3.0], "y": ["a", "a", None]})
    with pytest.raises(TrainingError, match="single value"):
        prepare_training_data(table, "y")


def test_missing_label_and_missing_features_are_reported() -> None:
    with pytest.raises(UndefinedColumnError, match="'nope'"):
        prepare_training_data(pa.table({"x": [1.0]}), "nope")
    with pytest.raises(TrainingError, match="no feature columns"):
        prepare_training_data(pa.table({"y": ["a", "b"]}), "y")


def test_task_override(classification_table: pa.Table) -> None:
    integers = pa.table({"x": [1.0, 2.0, 3.0, 4.0], "y": [1, 2, 1, 2]})
    assert prepare_training_data(integers, "y").task == "classification"
    assert prepare_training_data(integers, "y", task="regression").task == "regression"
    with pytest.raises(InvalidParameterError, match="numeric label"):
        prepare_training_data(classification_table, "label", task="regression")


def test_classes_are_sorted_label_values_and_target_holds_their_codes() -> None:
    table = pa.table({"x": [1.0, 2.0, 3.0, 4.0], "y": ["b", "a", "c", "a"]})
    data = prepare_training_data(table, "y")
    assert data.classes is not None and data.classes.to_pylist() == ["a", "b", "c"]
    np.testing.assert_array_equal(data.target, [1, 0, 2, 0])


def test_split_is_deterministic_disjoint_and_stratified() -> None:
    target = np.array([0] * 80 + [1] * 20)
    train, validation = split_rows(target, "classification", 0.2, seed=7)
    again_train, again_validation = split_rows(target, "classification", 0.2, seed=7)
    np.testing.assert_array_equal(train, again_train)
    np.testing.assert_array_equal(validation, again_validation)
    assert not set(train) & set(validation) and len(train) + len(validation) == 100
    assert np.bincount(target[validation]).tolist() == [16, 4]
    other_train, _ = split_rows(target, "classification", 0.2, seed=8)
    assert not np.array_equal(train, other_train)


def test_split_keeps_every_class_in_training() -> None:
    target = np.array([0, 0, 0, 0, 1, 2, 2])
    train, validation = split_rows(target, "classification", 0.5, seed=0)
    assert set(target[train]) == {0, 1, 2}
    assert len(validation) > 0


def test_regression_split_fraction() -> None:
    train, validation = split_rows(np.arange(50, dtype=float), "regression", 0.2, seed=0)
    assert len(validation) == 10 and len(train) == 40


def test_too_few_rows_to_split() -> None:
    with pytest.raises(TrainingError, match="at least 2"):
        split_rows(np.array([1.0]), "regression", 0.2, seed=0)


def test_train_model_fits_one_configuration(classification_table: pa.Table) -> None:
    model = train_model(classification_table, "label", family="logistic", hyperparameters={"C": 0.5})
    assert model.family == "logistic" and model.hyperparameters["C"] == 0.5
    assert model.feature_names == ["age", "salary", "city", "member"]
    prediction, confidence = model.predict_arrow(classification_table)
    accuracy = np.mean(
        np.array(prediction.to_pylist()) == np.array(classification_table["label"].to_pylist())
    )
    assert accuracy > 0.75
    assert confidence is not None


# -- fits under a deadline (issue 8: budgets that hold) ------------------------------------------------


def _blobs(rows: int = 600) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    matrix = rng.normal(size=(rows, 5))
    return matrix, (matrix[:, 0] + 0.5 * matrix[:, 1] > 0).astype(np.int64)


def test_a_forest_under_a_deadline_stops_between_trees_and_stays_usable() -> None:
    from sklearn.ensemble import RandomForestClassifier

    from paqdb.ml.training import fit_within

    matrix, target = _blobs()
    forest = RandomForestClassifier(n_estimators=100_000_000, random_state=0)
    outcome = fit_within(forest, matrix, target, time.perf_counter() + 0.5)
    assert outcome.cut_short and outcome.resource == "n_estimators"
    assert outcome.requested == 100_000_000 and outcome.units == len(forest.estimators_) >= 1
    # The estimator says what it is, and starts afresh if fitted again.
    assert forest.get_params()["n_estimators"] == outcome.units and not forest.get_params()["warm_start"]
    assert forest.score(matrix, target) > 0.8


def test_a_forest_under_a_deadline_leaves_time_to_store_its_trees() -> None:
    """Growing stops where growing and storing the trees both fit: on a clock where a tree trains in no
    time, the budget is all storage, so the forest has about budget / STORE_SECONDS_PER_TREE trees."""
    from sklearn.ensemble import RandomForestClassifier

    from paqdb.ml.training import STORE_SECONDS_PER_TREE, fit_within

    matrix, target = _blobs(50)
    forest = RandomForestClassifier(n_estimators=2_000, max_depth=1, random_state=0)
    frozen = iter(lambda: 0.0, None)  # training takes no time on this clock
    outcome = fit_within(forest, matrix, target, 0.3, clock=lambda: next(frozen), seconds_per_unit=1e-9)
    storable = 0.3 / STORE_SECONDS_PER_TREE["n_estimators"]
    assert outcome.cut_short
    assert outcome.units is not None and 0.5 * storable <= outcome.units <= storable


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["forest", "boosting"])
def test_chunked_fits_equal_one_fit(kind: str) -> None:
    from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier

    from paqdb.ml.training import fit_within

    matrix, target = _blobs(12_000)  # enough rows for boosting's internal early stopping

    def build() -> Any:
        if kind == "forest":
            return RandomForestClassifier(n_estimators=30, random_state=0)
        return HistGradientBoostingClassifier(
            max_iter=60, max_features=0.5, early_stopping=True, random_state=0
        )

    whole = build().fit(matrix, target)
    chunked = build()
    # A prior rate of 1000 s per unit does not fit the hour left: the fit starts with a chunk of one unit,
    # then, timed, trains the rest in a warm start.
    outcome = fit_within(chunked, matrix, target, time.perf_counter() + 3600, seconds_per_unit=1000.0)
    assert not outcome.cut_short
    np.testing.assert_array_equal(whole.predict_proba(matrix), chunked.predict_proba(matrix))


def test_an_mlp_under_a_deadline_stops_between_epochs_and_leaves_no_hook() -> None:
    from sklearn.neural_network import MLPClassifier

    from paqdb.ml.training import fit_within

    matrix, target = _blobs()
    network = MLPClassifier(hidden_layer_sizes=(8,), max_iter=1_000_000, n_iter_no_change=1_000_000, tol=0)
    outcome = fit_within(network, matrix, target, time.perf_counter() + 0.3)
    assert outcome.cut_short and 1 <= outcome.units < 1_000_000 == outcome.requested
    assert "_update_no_improvement_count" not in network.__dict__  # nothing of the hook is stored
    assert network.score(matrix, target) > 0.8


def test_a_real_ctrl_c_in_an_mlp_is_not_swallowed(monkeypatch: pytest.MonkeyPatch) -> None:
    from sklearn.neural_network import MLPClassifier

    from paqdb.ml.training import fit_within

    def interrupted(self: Any, *args: Any, **kwargs: Any) -> None:
        raise KeyboardInterrupt  # scikit-learn's MLP turns this into a warning and returns

    monkeypatch.setattr(MLPClassifier, "_update_no_improvement_count", interrupted)
    matrix, target = _blobs()
    with pytest.raises(KeyboardInterrupt):
        fit_within(MLPClassifier(max_iter=50), matrix, target, time.perf_counter() + 3600)


def test_without_a_deadline_a_fit_is_a_plain_fit() -> None:
    from paqdb.ml.families import get_family
    from paqdb.ml.training import fit_estimator_within

    matrix, target = _blobs()
    outcome = fit_estimator_within(get_family("random_forest"), "classification", None, 0, matrix, target)
    assert not outcome.cut_short and len(outcome.estimator.estimators_) == 100
