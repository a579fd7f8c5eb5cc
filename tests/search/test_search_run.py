"""The frame every search shares (paqdb.search.run): a strategy writes its loop, the rest is common."""

from __future__ import annotations

import subprocess
import sys
import time
from typing import Any

import pyarrow as pa

from paqdb.search import SearchProgress, SearchSpec, SearchStrategy
from paqdb.search.run import SearchFinding, SearchRun
from paqdb.search.spec import Budget


class OneTrial(SearchStrategy):
    """The smallest strategy: the first family's defaults, one trial, reported once."""

    def __init__(self, refit: Any = None) -> None:
        self.refit = refit

    def search(self, run: SearchRun) -> SearchFinding:
        family = run.plan.families[0]
        configuration = family.configuration({}, run.plan.task)
        trial, estimator = run.runner.evaluate(0, family, configuration)
        assert estimator is not None and trial.validation_score is not None
        run.report(1, trial.validation_score, family.name, trial)
        return SearchFinding(
            trials=[trial],
            best_trial=trial,
            family=family,
            configuration=configuration,
            estimator=estimator,
            validation_score=trial.validation_score,
            outcome="complete",
            refit=self.refit,
            details={"strategy_fact": 42},
        )


def test_a_strategy_writes_only_its_loop(classification_table: pa.Table) -> None:
    seen: list[SearchProgress] = []
    spec = SearchSpec(families=("logistic",), budget=Budget(seconds=60))
    result = OneTrial().run(classification_table, "label", spec, progress=seen.append)
    # The shared ending refitted the model on every row and recorded what every search records.
    assert result.refit and result.model.info["train_rows"] == 300
    assert result.outcome == "complete" and result.notes == [] and not result.interrupted
    assert result.details["strategy_fact"] == 42 and result.details["trials"] == 1
    assert result.validation_score == result.trials[0].validation_score
    assert result.model.family == "logistic"
    # Progress snapshots carry the run's clock, budget and metric.
    (snapshot,) = seen
    assert snapshot.trials_done == 1 and snapshot.metric == "accuracy" and snapshot.trials_left is None
    assert snapshot.seconds_left is not None and 0 < snapshot.seconds_left <= 60


def test_a_refit_that_overruns_the_limit_is_named_in_the_notes(regression_table: pa.Table) -> None:
    def slow_refit(deadline: float) -> Any:
        time.sleep(0.5)  # a refit that cannot stop, ending well past the 0.2 s limit
        return None

    spec = SearchSpec(families=("ridge",), budget=Budget(seconds=0.2))
    result = OneTrial(refit=slow_refit).run(regression_table, "amount", spec)
    # A refit cut short keeps the validated model; the time it took is still accounted for.
    assert not result.refit and result.model.info["train_rows"] == 240
    assert any("over its time limit of 0.2 s" in note for note in result.notes)


def test_a_refit_past_the_limit_says_it_caused_the_overrun(regression_table: pa.Table) -> None:
    def slow_refit(deadline: float) -> Any:
        time.sleep(0.5)
        return "refitted"

    spec = SearchSpec(families=("ridge",), budget=Budget(seconds=0.2))
    result = OneTrial(refit=slow_refit).run(regression_table, "amount", spec)
    assert result.refit and result.model.estimator == "refitted"
    (overrun,) = [note for note in result.notes if "over its time limit" in note]
    assert overrun.endswith(": the final refit of the ridge model took longer than measured")


def test_the_search_package_loads_no_trainer_until_a_search_runs() -> None:
    # paqdb.search is imported by the planner (the cost model, EXPLAIN) and by the model store's callers:
    # scikit-learn, SciPy and optuna load only when a search trains something.
    modules = ", ".join(
        f"paqdb.search.{name}"
        for name in ("arms", "bandit", "base", "cost", "proposals", "random_search", "run", "space", "spec")
    )
    code = (
        f"import sys, paqdb.search, paqdb.search.trials, paqdb.search.tupaq_search, {modules}\n"
        "print(sorted(m for m in ('sklearn', 'scipy', 'optuna', 'skops') if m in sys.modules))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == "[]"
