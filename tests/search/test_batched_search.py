"""Physical batching inside the bandit search, and the successive-halving and Hyperband rules from a spec.

Batching is a physical optimisation: a search with ``batching`` on must train exactly the models a search
with it off trains (same configurations, same scores, same fates), only in fewer passes over the data.
"""

from __future__ import annotations

import contextlib

import pyarrow as pa
import pytest

import paqdb
from paqdb import datasets
from paqdb.errors import InvalidParameterError
from paqdb.search import SearchSpec, TuPAQSearch, search_for
from paqdb.search.arms import MAX_GROUP_SIZE, BatchedArm, BatchedLinearGroup, batch_width
from paqdb.search.trials import prepare_search


@pytest.fixture(scope="module")
def cancer() -> pa.Table:
    return datasets.load("breast_cancer")


C_GRID = [1e-4, 1e-3, 1e-2, 0.1, 1.0, 10.0]


def _spec(**options: object) -> SearchSpec:
    return SearchSpec.from_options({"strategy": "tupaq", **options})


def _summary(result: object) -> list[tuple[object, ...]]:
    return sorted(
        (
            t.hyperparameters["C"],
            t.status,
            t.resources["epochs"],
            tuple(round(score, 12) for score in t.resources["round_scores"]),
        )
        for t in result.trials  # type: ignore[attr-defined]
    )


@pytest.mark.parametrize("family", ["logistic", "linear_svm"])
def test_batched_and_one_by_one_searches_train_the_same_models(cancer: pa.Table, family: str) -> None:
    batched = TuPAQSearch().run(cancer, "diagnosis", _spec(families=[family], C=C_GRID, budget="6 trials"))
    alone = TuPAQSearch().run(
        cancer, "diagnosis", _spec(families=[family], C=C_GRID, budget="6 trials", batching=False)
    )
    assert batched.details["batches"] == alone.details["batches"] == [6]
    assert batched.details["batching"] and not alone.details["batching"]
    # Same configurations, same per-round scores, same fates: batching changed nothing but the passes.
    assert _summary(batched) == _summary(alone)
    assert batched.best_trial.hyperparameters == alone.best_trial.hyperparameters
    assert batched.details["batch_passes"] < alone.details["batch_passes"]
    # Some of the six are far behind the best and stopped in the first round.
    assert any(t.status == "stopped" for t in batched.trials)
    # The final models (refitted by the same trainer on every row) agree too.
    features = cancer.drop_columns(["diagnosis"])
    assert batched.model.predict_arrow(features)[0].equals(alone.model.predict_arrow(features)[0])


def test_a_batch_starts_together_and_takes_one_slot(cancer: pa.Table) -> None:
    spec = _spec(families=["logistic", "gradient_boosting"], C=C_GRID, budget="8 trials")
    result = TuPAQSearch(width=2).run(cancer, "diagnosis", spec)
    first_batch = [t for t in result.trials if t.family == "logistic" and t.resources["batch"] == 0]
    # The trial budget's share per family, ceil(8 / 2), in one batch.
    assert len(first_batch) == 4 and {t.resources["batch_size"] for t in first_batch} == {4}
    # All four trained in round 1 beside a boosting arm though only two slots exist: the batch takes one.
    assert [t.family for t in result.trials[:5]] == ["logistic"] * 4 + ["gradient_boosting"]
    assert all(len(t.resources["round_scores"]) >= 1 for t in result.trials[:5])
    assert result.details["rounds"] >= 1


def test_a_stopped_member_leaves_the_batch(cancer: pa.Table) -> None:
    _, plan, runner = prepare_search(
        cancer, "diagnosis", _spec(families=["logistic"], C=C_GRID, budget="6 trials")
    )
    family = plan.families[0]
    group = BatchedLinearGroup(family, [family.configuration({"C": c}) for c in C_GRID], runner, 0)
    first, second = group.members[0], group.members[1]
    first.advance(5)
    assert [member.resource_used for member in group.members] == [5] * 6
    assert group.passes == 5
    second.release()
    first.advance(10)
    assert second.resource_used == 5 and first.resource_used == 10
    assert not group.active(second.index) and group.active(first.index)
    # A released member keeps the weights it had; its estimator still predicts.
    assert second.estimator is not None and second.estimator.coef_.shape[1] > 0
    assert isinstance(first, BatchedArm) and first.trained_configuration()["max_iter"] == 10


def test_batch_width_is_bounded(cancer: pa.Table) -> None:
    _, plan, runner = prepare_search(cancer, "diagnosis", _spec(families=["logistic"]))
    assert batch_width(runner, plan.families[0]) == MAX_GROUP_SIZE
    assert batch_width(runner, plan.families[0], limit=3) == 3


@pytest.mark.parametrize("strategy", ["successive_halving", "hyperband"])
def test_halving_and_hyperband_run_from_a_spec(cancer: pa.Table, strategy: str) -> None:
    spec = SearchSpec.from_options(
        {"strategy": strategy, "families": ["logistic", "gradient_boosting"], "budget": "12 trials", "eta": 3}
    )
    search = search_for(spec)
    assert isinstance(search, TuPAQSearch)
    result = search.run(cancer, "diagnosis", spec)
    assert result.details["allocation"] == strategy and result.details["eta"] == 3
    assert len(result.trials) <= 12
    assert {t.resources["allocation"] for t in result.trials} == {strategy}
    assert any(t.status == "stopped" for t in result.trials)
    assert result.validation_score > 0.9 and result.refit


def test_sql_takes_the_bandit_options() -> None:
    with contextlib.closing(paqdb.connect(autocommit=True)) as con:
        con.execute("LOAD DATASET breast_cancer")
        con.execute(
            "CREATE MODEL m PREDICT diagnosis FROM breast_cancer USING SEARCH (strategy => 'tupaq', "
            "families => ['logistic'], budget => '4 trials', epsilon => 0.2, round_resource => 5, "
            "batching => false)"
        )
        described = con.execute("DESCRIBE MODEL m")
        columns = [d[0] for d in described.description]
        rows = [dict(zip(columns, row, strict=True)) for row in described.fetchall()]
    assert len(rows) == 4
    # Rounds of 5 epochs; with batching off, the batch of four trains one configuration at a time.
    assert all(row["fate"] in {"finished", "stopped"} for row in rows)
    assert all('"batch_size": 4' in str(row["resources"]) for row in rows), rows[0]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"strategy": "random", "epsilon": 0.3}, "epsilon applies to strategy 'tupaq', not 'random'"),
        ({"strategy": "tupaq", "epsilon": -1}, "epsilon -1 is not a non-negative number"),
        ({"strategy": "tupaq", "round_resource": 0}, "round_resource 0 is not a whole number"),
        ({"strategy": "hyperband", "eta": 1}, "eta 1 is not a whole number of at least 2"),
        ({"strategy": "tupaq", "eta": 3}, "eta applies to strategy 'successive_halving' or 'hyperband'"),
        ({"strategy": "tupaq", "batching": "yes"}, "batching 'yes' is not true or false"),
    ],
)
def test_bad_bandit_options_are_clear_errors(options: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidParameterError, match=message):
        SearchSpec.from_options(options)
