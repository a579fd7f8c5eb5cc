"""Fixed pipeline steps in a search specification: PCA materialised once, carried into the stored model."""

from __future__ import annotations

import contextlib

import numpy as np
import pyarrow as pa
import pytest
from sklearn.pipeline import Pipeline

import paqdb
from paqdb import datasets
from paqdb.errors import InvalidParameterError
from paqdb.ml.model import TrainedModel
from paqdb.search import SearchSpec, search_for
from paqdb.search.trials import prepare_search


@pytest.fixture(scope="module")
def digits() -> pa.Table:
    return datasets.load("digits")


@pytest.mark.parametrize("strategy", ["random", "tupaq"])
def test_pca_is_fitted_once_and_travels_with_the_model(digits: pa.Table, strategy: str) -> None:
    spec = SearchSpec.from_options(
        {"strategy": strategy, "families": ["logistic"], "budget": "3 trials", "pca": 16}
    )
    _, _, runner = prepare_search(digits, "digit", spec)
    train, validation, shape = runner.training_matrices(spec.resolve("classification").families[0])
    assert train.shape[1] == validation.shape[1] == 16 and shape.n_features == 16

    result = search_for(spec).run(digits, "digit", spec)
    estimator = result.model.estimator
    assert isinstance(estimator, Pipeline) and estimator.named_steps["pca"].n_components_ == 16
    assert result.validation_score > 0.8
    # The stored model projects new rows the same way: it survives a round trip and predicts alike.
    features = digits.drop_columns(["digit"]).slice(0, 200)
    loaded = TrainedModel.from_bytes(result.model.to_bytes())
    assert loaded.predict_arrow(features)[0].equals(result.model.predict_arrow(features)[0])


def test_pca_leaves_tree_families_alone(digits: pa.Table) -> None:
    spec = SearchSpec.from_options(
        {"strategy": "random", "families": ["random_forest"], "budget": "1 trials", "pca": 8}
    )
    result = search_for(spec).run(digits, "digit", spec)
    assert not isinstance(result.model.estimator, Pipeline)


def test_pca_from_sql_and_explain() -> None:
    with contextlib.closing(paqdb.connect(autocommit=True)) as con:
        con.execute("LOAD DATASET digits")
        search = "USING SEARCH (families => ['logistic'], budget => '2 trials', pca => 10)"
        plan = [
            r[0] for r in con.execute(f"EXPLAIN CREATE MODEL d PREDICT digit FROM digits {search}").fetchall()
        ]
        assert any("pca=10" in line for line in plan)
        con.execute(f"CREATE MODEL d PREDICT digit FROM digits {search}")
        agree = con.execute("SELECT avg((PREDICT(digit USING MODEL d) = digit)::INT) FROM digits").fetchone()[
            0
        ]
        assert agree > 0.8


@pytest.mark.parametrize("value", [0, -3, 2.5, "many", True])
def test_bad_pca_values_are_clear_errors(value: object) -> None:
    with pytest.raises(InvalidParameterError, match="pca"):
        SearchSpec.from_options({"pca": value})


def test_pca_wider_than_the_data_keeps_what_there_is(digits: pa.Table) -> None:
    spec = SearchSpec.from_options(
        {"strategy": "random", "families": ["logistic"], "budget": "1 trials", "pca": 500}
    )
    result = search_for(spec).run(digits, "digit", spec)
    assert result.model.estimator.named_steps["pca"].n_components_ == 64
    assert np.isfinite(result.validation_score)
