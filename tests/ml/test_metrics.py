"""Metrics agree with scikit-learn, know their direction, and reject names that do not fit the task."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as sk

from paqdb.errors import InvalidParameterError
from paqdb.ml.metrics import METRICS, get_metric, positive_class_code


@pytest.fixture
def binary() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    y_true = (rng.random(200) < 0.3).astype(int)
    p1 = np.clip(0.3 * y_true + rng.random(200) * 0.7, 0.01, 0.99)
    proba = np.column_stack([1 - p1, p1])
    return y_true, proba.argmax(axis=1), proba


@pytest.fixture
def multiclass() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    y_true = rng.integers(0, 3, 300)
    logits = rng.normal(size=(300, 3)) + np.eye(3)[y_true]
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return y_true, proba.argmax(axis=1), proba


def test_classification_metrics_match_scikit_learn_binary(binary: tuple[np.ndarray, ...]) -> None:
    y_true, y_pred, proba = binary
    assert METRICS["accuracy"].score(y_true, y_pred, proba) == pytest.approx(
        sk.accuracy_score(y_true, y_pred)
    )
    assert METRICS["f1"].score(y_true, y_pred, proba, 1) == pytest.approx(sk.f1_score(y_true, y_pred))
    assert METRICS["auc"].score(y_true, y_pred, proba, 1) == pytest.approx(
        sk.roc_auc_score(y_true, proba[:, 1])
    )
    assert METRICS["log_loss"].score(y_true, y_pred, proba) == pytest.approx(sk.log_loss(y_true, proba))


def test_classification_metrics_match_scikit_learn_multiclass(multiclass: tuple[np.ndarray, ...]) -> None:
    y_true, y_pred, proba = multiclass
    assert METRICS["f1"].score(y_true, y_pred, proba) == pytest.approx(
        sk.f1_score(y_true, y_pred, average="macro")
    )
    assert METRICS["auc"].score(y_true, y_pred, proba) == pytest.approx(
        sk.roc_auc_score(y_true, proba, multi_class="ovr", average="macro")
    )
    assert METRICS["log_loss"].score(y_true, y_pred, proba) == pytest.approx(sk.log_loss(y_true, proba))


def test_f1_and_auc_treat_the_given_positive_class_as_positive(binary: tuple[np.ndarray, ...]) -> None:
    y_true, y_pred, proba = binary
    assert METRICS["f1"].score(y_true, y_pred, proba, 0) == pytest.approx(
        sk.f1_score(y_true, y_pred, pos_label=0)
    )
    assert METRICS["auc"].score(y_true, y_pred, proba, 0) == pytest.approx(
        sk.roc_auc_score(y_true == 0, proba[:, 0])
    )


def test_regression_metrics_match_scikit_learn() -> None:
    rng = np.random.default_rng(2)
    y_true = rng.normal(size=100)
    y_pred = y_true + rng.normal(scale=0.3, size=100)
    assert METRICS["rmse"].score(y_true, y_pred) == pytest.approx(
        np.sqrt(sk.mean_squared_error(y_true, y_pred))
    )
    assert METRICS["mae"].score(y_true, y_pred) == pytest.approx(sk.mean_absolute_error(y_true, y_pred))
    assert METRICS["r2"].score(y_true, y_pred) == pytest.approx(sk.r2_score(y_true, y_pred))


def test_directions() -> None:
    higher = {name for name, metric in METRICS.items() if metric.greater_is_better}
    assert higher == {"accuracy", "f1", "auc", "r2"}
    rmse = METRICS["rmse"]
    assert rmse.is_better(1.0, 2.0) and not rmse.is_better(2.0, 1.0) and rmse.is_better(5.0, None)
    assert not METRICS["accuracy"].is_better(float("nan"), 0.1)


def test_defaults_per_task() -> None:
    assert get_metric(None, "classification").name == "accuracy"
    assert get_metric(None, "regression").name == "rmse"
    assert get_metric("AUC", "classification").name == "auc"


def test_unknown_metric_is_rejected_with_the_valid_ones() -> None:
    with pytest.raises(InvalidParameterError, match="unknown metric 'precision'") as caught:
        get_metric("precision", "classification")
    assert caught.value.hint is not None and "accuracy" in caught.value.hint


@pytest.mark.parametrize(("name", "task"), [("rmse", "classification"), ("auc", "regression")])
def test_metric_of_the_other_task_is_rejected(name: str, task: str) -> None:
    with pytest.raises(InvalidParameterError, match=f"metric '{name}' is for"):
        get_metric(name, task)  # type: ignore[arg-type]


def test_positive_class_is_the_minority_or_the_second_on_ties() -> None:
    assert positive_class_code(np.array([90, 10])) == 1
    assert positive_class_code(np.array([10, 90])) == 0
    assert positive_class_code(np.array([50, 50])) == 1
