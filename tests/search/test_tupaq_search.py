"""The TuPAQ search strategy: bandit allocation over warm-started arms, behind strategy => 'tupaq'."""

from __future__ import annotations

import contextlib
import itertools
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

import paqdb
from paqdb import datasets
from paqdb.errors import InvalidParameterError
from paqdb.search import RandomSearch, SearchProgress, SearchSpec, TuPAQSearch, search_for
from paqdb.search.arms import BatchedArm, ConfigurationArm


@pytest.fixture(scope="module")
def cancer() -> pa.Table:
    return datasets.load("breast_cancer")


def _spec(**options: object) -> SearchSpec:
    return SearchSpec.from_options({"strategy": "tupaq", **options})


def test_search_for_dispatches_tupaq_and_tupaq_is_the_default() -> None:
    assert isinstance(search_for(_spec()), TuPAQSearch)
    assert isinstance(search_for(SearchSpec()), TuPAQSearch)
    assert isinstance(search_for(SearchSpec(strategy="random")), RandomSearch)
    assert SearchSpec().strategy == "tupaq"


def test_unknown_strategy_still_errors() -> None:
    with pytest.raises(InvalidParameterError, match="unknown search strategy 'bayes'"):
        SearchSpec.from_options({"strategy": "bayes"})


def test_tupaq_returns_a_working_refitted_model(cancer: pa.Table) -> None:
    spec = _spec(budget="10 trials", seed=1)
    reports: list[SearchProgress] = []
    result = TuPAQSearch().run(cancer, "diagnosis", spec, reports.append)
    assert result.refit and not result.interrupted
    assert result.validation_score > 0.9
    assert result.best_trial.status == "finished"
    assert result.best_trial.validation_score == result.validation_score
    assert len(result.trials) == 10
    assert [t.trial_id for t in result.trials] == list(range(10))
    # Proposals go round-robin across families: every classification family is tried.
    assert {t.family for t in result.trials} == {
        "logistic",
        "linear_svm",
        "gradient_boosting",
        "random_forest",
        "kernel_approximation",
        "mlp",
    }
    predicted, _confidence = result.model.predict_arrow(cancer.drop_columns(["diagnosis"]))
    truth = cancer.column("diagnosis").to_pylist()
    labels = predicted.to_pylist()
    assert np.mean([a == b for a, b in zip(labels, truth, strict=True)]) > 0.9
    assert result.details["strategy"] == "tupaq" and result.details["rounds"] >= 1
    # Progress comes after every round, the last one with every arm counted.
    assert reports and reports[-1].trials_done == 10 and reports[-1].trials_left == 0
    assert reports[-1].best_score is not None and reports[-1].metric == "accuracy"


def test_each_family_has_one_live_slot(cancer: pa.Table) -> None:
    # Two families, twelve configurations: a family's arms train one after another (their search rounds
    # never overlap), while the two families train side by side from the first round.
    spec = _spec(families=["gradient_boosting", "random_forest"], budget="12 trials", seed=3)
    result = TuPAQSearch().run(cancer, "diagnosis", spec)
    assert len(result.trials) == 12
    for family in ("gradient_boosting", "random_forest"):
        spans = sorted(
            (t.resources["search_rounds"][0], t.resources["search_rounds"][-1])
            for t in result.trials
            if t.family == family and t.resources["search_rounds"]
        )
        assert len(spans) >= 2
        for (_, end), (start, _) in itertools.pairwise(spans):
            assert start > end, f"two {family} arms were live in one round: {spans}"
    first_rounds = {t.family: t.resources["search_rounds"][0] for t in reversed(result.trials)}
    assert first_rounds == {"gradient_boosting": 1, "random_forest": 1}


def test_an_explicit_width_lets_one_family_fill_the_slots(cancer: pa.Table) -> None:
    spec = _spec(families=["random_forest"], budget="6 trials", seed=3)
    result = TuPAQSearch(width=3).run(cancer, "diagnosis", spec)
    assert sum(1 for t in result.trials if t.resources["search_rounds"][:1] == [1]) == 3


def test_a_bad_configuration_is_stopped_early_and_recorded(cancer: pa.Table) -> None:
    spec = _spec(families=["logistic"], C=[1e-6, 1.0], budget="20 trials")
    result = TuPAQSearch().run(cancer, "diagnosis", spec)
    assert len(result.trials) == 2  # the space has two configurations
    by_c = {t.hyperparameters["C"]: t for t in result.trials}
    bad, good = by_c[1e-6], by_c[1.0]
    assert bad.status == "stopped"
    assert bad.validation_score == bad.resources["last_score"]
    assert bad.error is not None and bad.error.startswith("stopped early at round 1")
    assert bad.resources["ended_round"] == 1 and bad.resources["rounds"] == 1
    assert bad.resources["last_score"] < good.resources["round_scores"][0] - 0.05
    # Logistic configurations train batched, in epochs: one round of 10 of the 50 allowed.
    assert bad.resources["epochs"] == 10 < bad.resources["max_epochs"]
    assert bad.resources["batch"] == good.resources["batch"] and bad.resources["batch_size"] == 2
    assert good.status == "finished" and good.validation_score is not None
    assert result.best_trial is good
    assert result.model.hyperparameters["C"] == 1.0
    assert result.details["stopped_early"] == 1


def test_trial_statuses_and_resources_are_recorded(cancer: pa.Table) -> None:
    result = TuPAQSearch().run(cancer, "diagnosis", _spec(budget="8 trials"))
    for trial in result.trials:
        assert trial.status in {"finished", "stopped", "failed"}
        assert trial.resources["allocation"] == "tupaq"
        assert trial.resources["rounds"] >= 1
        assert trial.resources["train_rows"] > 0 and trial.resources["validation_rows"] > 0
        resource = {
            "random_forest": "n_estimators",
            "logistic": "epochs",
            "linear_svm": "epochs",
            "kernel_approximation": "resource",  # one step: a fit
        }.get(trial.family, "max_iter")
        assert trial.resources[resource] >= 1
        # Every trial that trained records the score its model reached, stopped ones included.
        assert (trial.validation_score is not None) == (trial.status != "failed")
        if trial.status == "stopped":
            assert trial.error and ("stopped early at round" in trial.error or "cut short" in trial.error)


def test_seeded_search_is_reproducible(cancer: pa.Table) -> None:
    spec = _spec(budget="6 trials", seed=7, families=["logistic", "random_forest"])
    first = TuPAQSearch().run(cancer, "diagnosis", spec)
    second = TuPAQSearch().run(cancer, "diagnosis", spec)

    def summary(result: object) -> list[tuple[object, ...]]:
        return [
            (t.family, t.hyperparameters, t.status, t.validation_score, t.resources["round_scores"])
            for t in result.trials  # type: ignore[attr-defined]
        ]

    assert summary(first) == summary(second)
    assert first.best_trial_id == second.best_trial_id


def test_warm_started_forest_keeps_its_trees(cancer: pa.Table) -> None:
    from paqdb.ml.families import get_family
    from paqdb.ml.training import prepare_training_data
    from paqdb.search.trials import TrialRunner

    spec = _spec(families=["random_forest"])
    training = prepare_training_data(cancer, "diagnosis")
    runner = TrialRunner(training, spec.resolve(training.task))
    family = get_family("random_forest")
    arm = ConfigurationArm(0, family, family.configuration(), runner)
    assert arm.max_resource == 100 and arm.resource_used == 0
    arm.advance(10)
    assert arm.estimator is not None
    first_trees = list(arm.estimator.estimators_)
    arm.advance(20)
    assert arm.resource_used == 20 and not arm.finished
    assert arm.estimator.estimators_[:10] == first_trees


def test_create_model_with_tupaq_end_to_end_and_describe() -> None:
    with contextlib.closing(paqdb.connect(autocommit=True)) as con:
        con.execute("LOAD DATASET breast_cancer")
        cur = con.execute(
            "CREATE MODEL m PREDICT diagnosis FROM breast_cancer "
            "USING SEARCH (strategy => 'tupaq', budget => '20 trials')"
        )
        assert cur.message and "m version 1" in cur.message
        described = con.execute("DESCRIBE MODEL m")
        columns = [d[0] for d in described.description]
        rows = [dict(zip(columns, row, strict=True)) for row in described.fetchall()]
        assert len(rows) == 20
        fates = {row["fate"] for row in rows}
        assert fates <= {"finished", "stopped", "cut short", "failed"} and "finished" in fates
        assert fates & {"stopped", "cut short"}
        stopped = [row for row in rows if row["fate"] in ("stopped", "cut short")]
        # The reason says why with the rule's numbers; the fate and rounds columns say the rest.
        assert all(row["reason"].startswith("error ") or "ran out" in row["reason"] for row in stopped)
        assert all(row["rounds"] >= 1 for row in stopped)
        agree = con.execute(
            "SELECT avg((PREDICT(diagnosis USING MODEL m) = diagnosis)::INT) FROM breast_cancer"
        ).fetchone()[0]
        assert agree > 0.9


def test_interrupt_keeps_the_best_arm_found(cancer: pa.Table, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = 0

    def interrupting(advance: Any) -> Any:
        def interrupted_advance(self: Any, resource: int) -> float:
            nonlocal calls
            calls += 1
            if calls == 4:
                raise KeyboardInterrupt
            return float(advance(self, resource))

        return interrupted_advance

    for arm_class in (ConfigurationArm, BatchedArm):
        monkeypatch.setattr(arm_class, "advance", interrupting(arm_class.advance))
    result = TuPAQSearch().run(cancer, "diagnosis", _spec(budget="10 trials"))
    assert result.interrupted and not result.refit
    assert result.validation_score > 0.5
    assert result.model.predict_arrow(cancer.drop_columns(["diagnosis"]))[0].to_pylist()
    assert result.details["stop_reason"] == "interrupted"
