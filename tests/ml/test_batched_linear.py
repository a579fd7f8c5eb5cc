"""Batched training of linear models: batching must not change any configuration's result."""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import numpy as np
import pyarrow as pa
import pytest
import skops.io as skops_io
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC
from threadpoolctl import threadpool_limits

from paqdb.errors import InvalidParameterError, TrainingError
from paqdb.ml.batched_linear import (
    MAX_CONFIGURATIONS_PER_BATCH,
    BatchedLinearTrainer,
    batch_size_for,
    family_loss,
    resolve_loss,
)
from paqdb.ml.families import FAMILIES
from paqdb.ml.features import Featurizer
from paqdb.ml.model import TrainedModel

from .synthetic import synthetic_table

CLASSIFICATION_LOSSES = ["logistic", "hinge", "squared_hinge"]


@pytest.fixture(autouse=True)
def one_blas_thread() -> Iterator[None]:
    """Small problems: extra BLAS threads only contend (lbfgs on digits: 3 s on 2 busy cores, 0.05 s on 1)."""
    with threadpool_limits(limits=1):
        yield


def classification_data(n_classes: int, n_rows: int = 400, n_features: int = 12, seed: int = 0):
    """Standardised features and labels with some signal and some noise, split 3:1."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_rows, n_features))
    centers = rng.standard_normal((n_classes, n_features))
    labels = (X @ centers.T + rng.standard_normal((n_rows, n_classes))).argmax(axis=1)
    cut = n_rows * 3 // 4
    return X[:cut], labels[:cut], X[cut:], labels[cut:]


def regression_data(n_rows: int = 400, n_features: int = 12, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_rows, n_features))
    y = X @ rng.standard_normal(n_features) + 3.0 + rng.normal(0, 0.5, n_rows)
    cut = n_rows * 3 // 4
    return X[:cut], y[:cut], X[cut:], y[cut:]


def sixteen_configurations(loss: str, seed: int = 1) -> list[dict]:
    """16 configurations spanning the regulariser (in both conventions), the step and the intercept."""
    rng = np.random.default_rng(seed)
    configurations = []
    for i in range(16):
        configuration: dict = {
            "learning_rate": float(rng.uniform(0.3, 1.5)),
            "fit_intercept": bool(i % 5 != 4),
        }
        if loss == "squared" or i % 4 == 3:
            configuration["alpha"] = float(10 ** rng.uniform(-4, 1))
        else:
            configuration["C"] = float(10 ** rng.uniform(-3, 2))
        configurations.append(configuration)
    return configurations


def assert_same_model(batched, single, index: int) -> None:
    mine, alone = batched.estimator(index), single.estimator(0)
    np.testing.assert_allclose(mine.coef_, alone.coef_, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(mine.intercept_, alone.intercept_, rtol=1e-6, atol=1e-8)


# Physical batching does not change results.


@pytest.mark.parametrize("batch_size", [32, None])
@pytest.mark.parametrize("n_classes", [2, 4])
@pytest.mark.parametrize("loss", CLASSIFICATION_LOSSES)
def test_batched_equals_alone_classification(loss: str, n_classes: int, batch_size: int | None) -> None:
    X, y, X_val, y_val = classification_data(n_classes)
    configurations = sixteen_configurations(loss)
    batched = BatchedLinearTrainer(loss, configurations, batch_size=batch_size, seed=7).start(X, y)
    batched.advance(12)
    batched_scores = batched.scores(X_val, y_val, "log_loss")
    batched_accuracy = batched.scores(X_val, y_val, "accuracy")
    for i, configuration in enumerate(configurations):
        single = BatchedLinearTrainer(loss, [configuration], batch_size=batch_size, seed=7).start(X, y)
        single.advance(12)
        assert_same_model(batched, single, i)
        assert batched_scores[i] == pytest.approx(single.scores(X_val, y_val, "log_loss")[0], rel=1e-9)
        assert batched_accuracy[i] == single.scores(X_val, y_val, "accuracy")[0]


@pytest.mark.parametrize("batch_size", [32, None])
def test_batched_equals_alone_regression(batch_size: int | None) -> None:
    X, y, X_val, y_val = regression_data()
    configurations = sixteen_configurations("squared")
    batched = BatchedLinearTrainer("squared", configurations, batch_size=batch_size, seed=7).start(X, y)
    batched.advance(12)
    batched_scores = batched.scores(X_val, y_val, "rmse")
    for i, configuration in enumerate(configurations):
        single = BatchedLinearTrainer("squared", [configuration], batch_size=batch_size, seed=7).start(X, y)
        single.advance(12)
        assert_same_model(batched, single, i)
        assert batched_scores[i] == pytest.approx(single.scores(X_val, y_val, "rmse")[0], rel=1e-9)


@pytest.mark.parametrize("loss", ["logistic", "hinge", "squared"])
def test_dropping_leaves_the_others_unchanged(loss: str) -> None:
    if loss == "squared":
        X, y, _, _ = regression_data()
    else:
        X, y, _, _ = classification_data(3)
    configurations = sixteen_configurations(loss)[:8]
    reference = BatchedLinearTrainer(loss, configurations, batch_size=50).start(X, y)
    reference.advance(10)
    trainer = BatchedLinearTrainer(loss, configurations, batch_size=50).start(X, y)
    trainer.advance(4)
    halfway = {i: trainer.estimator(i).coef_ for i in (1, 4, 6)}
    trainer.drop([6, 1, 4])
    assert trainer.active == [0, 2, 3, 5, 7]
    trainer.advance(6)
    for i in trainer.active:
        np.testing.assert_allclose(
            trainer.estimator(i).coef_, reference.estimator(i).coef_, rtol=1e-6, atol=1e-8
        )
    # A dropped configuration keeps the weights and the epoch count it had when it stopped.
    for i, coef in halfway.items():
        np.testing.assert_array_equal(trainer.estimator(i).coef_, coef)
    assert trainer.epochs_.tolist() == [10, 4, 10, 10, 4, 10, 4, 10]
    assert trainer.decision_function(X).shape[1] == 5
    trainer.drop(trainer.active)
    assert trainer.active == []
    trainer.advance(3)  # nothing left to train: a no-op
    assert trainer.epochs_.max() == 10


def test_rounds_and_seeds() -> None:
    X, y, _, _ = classification_data(2)
    configurations = sixteen_configurations("logistic")[:3]
    in_rounds = BatchedLinearTrainer("logistic", configurations, batch_size=40, seed=3).start(X, y)
    for _ in range(3):
        in_rounds.advance(4)
    at_once = BatchedLinearTrainer("logistic", configurations, batch_size=40, seed=3).start(X, y)
    at_once.advance(12)
    np.testing.assert_array_equal(in_rounds.decision_function(X), at_once.decision_function(X))
    other_seed = BatchedLinearTrainer("logistic", configurations, batch_size=40, seed=4).start(X, y)
    other_seed.advance(12)
    assert not np.array_equal(other_seed.decision_function(X), at_once.decision_function(X))
    # start() begins again from zero weights and the seed's first epoch.
    at_once.start(X, y).advance(12)
    np.testing.assert_array_equal(in_rounds.decision_function(X), at_once.decision_function(X))


def test_c_and_alpha_are_one_strength_in_two_conventions() -> None:
    X, y, _, _ = classification_data(2)
    n_rows = len(y)
    by_c = BatchedLinearTrainer("logistic", [{"C": 0.5}]).start(X, y)
    by_alpha = BatchedLinearTrainer("logistic", [{"alpha": 1.0 / (0.5 * n_rows)}]).start(X, y)
    by_c.advance(5)
    by_alpha.advance(5)
    np.testing.assert_allclose(by_c.estimator(0).coef_, by_alpha.estimator(0).coef_, rtol=1e-12)
    assert pytest.approx(0.5) == by_alpha.estimator(0).C


# The objectives are scikit-learn's.


def test_full_batch_descent_reaches_sklearn_optima() -> None:
    X, y, _, _ = classification_data(2, n_rows=300, n_features=5)
    trainer = BatchedLinearTrainer("logistic", [{"C": 0.05}], batch_size=None).start(X, y)
    trainer.advance(400)
    reference = LogisticRegression(C=0.05, tol=1e-10).fit(X, y)
    np.testing.assert_allclose(trainer.estimator(0).coef_, reference.coef_, atol=1e-4)
    np.testing.assert_allclose(trainer.estimator(0).intercept_, reference.intercept_, atol=1e-4)

    X, y, _, _ = regression_data(n_features=5)
    trainer = BatchedLinearTrainer("ridge", [{"alpha": 10.0}], batch_size=None).start(X, y)
    trainer.advance(400)
    ridge = Ridge(alpha=10.0).fit(X, y)
    np.testing.assert_allclose(trainer.estimator(0).coef_, ridge.coef_, atol=1e-6)
    assert trainer.estimator(0).intercept_ == pytest.approx(ridge.intercept_, abs=1e-6)


def split_standardised(X: np.ndarray, y: np.ndarray):
    stratify = y if y.dtype.kind in "iu" else None
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.3, random_state=0, stratify=stratify
    )
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test), y_train, y_test


GRID = [0.01, 0.1, 1.0, 10.0, 100.0]


def best_accuracy(loss: str, X, y, X_test, y_test, epochs: int) -> float:
    trainer = BatchedLinearTrainer(loss, [{"C": c} for c in GRID], batch_size=64).start(X, y)
    trainer.advance(epochs)
    return max(trainer.scores(X_test, y_test, "accuracy").values())


def test_quality_breast_cancer() -> None:
    X, X_test, y, y_test = split_standardised(*load_breast_cancer(return_X_y=True))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        logistic = max(LogisticRegression(C=c).fit(X, y).score(X_test, y_test) for c in GRID)
        svm = max(LinearSVC(C=c).fit(X, y).score(X_test, y_test) for c in GRID)
    assert best_accuracy("logistic", X, y, X_test, y_test, 40) >= logistic - 0.02
    assert best_accuracy("squared_hinge", X, y, X_test, y_test, 40) >= svm - 0.02
    assert best_accuracy("hinge", X, y, X_test, y_test, 40) >= svm - 0.02


def test_quality_digits() -> None:
    X, X_test, y, y_test = split_standardised(*load_digits(return_X_y=True))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        logistic = max(
            LogisticRegression(C=c, max_iter=200).fit(X, y).score(X_test, y_test) for c in GRID[1:4]
        )
    assert logistic > 0.95
    assert best_accuracy("logistic", X, y, X_test, y_test, 60) >= logistic - 0.02
    assert best_accuracy("squared_hinge", X, y, X_test, y_test, 60) >= logistic - 0.025


def test_quality_diabetes_ridge() -> None:
    X, X_test, y, y_test = split_standardised(*load_diabetes(return_X_y=True))
    alphas = [0.1, 1.0, 10.0, 100.0]
    trainer = BatchedLinearTrainer("ridge", [{"alpha": a} for a in alphas], batch_size=None).start(X, y)
    trainer.advance(1000)
    r2 = trainer.scores(X_test, y_test, "r2")
    for i, alpha in enumerate(alphas):
        assert r2[i] == pytest.approx(Ridge(alpha=alpha).fit(X, y).score(X_test, y_test), abs=0.01)


# The models are real scikit-learn estimators.


@pytest.mark.parametrize(
    ("family", "estimator_type", "label"),
    [
        ("logistic", LogisticRegression, "label"),
        ("linear_svm", LinearSVC, "label"),
        ("ridge", Ridge, "amount"),
    ],
)
def test_estimators_predict_and_survive_a_model_round_trip(family, estimator_type, label) -> None:
    table = synthetic_table()
    features = table.drop_columns(["label", "amount"])
    featurizer = Featurizer().fit(features)
    matrix = featurizer.transform(features, "onehot")
    values = np.asarray(table.column(label).to_pylist())
    classes = np.unique(values) if label == "label" else None
    target = np.searchsorted(classes, values) if classes is not None else values
    trainer = BatchedLinearTrainer(family, [{}, {"learning_rate": 0.5}], batch_size=64).start(matrix, target)
    trainer.advance(20)
    estimator = trainer.estimator(1)
    assert isinstance(estimator, estimator_type)
    assert estimator.n_features_in_ == matrix.shape[1]
    margins = trainer.decision_function(matrix)[:, 1]
    outputs = estimator.decision_function(matrix) if classes is not None else estimator.predict(matrix)
    np.testing.assert_allclose(outputs, margins)
    if family == "logistic":
        probabilities = estimator.predict_proba(matrix)
        np.testing.assert_allclose(probabilities[:, 1], 1.0 / (1.0 + np.exp(-margins)))
    if classes is not None:
        np.testing.assert_array_equal(estimator.predict(matrix), (margins > 0).astype(int))
        assert trainer.scores(matrix, target, "accuracy")[1] > 0.75
    else:
        assert trainer.scores(matrix, target, "r2")[1] > 0.8
    # skops stores and restores it, and paqdb's model archive round-trips it.
    stored = skops_io.dumps(estimator)
    restored = skops_io.loads(stored, trusted=skops_io.get_untrusted_types(data=stored))
    np.testing.assert_array_equal(restored.predict(matrix), estimator.predict(matrix))
    model = TrainedModel(
        task="classification" if classes is not None else "regression",
        label=label,
        label_type=table.schema.field(label).type,
        feature_schema=features.schema,
        family=family,
        hyperparameters={"learning_rate": 0.5},
        classes=pa.array(classes.tolist()) if classes is not None else None,
        featurizer=featurizer,
        estimator=estimator,
    )
    loaded = TrainedModel.from_bytes(model.to_bytes())
    before, after = model.predict_arrow(features), loaded.predict_arrow(features)
    assert before[0].equals(after[0])


def test_multiclass_shapes_and_estimators() -> None:
    X, y, X_val, y_val = classification_data(4)
    labels = np.array(["a", "b", "c", "d"])[y]
    trainer = BatchedLinearTrainer("logistic", [{"C": 1.0}, {"C": 0.1}, {"C": 10.0}], batch_size=50)
    trainer.start(X, labels).advance(15)
    assert trainer.classes_ is not None
    assert trainer.classes_.tolist() == ["a", "b", "c", "d"]
    outputs = trainer.decision_function(X_val)
    assert outputs.shape == (len(X_val), 3, 4)
    estimator = trainer.estimator(2)
    np.testing.assert_allclose(estimator.decision_function(X_val), outputs[:, 2, :])
    np.testing.assert_allclose(estimator.predict_proba(X_val).sum(axis=1), 1.0)
    validation_labels = np.array(["a", "b", "c", "d"])[y_val]
    accuracy = trainer.scores(X_val, validation_labels, "accuracy")
    assert accuracy[2] == pytest.approx((estimator.predict(X_val) == validation_labels).mean())
    assert accuracy[2] > 0.6
    svm = BatchedLinearTrainer("squared_hinge", [{"C": 1.0}]).start(X, y)
    svm.advance(5)
    assert isinstance(svm.estimator(0), LinearSVC)
    assert svm.estimator(0).coef_.shape == (4, X.shape[1])


# Bad input.


def test_bad_data_raises_training_errors() -> None:
    X, y, _, _ = classification_data(2)
    trainer = BatchedLinearTrainer("logistic", [{}])
    with pytest.raises(TrainingError, match="no rows"):
        trainer.start(np.empty((0, 3)), np.empty(0))
    with pytest.raises(TrainingError, match="single class"):
        trainer.start(X, np.zeros(len(X)))
    with_nan = X.copy()
    with_nan[3, 2] = np.nan
    with pytest.raises(TrainingError, match="1 NaN or infinite"):
        trainer.start(with_nan, y)
    with pytest.raises(TrainingError, match="one value per training row"):
        trainer.start(X, y[:-1])
    with pytest.raises(TrainingError, match="no feature columns"):
        trainer.start(np.empty((5, 0)), np.arange(5) % 2)
    with pytest.raises(TrainingError, match="not numeric"):
        trainer.start(np.array([["a", "b"], ["c", "d"]]), [0, 1])
    X_reg, y_reg, _, _ = regression_data()
    y_reg = y_reg.copy()
    y_reg[0] = np.nan
    with pytest.raises(TrainingError, match="label has 1 NaN"):
        BatchedLinearTrainer("squared", [{}]).start(X_reg, y_reg)
    trainer.start(X, y)
    with pytest.raises(TrainingError, match="features"):
        trainer.decision_function(X[:, :3])
    with pytest.raises(TrainingError, match="not among the training classes"):
        trainer.scores(X[:4], np.array([0, 1, 2, 1]))


@pytest.mark.parametrize(
    ("loss", "configurations", "match"),
    [
        ("cubic", [{}], "no loss 'cubic'"),
        ("logistic", [], "at least one configuration"),
        ("logistic", {"C": 1.0}, "list of dicts"),
        ("logistic", [{"C": 0.0}], "C must be a finite positive"),
        ("logistic", [{"C": -1}], "C must be a finite positive"),
        ("logistic", [{"C": "big"}], "C must be a number"),
        ("logistic", [{"C": 1.0, "alpha": 0.1}], "both C and alpha"),
        ("logistic", [{"learning_rate": 0}], "learning_rate must be"),
        ("logistic", [{"penalty": "l1"}], "'penalty'"),
        ("logistic", [{"fit_intercept": "yes"}], "fit_intercept"),
        ("squared", [{"C": 1.0}], "'C'"),
        ("squared", [{"alpha": float("nan")}], "alpha must be a finite non-negative"),
    ],
)
def test_bad_configurations_raise_invalid_parameter(loss, configurations, match) -> None:
    X, y, _, _ = classification_data(2)
    with pytest.raises(InvalidParameterError, match=match):
        BatchedLinearTrainer(loss, configurations).start(X, y)


def test_misuse() -> None:
    X, y, _, _ = classification_data(2)
    trainer = BatchedLinearTrainer("logistic", [{}, {}])
    with pytest.raises(NotFittedError):
        trainer.advance(1)
    with pytest.raises(InvalidParameterError, match="batch_size"):
        BatchedLinearTrainer("logistic", [{}], batch_size=0).start(X, y)
    trainer.start(X, y)
    with pytest.raises(ValueError, match="non-negative whole number"):
        trainer.advance(-1)
    with pytest.raises(ValueError, match="not training"):
        trainer.drop([5])
    with pytest.raises(ValueError, match="no configuration 2"):
        trainer.estimator(2)
    with pytest.raises(InvalidParameterError, match="for regression"):
        trainer.scores(X, y, "rmse")


def test_family_names_and_defaults() -> None:
    assert resolve_loss("logistic") == "logistic"
    assert resolve_loss("ridge") == "squared"
    # The linear SVM's loss is whatever the family's estimator minimises.
    svm = FAMILIES["linear_svm"].build("classification", None, 0)
    assert resolve_loss("Linear_SVM") == {"hinge": "hinge", "squared_hinge": "squared_hinge"}[svm.loss]
    with pytest.raises(InvalidParameterError, match="cannot train batched"):
        family_loss("random_forest")
    X, y, _, _ = classification_data(2)
    # A family configuration carries max_iter and tol: accepted, and the epochs stay the caller's choice.
    trainer = BatchedLinearTrainer("logistic", [{"C": 1.0, "max_iter": 500, "tol": 1e-4}, {}]).start(X, y)
    trainer.advance(2)
    assert trainer.epochs_.tolist() == [2, 2]
    assert pytest.approx(1.0) == trainer.estimator(1).C


def test_batch_size_for() -> None:
    # Adult-like: 113 features, binary, mini-batches of 256: a few MB hold the cap.
    assert batch_size_for(113, 2, 256, 64 * 2**20) == MAX_CONFIGURATIONS_PER_BATCH
    per_configuration = 8 * (5 * 113 + 256)
    assert batch_size_for(113, 2, 256, 10 * per_configuration) == 10
    assert batch_size_for(113, 2, 256, 0) == 1
    # Ten classes take ten columns per configuration.
    assert batch_size_for(784, 10, 4000, 2**24) == 2**24 // (8 * 10 * (5 * 784 + 4000))
    assert batch_size_for(784, 10, 4000, 2**24) < batch_size_for(784, 2, 4000, 2**24)
    assert batch_size_for(10, 0, 100, 2**30, maximum=16) == 16
    with pytest.raises(ValueError):
        batch_size_for(0, 2, 100, 2**20)


def test_module_example() -> None:
    import doctest

    from paqdb.ml import batched_linear

    assert doctest.testmod(batched_linear).failed == 0
