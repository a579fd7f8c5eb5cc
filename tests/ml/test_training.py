"""Task inference, label checks and the deterministic, stratified split."""

from __future__ import annotations

import datetime
import decimal

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
