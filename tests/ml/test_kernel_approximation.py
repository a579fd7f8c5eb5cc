"""The kernel_approximation family (random Fourier features + a linear model) and its task-only
hyperparameters."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from sklearn.kernel_approximation import RBFSampler
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import Pipeline

from paqdb.errors import InvalidParameterError
from paqdb.ml.families import TrainingShape, families_for, get_family
from paqdb.ml.model import TrainedModel, class_probabilities
from paqdb.ml.training import train_model

FAMILY = get_family("kernel_approximation")


@pytest.mark.parametrize("task", ["classification", "regression"])
def test_is_offered_for_both_tasks_under_its_alias(task: str) -> None:
    assert FAMILY in families_for(task)  # type: ignore[arg-type]
    assert get_family("Random_Features") is FAMILY
    assert FAMILY.encoding == "onehot" and FAMILY.resource is None


def test_builds_random_features_then_the_task_s_linear_model() -> None:
    shape = TrainingShape(1000, 100, None, n_features=50, n_classes=2)
    classifier = FAMILY.build("classification", {"C": 3.0, "n_components": 256}, 7, shape)
    assert isinstance(classifier, Pipeline) and [name for name, _ in classifier.steps] == [
        "features",
        "model",
    ]
    features, model = classifier.named_steps["features"], classifier.named_steps["model"]
    assert isinstance(features, RBFSampler) and isinstance(model, LogisticRegression)
    assert features.gamma == pytest.approx(1 / 50) and features.n_components == 256
    assert features.random_state == 7 and model.C == 3.0
    # The linear model reads 256 random features, so it is not the Newton solver of narrow data.
    assert model.solver == "lbfgs"

    regressor = FAMILY.build(
        "regression", {"alpha": 10.0, "gamma": 0.5}, 7, TrainingShape(1000, n_features=50)
    )
    features, model = regressor.named_steps["features"], regressor.named_steps["model"]
    assert isinstance(model, Ridge) and model.alpha == 10.0 and features.gamma == 0.5
    assert model.solver == "cholesky"
    assert (
        FAMILY.build("regression", {"n_components": 4096}, 0, TrainingShape(10_000, n_features=50))
        .named_steps["model"]
        .solver
        == "lsqr"
    )


def test_default_gamma_without_a_known_width_is_scikit_learn_scale() -> None:
    estimator = FAMILY.build("classification", None, 0)
    assert estimator.named_steps["features"].gamma == "scale"


def test_hyperparameters_of_the_other_task_are_left_out() -> None:
    assert FAMILY.applies_to("C", "classification") and not FAMILY.applies_to("C", "regression")
    assert FAMILY.applies_to("gamma", "regression") and FAMILY.applies_to("gamma", "classification")
    assert set(FAMILY.space_for("classification")) == {"gamma", "n_components", "C"}
    assert set(FAMILY.space_for("regression")) == {"gamma", "n_components", "alpha"}
    assert "alpha" not in FAMILY.hyperparameter_names_for("classification")
    assert {"C", "alpha"} <= FAMILY.hyperparameter_names
    assert set(FAMILY.configuration({"C": 2.0}, "regression")) == {"gamma", "n_components", "alpha"}
    assert FAMILY.configuration({"C": 2.0})["C"] == 2.0
    # An override for the other task is ignored, as a search applies it to every family that has it.
    assert FAMILY.build("regression", {"C": 2.0}, 0).named_steps["model"].alpha == 1.0
    with pytest.raises(InvalidParameterError, match="has no hyperparameter 'depth'"):
        FAMILY.configuration({"depth": 3}, "regression")
    # Families without task-only hyperparameters are unchanged.
    logistic = get_family("logistic")
    assert logistic.space_for("classification") == dict(logistic.space)


def test_n_components_is_a_whole_number() -> None:
    assert FAMILY.configuration({"n_components": 300.4})["n_components"] == 300


def _features(table: pa.Table, label: str) -> list[pa.Array]:
    return [table.column(name).combine_chunks() for name in table.column_names if name != label]


def test_classifier_trains_predicts_probabilities_and_round_trips(classification_table: pa.Table) -> None:
    model = train_model(
        classification_table, "label", family="random_features", hyperparameters={"n_components": 128}
    )
    assert model.family == "kernel_approximation"
    assert isinstance(model.estimator, Pipeline)
    features = _features(classification_table, "label")
    prediction, confidence = model.predict_arrow(features)
    truth = classification_table.column("label").to_pylist()
    assert np.mean([a == b for a, b in zip(prediction.to_pylist(), truth, strict=True)]) > 0.8
    assert confidence is not None and min(confidence.to_pylist()) >= 0.5
    matrix = model.featurize(features)
    probabilities = class_probabilities(model.estimator, matrix, 2)
    np.testing.assert_allclose(probabilities, model.estimator.predict_proba(matrix))
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0)

    restored = TrainedModel.from_bytes(model.to_bytes())
    restored_prediction, restored_confidence = restored.predict_arrow(features)
    assert restored_prediction.equals(prediction)
    assert restored_confidence is not None and restored_confidence.equals(confidence)
    assert restored.hyperparameters == model.hyperparameters


def test_regressor_trains_and_round_trips(regression_table: pa.Table) -> None:
    model = train_model(regression_table, "amount", family="kernel_approximation")
    features = _features(regression_table, "amount")
    prediction, _ = model.predict_arrow(features)
    truth = np.asarray(regression_table.column("amount").to_pylist())
    predicted = np.asarray(prediction.to_pylist())
    r2 = 1 - np.sum((predicted - truth) ** 2) / np.sum((truth - truth.mean()) ** 2)
    assert r2 > 0.7
    restored = TrainedModel.from_bytes(model.to_bytes())
    assert restored.predict_arrow(features)[0].equals(prediction)
    assert isinstance(restored.estimator.named_steps["model"], Ridge)
