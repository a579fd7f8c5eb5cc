"""The TPE search strategy: optuna's TPE sampler proposes configurations, behind strategy => 'tpe'."""

from __future__ import annotations

import contextlib
import math
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

import paqdb
from paqdb import datasets
from paqdb.ml.families import get_family
from paqdb.options import Range
from paqdb.search import RandomSearch, SearchSpec, search_for
from paqdb.search.proposals import ConfigurationStream, TPEStream, configuration_stream
from paqdb.search.spec import STRATEGIES


@pytest.fixture(scope="module")
def cancer() -> pa.Table:
    return datasets.load("breast_cancer")


def _spec(**options: object) -> SearchSpec:
    return SearchSpec.from_options({"strategy": "tpe", **options})


def _drive(stream: TPEStream | ConfigurationStream, count: int, objective: Any) -> list[dict[str, Any]]:
    proposals = []
    for _ in range(count):
        configuration = stream.next()
        assert configuration is not None
        proposals.append(configuration)
        stream.report(configuration, objective(configuration))
    return proposals


def test_tpe_is_a_strategy_served_by_random_search() -> None:
    assert "tpe" in STRATEGIES
    assert _spec().strategy == "tpe"
    assert isinstance(search_for(_spec()), RandomSearch)
    assert SearchSpec().strategy == "tupaq"


def test_proposals_respect_the_space_and_fixed_hyperparameters() -> None:
    spec = _spec(
        families=["gradient_boosting"],
        max_iter=[20],
        max_leaf_nodes=Range(4, 32, "int"),
        learning_rate=Range(1e-3, 1.0, "log"),
        l2_regularization=Range(0.0, 2.0),
    )
    plan = spec.resolve("classification")
    stream = configuration_stream(plan.families[0], plan)
    assert isinstance(stream, TPEStream)
    rng = np.random.default_rng(0)
    proposals = _drive(stream, 25, lambda _: float(rng.uniform()))
    max_depths = set()
    for configuration in proposals:
        assert configuration["max_iter"] == 20
        leaves = configuration["max_leaf_nodes"]
        assert isinstance(leaves, int) and 4 <= leaves <= 32
        assert 1e-3 <= configuration["learning_rate"] <= 1.0
        assert 0.0 <= configuration["l2_regularization"] <= 2.0
        assert configuration["max_depth"] in (None, 4, 8)
        assert configuration["min_samples_leaf"] in (10, 20, 40, 80)
        max_depths.add(configuration["max_depth"])
    assert proposals[0]["learning_rate"] == 0.1  # the family defaults come first
    assert None in max_depths and len(max_depths) > 1
    # Log scale: about as many proposals below the geometric middle (0.03) as above it, far more than a
    # linear draw would put there (3%).
    assert sum(c["learning_rate"] < 0.0316 for c in proposals) >= 5


def test_list_values_such_as_layer_sizes_come_back_as_given() -> None:
    plan = _spec(families=["mlp"]).resolve("classification")
    stream = configuration_stream(plan.families[0], plan)
    proposals = _drive(stream, 15, lambda c: -math.log10(c["alpha"]))
    assert all(c["hidden_layer_sizes"] in ([64], [128], [64, 64], [128, 64]) for c in proposals)
    assert all(1e-5 <= c["alpha"] <= 1e-1 for c in proposals)


def test_a_finite_space_is_exhausted_without_repeats() -> None:
    family = get_family("random_forest")
    space = {"max_depth": [None, 10], "min_samples_leaf": [1, 2]}
    stream = TPEStream(family, space, seed=0, overridden=frozenset(space))
    seen = []
    while (configuration := stream.next()) is not None:
        seen.append(configuration)
        stream.report(configuration, None if configuration["max_depth"] is None else 0.5)
    keys = {(c["max_depth"], c["min_samples_leaf"]) for c in seen}
    assert len(seen) == len(keys) == 4


def _objective(configuration: dict[str, Any]) -> float:
    return -((math.log10(configuration["C"]) - 0.0) ** 2)


def test_tpe_concentrates_proposals_near_the_optimum() -> None:
    family = get_family("logistic")
    space = {"C": Range(1e-3, 1e2, "log")}
    distances: dict[str, float] = {}
    for name, stream in (
        ("tpe", TPEStream(family, space, seed=3)),
        ("random", ConfigurationStream(family, space, "random", seed=3)),
    ):
        proposals = _drive(stream, 50, _objective)
        # The median squared distance of the 20 proposals made after 30 reports (robust to TPE's
        # occasional exploring draws).
        distances[name] = float(np.median([-_objective(c) for c in proposals[30:]]))
    # Uniform draws of log10(C) in [-3, 2] have a median squared distance of about 1.4 from 0.
    assert distances["random"] > 0.8
    assert distances["tpe"] < 0.5 and distances["tpe"] < 0.5 * distances["random"]


def test_minimising_metrics_are_minimised() -> None:
    family = get_family("logistic")
    space = {"C": Range(1e-3, 1e2, "log")}
    stream = TPEStream(family, space, seed=1, maximize=False)
    proposals = _drive(stream, 50, lambda c: -_objective(c))
    assert np.median([-_objective(c) for c in proposals[30:]]) < 0.5


def test_proposals_are_reproducible_with_a_seed() -> None:
    family = get_family("logistic")
    space = {"C": Range(1e-3, 1e2, "log")}
    first = _drive(TPEStream(family, space, seed=7), 20, _objective)
    second = _drive(TPEStream(family, space, seed=7), 20, _objective)
    other = _drive(TPEStream(family, space, seed=8), 20, _objective)
    assert first == second and first != other


def test_tpe_search_returns_a_working_reproducible_model(cancer: pa.Table) -> None:
    spec = _spec(budget="8 trials", families=["logistic"], seed=5)
    result = search_for(spec).run(cancer, "diagnosis", spec)
    assert len(result.trials) == 8 and result.details["strategy"] == "tpe"
    assert result.refit and result.validation_score > 0.9
    prediction, _ = result.model.predict_arrow(cancer)
    truth = np.asarray(cancer.column("diagnosis").to_pylist())
    assert np.mean(np.asarray(prediction.to_pylist()) == truth) > 0.9
    again = search_for(spec).run(cancer, "diagnosis", spec)
    assert [t.hyperparameters for t in again.trials] == [t.hyperparameters for t in result.trials]


def test_failed_trials_are_told_and_the_search_goes_on(cancer: pa.Table) -> None:
    # A negative C fails in scikit-learn; the sampler is told FAIL and proposes again.
    spec = _spec(budget="6 trials", families=["logistic"], C=Range(-1.0, 1.0))
    result = RandomSearch().run(cancer, "diagnosis", spec)
    assert len(result.trials) == 6
    assert any(t.status == "failed" for t in result.trials)
    assert result.best_trial.hyperparameters["C"] > 0


def test_create_model_with_tpe_end_to_end_and_describe() -> None:
    with contextlib.closing(paqdb.connect(autocommit=True)) as con:
        con.execute("LOAD DATASET breast_cancer")
        cur = con.execute(
            "CREATE MODEL m PREDICT diagnosis FROM breast_cancer "
            "USING SEARCH (strategy => 'tpe', budget => '8 trials', families => ['logistic'])"
        )
        assert cur.message and "m version 1" in cur.message
        described = con.execute("DESCRIBE MODEL m")
        assert len(described.fetchall()) == 8
