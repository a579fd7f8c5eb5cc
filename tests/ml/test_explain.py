"""Explanations (issue 10, item 3): permutation importance and per-row contributions (paqdb.ml.explain)."""

from __future__ import annotations

import itertools

import numpy as np
import pyarrow as pa
import pytest

from paqdb.errors import NotSupportedError
from paqdb.ml import explain
from paqdb.ml.metrics import get_metric
from paqdb.ml.model import TrainedModel
from paqdb.ml.training import train_model
from paqdb.search import Budget, SearchSpec, search_for

from .synthetic import synthetic_table

_SMALL = {
    "random_forest": {"n_estimators": 15},
    "gradient_boosting": {"max_iter": 25},
}


def _labels(table: pa.Table, kind: str) -> pa.Table:
    """``table``'s features with a label ``y``: binary, three classes, or a number."""
    features = table.drop(["label", "amount"])
    if kind == "binary":
        return features.append_column("y", table.column("label"))
    if kind == "regression":
        return features.append_column("y", table.column("amount"))
    amount = table.column("amount").to_numpy()
    classes = np.where(amount > 1.0, "high", np.where(amount > -1.0, "mid", "low"))
    return features.append_column("y", pa.array(classes.tolist()))


_CASES = [
    (family, kind)
    for family, kind in itertools.product(
        ["logistic", "linear_svm", "ridge", "random_forest", "gradient_boosting"],
        ["binary", "multiclass", "regression"],
    )
    if (family == "ridge") == (kind == "regression") or family in ("random_forest", "gradient_boosting")
]


@pytest.mark.parametrize(("family", "kind"), _CASES, ids=[f"{f}-{k}" for f, k in _CASES])
def test_base_value_plus_contributions_is_the_raw_output(family: str, kind: str) -> None:
    table = _labels(synthetic_table(400, seed=3), kind)
    model = train_model(table, "y", family=family, hyperparameters=_SMALL.get(family))
    features = table.drop(["y"])
    explained = explain.explainer_for(model).explain(features)
    assert explained.contributions.shape == (features.num_rows, len(model.feature_names))
    raw = explain.raw_output(model, model.featurize(features), explained.explained_class)
    total = explained.base_value + explained.contributions.sum(axis=1)
    np.testing.assert_allclose(total, raw, rtol=1e-9, atol=1e-9)
    if kind == "regression":
        assert explained.explained_class is None
        np.testing.assert_allclose(total, np.asarray(model.estimator.predict(model.featurize(features))))
    elif kind == "binary":
        assert set(explained.explained_class.tolist()) == {1}  # the positive class: the second
    else:
        # The predicted class is the one explained.
        predicted = model.predict_probabilities(model.featurize(features)).argmax(axis=1)
        np.testing.assert_array_equal(explained.explained_class, predicted)
    # Every column with a signal gets a contribution somewhere.
    assert np.abs(explained.contributions).sum(axis=0).min() > 0


def test_linear_contributions_are_weight_times_distance_to_the_training_mean() -> None:
    table = _labels(synthetic_table(300, seed=5), "binary")
    model = train_model(table, "y", family="logistic")
    features = table.drop(["y"])
    matrix = model.featurize(features)
    means = np.asarray(model.info[explain.REFERENCE_KEY])
    np.testing.assert_allclose(means, matrix.mean(axis=0))
    explained = explain.explainer_for(model).explain(features)
    weights = model.estimator.coef_[0]
    owners = explain.slot_owners(model.featurizer, model.encoding)
    expected = np.zeros((matrix.shape[0], len(model.feature_names)))
    np.add.at(expected.T, owners, ((matrix - means) * weights).T)
    np.testing.assert_allclose(explained.contributions, expected, atol=1e-12)
    np.testing.assert_allclose(explained.base_value, model.estimator.intercept_[0] + means @ weights)
    # The reference is the training mean: over the training rows every column's contributions average 0.
    np.testing.assert_allclose(explained.contributions.mean(axis=0), 0.0, atol=1e-9)
    # city is one-hot: its contribution is the sum over its slots.
    assert model.featurizer.columns_[model.feature_names.index("city")].n_slots > 1


def test_boosting_native_categorical_splits_are_followed_as_scikit_learn_does() -> None:
    table = _labels(synthetic_table(500, seed=7), "binary")
    model = train_model(
        table, "y", family="gradient_boosting", hyperparameters={"max_iter": 20, "native_categorical": True}
    )
    assert any(
        predictor.nodes["is_categorical"].any()
        for iteration in model.estimator._predictors
        for predictor in iteration
    )
    features = table.drop(["y"])
    explained = explain.explainer_for(model).explain(features)
    raw = model.estimator._raw_predict(model.featurize(features))[:, 0]
    np.testing.assert_allclose(explained.base_value + explained.contributions.sum(axis=1), raw, atol=1e-9)


def test_a_model_without_a_stored_reference_is_explained_against_zeros() -> None:
    table = _labels(synthetic_table(200, seed=1), "regression")
    trained = train_model(table, "y", family="ridge")
    info = {k: v for k, v in trained.info.items() if k != explain.REFERENCE_KEY}
    old = TrainedModel.from_bytes(
        TrainedModel(
            task=trained.task,
            label=trained.label,
            label_type=trained.label_type,
            feature_schema=trained.feature_schema,
            family=trained.family,
            hyperparameters=trained.hyperparameters,
            classes=trained.classes,
            featurizer=trained.featurizer,
            estimator=trained.estimator,
            info=info,
        ).to_bytes()
    )
    features = table.drop(["y"])
    explained = explain.explainer_for(old).explain(features)
    assert explained.base_value[0] == pytest.approx(float(old.estimator.intercept_))
    np.testing.assert_allclose(
        explained.base_value + explained.contributions.sum(axis=1),
        old.estimator.predict(old.featurize(features)),
        atol=1e-9,
    )
    rows, stored = explain.importance_rows(old)
    assert stored is None
    assert [r.feature for r in rows] == old.feature_names
    assert all(r.importance is None and r.rank is None for r in rows)


@pytest.mark.parametrize("family", ["mlp", "kernel_approximation"])
def test_families_without_contributions_are_refused_naming_those_with(family: str) -> None:
    table = _labels(synthetic_table(120, seed=2), "binary")
    model = train_model(
        table, "y", family=family, hyperparameters={"max_iter": 5} if family == "mlp" else None
    )
    with pytest.raises(NotSupportedError) as caught:
        explain.explainer_for(model)
    assert family in caught.value.message
    assert caught.value.hint is not None and "random_forest" in caught.value.hint


def _informative_table(n_rows: int = 1500, seed: int = 0) -> pa.Table:
    rng = np.random.default_rng(seed)
    signal = rng.normal(size=n_rows)
    weak = rng.normal(size=n_rows)
    noise = rng.normal(size=n_rows)
    colour = rng.choice(["red", "green", "blue"], n_rows)
    score = 3.0 * signal + 0.5 * weak + rng.normal(scale=0.3, size=n_rows)
    return pa.table(
        {
            "noise": noise,
            "weak": weak,
            "colour": colour.tolist(),
            "signal": signal,
            "y": np.where(score > 0, "yes", "no").tolist(),
        }
    )


@pytest.mark.parametrize("family", ["logistic", "gradient_boosting"])
def test_a_search_stores_permutation_importance_with_its_model(family: str) -> None:
    table = _informative_table()
    spec = SearchSpec(families=(family,), budget=Budget(trials=2), seed=1)
    result = search_for(spec).run(table, "y", spec)
    stored = result.model.info[explain.IMPORTANCE_KEY]
    assert stored["metric"] == "accuracy" and stored["repeats"] == explain.IMPORTANCE_REPEATS
    assert 0 < stored["rows"] <= len(table) * 0.2 + 1
    importance = {e["feature"]: e["importance"] for e in stored["features"]}
    assert list(importance) == ["noise", "weak", "colour", "signal"]  # input column order
    assert max(importance, key=importance.__getitem__) == "signal"
    assert importance["signal"] > 0.2
    assert abs(importance["noise"]) < 0.02 and abs(importance["colour"]) < 0.02
    rows, _ = explain.importance_rows(result.model)
    assert rows[0].feature == "signal" and [r.rank for r in rows] == [1, 2, 3, 4]
    # The stored importance survives the artifact.
    again = TrainedModel.from_bytes(result.model.to_bytes())
    assert again.info[explain.IMPORTANCE_KEY] == stored


def test_importance_under_a_time_limit_scores_fewer_rows() -> None:
    table = _informative_table(3000)
    model = train_model(table, "y", family="logistic")
    problem = explain.ImportanceProblem(
        estimator=model.estimator,
        featurizer=model.featurizer,
        encoding=model.encoding,
        metric=get_metric("accuracy", "classification"),
        task="classification",
        n_classes=2,
        positive_class=1,
    )
    target = (np.asarray(table.column("y").to_pylist()) == "yes").astype(np.int64)
    ticks = itertools.count()

    def clock() -> float:  # every reading is a second later: scoring looks slow
        return float(next(ticks))

    features = table.drop(["y"])
    free = explain.permutation_importance(problem, features, target, seed=3)
    limited = explain.permutation_importance(problem, features, target, seed=3, max_seconds=1.0, clock=clock)
    assert free is not None and limited is not None
    assert free["rows"] == explain.IMPORTANCE_ROWS
    assert limited["rows"] == explain.IMPORTANCE_MIN_ROWS
    assert [e["feature"] for e in limited["features"]] == ["noise", "weak", "colour", "signal"]
    # Seeded: the same call gives the same figures.
    again = explain.permutation_importance(problem, features, target, seed=3)
    assert again is not None and again["features"] == free["features"]


def test_importance_is_none_when_the_metric_is_undefined() -> None:
    table = _informative_table(200)
    model = train_model(table, "y", family="logistic")
    problem = explain.ImportanceProblem(
        estimator=model.estimator,
        featurizer=model.featurizer,
        encoding=model.encoding,
        metric=get_metric("auc", "classification"),
        task="classification",
        n_classes=2,
    )
    one_class = np.ones(table.num_rows, dtype=np.int64)  # AUC needs both classes
    assert explain.permutation_importance(problem, table.drop(["y"]), one_class) is None


def test_a_linear_model_behind_pca_is_explained_through_the_projection() -> None:
    table = _labels(synthetic_table(400, seed=11), "binary")
    spec = SearchSpec(families=("logistic",), budget=Budget(trials=1), pca=3)
    model = search_for(spec).run(table, "y", spec).model
    assert hasattr(model.estimator, "steps")  # PCA, then the logistic model
    assert explain.REFERENCE_KEY not in model.info  # the projection's mean is the reference
    features = table.drop(["y"])
    explained = explain.explainer_for(model).explain(features)
    decision = model.estimator.decision_function(model.featurize(features))
    np.testing.assert_allclose(
        explained.base_value + explained.contributions.sum(axis=1), decision, atol=1e-9
    )
    assert model.info[explain.IMPORTANCE_KEY]["features"][0]["feature"] == "age"
