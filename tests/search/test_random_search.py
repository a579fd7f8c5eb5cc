"""RandomSearch: budgets, round-robin over families, reproducibility, failures, interrupts, refit."""

from __future__ import annotations

import json
import time

import numpy as np
import pyarrow as pa
import pytest

import paqdb.search.trials as trials_module
from paqdb.errors import InvalidParameterError, SearchInterrupted, TrainingError
from paqdb.ml.model import TrainedModel
from paqdb.search import ModelSearch, RandomSearch, SearchProgress, SearchSpec, search_for
from paqdb.search.space import configuration_key
from paqdb.search.spec import Budget

# Cheap settings for the tree families keep every search here well under a second per trial.
FAST = {"n_estimators": [10], "max_iter": [20]}


def _spec(**options: object) -> SearchSpec:
    return SearchSpec.from_options({**FAST, **options})


def test_classification_search_returns_the_best_model_refitted(classification_table: pa.Table) -> None:
    result = RandomSearch().run(classification_table, "label", _spec(budget="10 trials"))
    assert len(result.trials) == 10 and result.metric == "accuracy" and result.task == "classification"
    finished = [t for t in result.trials if t.status == "finished"]
    assert result.validation_score == max(t.validation_score for t in finished)  # type: ignore[type-var]
    assert result.best_trial.validation_score == result.validation_score
    assert result.model.family == result.best_trial.family
    assert result.model.hyperparameters == result.best_trial.hyperparameters
    assert result.refit and not result.interrupted
    assert (
        result.model.info["refit"] is True
        and result.model.info["train_rows"] == classification_table.num_rows
    )
    prediction, confidence = result.model.predict_arrow(classification_table)
    assert prediction.type == pa.string() and confidence is not None


def test_families_are_interleaved_so_each_is_tried_early(classification_table: pa.Table) -> None:
    result = RandomSearch().run(classification_table, "label", _spec(budget="6 trials"))
    assert [t.family for t in result.trials] == [
        "logistic",
        "linear_svm",
        "gradient_boosting",
        "random_forest",
        "kernel_approximation",
        "mlp",
    ]


def test_first_trial_of_a_family_uses_its_defaults(classification_table: pa.Table) -> None:
    spec = SearchSpec.from_options({"families": ["logistic"], "budget": "3 trials"})
    result = RandomSearch().run(classification_table, "label", spec)
    assert result.trials[0].hyperparameters["C"] == 1.0
    assert len({t.hyperparameters["C"] for t in result.trials}) == 3


def test_trials_record_resources_and_times(classification_table: pa.Table) -> None:
    result = RandomSearch().run(classification_table, "label", _spec(budget="6 trials"))
    for trial in result.trials:
        assert trial.resources["train_rows"] == 240 and trial.resources["validation_rows"] == 60
        assert trial.seconds >= 0 and trial.metric == "accuracy" and trial.status == "finished"
    forest = next(t for t in result.trials if t.family == "random_forest")
    assert forest.resources["n_estimators"] == 10


def test_regression_search(regression_table: pa.Table) -> None:
    result = RandomSearch().run(regression_table, "amount", _spec(budget="4 trials", metric="mae"))
    assert result.task == "regression" and result.metric == "mae"
    assert result.validation_score == min(t.validation_score for t in result.trials)  # type: ignore[type-var]
    prediction, confidence = result.model.predict_arrow(regression_table)
    assert prediction.type == pa.float64() and confidence is None


def test_same_seed_gives_the_same_trials_and_score(classification_table: pa.Table) -> None:
    def run() -> tuple[list[tuple[str, dict, float | None]], float]:
        result = RandomSearch().run(classification_table, "label", _spec(budget="10 trials", seed=11))
        return [
            (t.family, t.hyperparameters, t.validation_score) for t in result.trials
        ], result.validation_score

    assert run() == run()


def test_a_different_seed_draws_other_configurations(classification_table: pa.Table) -> None:
    def configurations(seed: int) -> list[dict]:
        spec = SearchSpec.from_options({"families": ["logistic"], "budget": "4 trials", "seed": seed})
        return [t.hyperparameters for t in RandomSearch().run(classification_table, "label", spec).trials]

    assert configurations(1) != configurations(2)


def test_grid_strategy_enumerates_the_product(classification_table: pa.Table) -> None:
    spec = SearchSpec.from_options(
        {
            "families": ["gradient_boosting"],
            "strategy": "grid",
            "budget": "20 trials",
            "max_iter": [10],
            "max_depth": [2, 3],
            "learning_rate": [0.1, 0.3],
            "max_leaf_nodes": [15],
            "min_samples_leaf": [20],
            "l2_regularization": [0.0],
            "max_features": [1.0],
        }
    )
    result = RandomSearch().run(classification_table, "label", spec)
    tried = sorted(
        (t.hyperparameters["max_depth"], t.hyperparameters["learning_rate"]) for t in result.trials
    )
    assert tried == [(2, 0.1), (2, 0.3), (3, 0.1), (3, 0.3)]


def test_random_search_stops_when_a_finite_space_is_exhausted(classification_table: pa.Table) -> None:
    spec = SearchSpec.from_options({"families": ["logistic"], "C": [0.1, 1.0, 10.0], "budget": "20 trials"})
    result = RandomSearch().run(classification_table, "label", spec)
    assert sorted(t.hyperparameters["C"] for t in result.trials) == [0.1, 1.0, 10.0]


def test_a_default_equal_to_a_listed_candidate_is_not_tried_twice(classification_table: pa.Table) -> None:
    # logistic's default C is 1.0; the list has the int 1. Both are one configuration: the search tries
    # each of the three values once and then stops (it used to try C=1.0 and C=1).
    spec = SearchSpec.from_options({"families": ["logistic"], "C": [0.01, 1, 100], "budget": "20 trials"})
    result = RandomSearch().run(classification_table, "label", spec)
    assert sorted(t.hyperparameters["C"] for t in result.trials) == [0.01, 1, 100]
    assert result.trials[0].hyperparameters["C"] == 1


def test_configuration_key_treats_whole_floats_as_ints() -> None:
    assert configuration_key({"C": 1.0, "layers": [64.0]}) == configuration_key({"C": 1, "layers": [64]})
    assert configuration_key({"C": 1.5}) != configuration_key({"C": 1})
    assert configuration_key({"fit_intercept": True}) != configuration_key({"fit_intercept": 1})


def test_a_short_time_budget_still_returns_a_model_without_refit(
    classification_table: pa.Table, monkeypatch: pytest.MonkeyPatch
) -> None:
    fit = trials_module.fit_estimator_within

    def slow_fit(*args: object, **kwargs: object) -> object:
        # A trial that ends past the time limit: whatever the machine's load, its refit cannot fit. (A limit
        # of 1 ms did the same only while preparing the data took less than 1 ms.)
        time.sleep(0.3)
        return fit(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(trials_module, "fit_estimator_within", slow_fit)
    spec = SearchSpec(families=("logistic",), budget=Budget(seconds=0.2))
    result = RandomSearch().run(classification_table, "label", spec)
    assert len(result.trials) >= 1 and isinstance(result.model, TrainedModel)
    # The refit would overrun the budget, so the best trial's own model is returned.
    assert not result.refit and result.model.info["train_rows"] == 240


def test_failed_trials_are_recorded_and_the_search_goes_on(classification_table: pa.Table) -> None:
    spec = SearchSpec.from_options({"families": ["logistic"], "C": [-1.0, 1.0], "budget": "5 trials"})
    result = RandomSearch().run(classification_table, "label", spec)
    failed = [t for t in result.trials if t.status == "failed"]
    assert len(failed) == 1 and failed[0].validation_score is None
    assert failed[0].error is not None and "C" in failed[0].error
    assert result.best_trial.hyperparameters["C"] == 1.0


def test_all_trials_failing_is_a_training_error_with_the_first_error(classification_table: pa.Table) -> None:
    spec = SearchSpec.from_options({"families": ["logistic"], "C": [-1.0, -2.0], "budget": "5 trials"})
    with pytest.raises(TrainingError, match="every one of the 2 trials failed") as caught:
        RandomSearch().run(classification_table, "label", spec)
    assert "'C' parameter" in caught.value.message


def test_interrupt_keeps_the_best_model_so_far(classification_table: pa.Table) -> None:
    seen: list[SearchProgress] = []

    def progress(snapshot: SearchProgress) -> None:
        seen.append(snapshot)
        if snapshot.trials_done == 2:
            raise KeyboardInterrupt

    result = RandomSearch().run(classification_table, "label", _spec(budget="10 trials"), progress=progress)
    assert result.interrupted and not result.refit
    assert len(result.trials) == 2
    assert result.validation_score == max(t.validation_score for t in result.trials)  # type: ignore[type-var]
    assert result.model.predict_arrow(classification_table)[0].type == pa.string()
    assert [s.trials_done for s in seen] == [1, 2]
    assert seen[-1].best_family == result.best_trial.family and seen[-1].trials_left == 8


def test_interrupt_before_any_model_raises_search_interrupted(classification_table: pa.Table) -> None:
    def progress(snapshot: SearchProgress) -> None:
        raise KeyboardInterrupt

    spec = SearchSpec.from_options({"families": ["logistic"], "C": [-1.0, -2.0], "budget": "5 trials"})
    with pytest.raises(SearchInterrupted):
        RandomSearch().run(classification_table, "label", spec, progress=progress)


def test_progress_reports_time_left_under_a_time_budget(classification_table: pa.Table) -> None:
    seen: list[SearchProgress] = []
    spec = SearchSpec.from_options({"families": ["logistic"], "budget": "1 hour or 3 trials"})
    RandomSearch().run(classification_table, "label", spec, progress=seen.append)
    assert [s.trials_done for s in seen] == [1, 2, 3]
    assert all(s.seconds_left is not None and 0 < s.seconds_left <= 3600 for s in seen)
    assert seen[-1].last_trial is not None and seen[-1].last_trial.trial_id == 2


def test_spec_that_does_not_fit_the_data_is_rejected(regression_table: pa.Table) -> None:
    with pytest.raises(InvalidParameterError, match="does not support regression"):
        RandomSearch().run(regression_table, "amount", SearchSpec(families=("logistic",)))


def test_search_result_model_round_trips(classification_table: pa.Table) -> None:
    result = RandomSearch().run(classification_table, "label", _spec(budget="3 trials"))
    restored = TrainedModel.from_bytes(result.model.to_bytes())
    assert restored.predict_arrow(classification_table)[0].equals(
        result.model.predict_arrow(classification_table)[0]
    )
    assert restored.info["validation_score"] == result.validation_score


def test_search_for_gives_a_model_search() -> None:
    search: ModelSearch = search_for(SearchSpec())
    assert callable(search.run)


def test_trials_serialise_to_plain_values(classification_table: pa.Table) -> None:
    result = RandomSearch().run(classification_table, "label", _spec(budget="6 trials"))
    decoded = json.loads(json.dumps([t.to_dict() for t in result.trials]))
    assert decoded[0]["family"] == "logistic" and set(decoded[0]) >= {"trial_id", "resources", "status"}


def test_null_labels_are_dropped_before_the_search(classification_table: pa.Table) -> None:
    labels = classification_table.column("label").to_pylist()
    labels[:10] = [None] * 10
    table = classification_table.set_column(4, "label", pa.array(labels))
    spec = SearchSpec.from_options({"families": ["logistic"], "budget": "1 trial"})
    result = RandomSearch().run(table, "label", spec)
    assert result.model.info["dropped_rows"] == 10
    assert result.model.info["train_rows"] == 290
    assert not np.isnan(result.validation_score)


def test_interrupt_during_a_trial_records_it_as_stopped(
    classification_table: pa.Table, monkeypatch: pytest.MonkeyPatch
) -> None:
    fit = trials_module.fit_estimator_within
    calls = {"n": 0}

    def interrupted_on_third_fit(*args: object, **kwargs: object) -> object:
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return fit(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(trials_module, "fit_estimator_within", interrupted_on_third_fit)
    result = RandomSearch().run(classification_table, "label", _spec(budget="10 trials"))
    assert [t.status for t in result.trials] == ["finished", "finished", "stopped"]
    assert result.interrupted and not result.refit
