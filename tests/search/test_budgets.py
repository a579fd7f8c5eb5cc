"""Budgets that hold and summaries that tell the truth (issue 8, defects 6 and 7).

The time limit holds inside a trial (a forest of 100,000,000 trees stops at the deadline), a budget of
trials alone has a default time cap that EXPLAIN shows, an overrun is reported; the stored model's family,
score and trial count agree with its trial rows, an interrupted search is recorded as interrupted, and
families that got no training are named.

Hang guards: a search that ignored its budget would run for hours, so the searches run in a daemon thread
joined with a generous limit (:func:`_finishes`); the limit is a guard against hanging, not a benchmark.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pyarrow as pa
import pytest

import paqdb
from paqdb import datasets
from paqdb.search import RandomSearch, SearchProgress, SearchSpec, TuPAQSearch
from paqdb.search import spec as spec_module
from paqdb.search import trials as trials_module
from paqdb.search.run import search_notes
from paqdb.search.spec import DEFAULT_TIME_CAP_SECONDS, Budget

HANG_GUARD_SECONDS = 120.0
"""Far above what any of these searches takes (a few seconds); only a search ignoring its budget hits it."""


@pytest.fixture(scope="module")
def iris() -> pa.Table:
    return datasets.load("iris")


def _finishes(work: Callable[[], Any], limit: float = HANG_GUARD_SECONDS) -> Any:
    """Run ``work`` in a daemon thread; its result, or a test failure if it is still running after
    ``limit`` seconds (the thread is abandoned)."""
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["result"] = work()
        except BaseException as error:  # handed to the test below
            outcome["error"] = error

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(limit)
    if thread.is_alive():
        pytest.fail(f"still running after {limit:g} s: the budget did not hold")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["result"]


def _agrees_with_its_trials(result: Any) -> None:
    """The summary is one of the trial rows: the model's family and score are its best trial's, that trial
    has a score, and no trial has a better one."""
    best = result.best_trial
    assert best.validation_score is not None
    assert result.model.family == best.family
    assert result.validation_score == best.validation_score
    scores = [t.validation_score for t in result.trials if t.validation_score is not None]
    assert result.validation_score == max(scores)  # accuracy: higher is better


# -- budgets that hold ------------------------------------------------------------------------------------


@pytest.mark.parametrize("strategy", ["tupaq", "random"])
def test_a_forest_of_a_hundred_million_trees_stops_at_the_time_budget(iris: pa.Table, strategy: str) -> None:
    spec = SearchSpec.from_options(
        {
            "strategy": strategy,
            "families": ["random_forest"],
            "n_estimators": [100_000_000],
            "budget": "1 second",
        }
    )
    search = TuPAQSearch() if strategy == "tupaq" else RandomSearch()
    result = _finishes(lambda: search.run(iris, "species", spec))
    assert result.outcome == "time budget reached"
    trial = result.trials[0]
    assert trial.status == "stopped" and trial.validation_score is not None
    assert trial.error is not None and "cut short" in trial.error
    trees = len(result.model.estimator.estimators_)
    assert 1 <= trees < 100_000_000
    assert result.model.hyperparameters["n_estimators"] == trees
    _agrees_with_its_trials(result)
    assert any("cut short" in note for note in result.notes)


@pytest.mark.slow
def test_create_model_with_a_huge_forest_ends_and_says_why(tmp_path: Any) -> None:
    connection = paqdb.connect(str(tmp_path / "budget.duckdb"))
    connection.execute("LOAD DATASET iris")
    cursor = _finishes(
        lambda: connection.execute(
            "CREATE MODEL m PREDICT species FROM iris USING SEARCH (families => ['random_forest'], "
            "n_estimators => [100000000], budget => '2 seconds')"
        )
    )
    assert "random_forest" in cursor.message and "(time budget reached)" in cursor.message
    outcome, notes = connection.execute("SELECT outcome, notes FROM paqdb.model_versions").fetchone()
    assert outcome == "time budget reached" and "cut short" in notes
    status, score = connection.execute("SELECT status, validation_score FROM paqdb.trials").fetchone()
    assert status == "stopped" and score is not None
    connection.close()


def test_a_budget_of_trials_alone_has_a_default_time_cap() -> None:
    budget = Budget(trials=1_000_000_000)
    assert budget.time_limit == DEFAULT_TIME_CAP_SECONDS == 600
    assert budget.capped and budget.describe() == "1000000000 trials (capped at 600 s)"
    assert Budget(seconds=30, trials=5).describe() == "30 s or 5 trials"
    assert not Budget(seconds=30).capped and Budget(seconds=30).time_limit == 30


def test_explain_shows_the_default_time_cap() -> None:
    connection = paqdb.connect(":memory:")
    connection.execute("LOAD DATASET iris")
    rows = connection.execute(
        "EXPLAIN CREATE MODEL m PREDICT species FROM iris USING SEARCH (budget => '1e9 trials')"
    ).fetchall()
    search = next(line for (line,) in rows if "ModelSearch [" in line)
    assert "budget=1000000000 trials (capped at 600 s)" in search
    connection.close()


@pytest.mark.parametrize("strategy", ["tupaq", "random", "successive_halving", "hyperband"])
def test_a_billion_trials_stop_at_the_time_cap(
    iris: pa.Table, strategy: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The cap is ten minutes; one second here, with the same code path.
    monkeypatch.setattr(spec_module, "DEFAULT_TIME_CAP_SECONDS", 1.0)
    spec = SearchSpec.from_options({"strategy": strategy, "budget": "1e9 trials"})
    search = RandomSearch() if strategy == "random" else TuPAQSearch()
    result = _finishes(lambda: search.run(iris, "species", spec))
    assert result.outcome in ("time budget reached", "complete")
    if result.outcome == "time budget reached":
        assert any("default time cap of 1 s" in note for note in result.notes)
    _agrees_with_its_trials(result)


def test_a_fit_that_cannot_stop_reports_the_overrun(table: pa.Table, monkeypatch: pytest.MonkeyPatch) -> None:
    fit = trials_module.fit_estimator_within

    def slow_fit(*args: Any, **kwargs: Any) -> Any:
        time.sleep(0.6)  # a solver with no stopping hook, running past the deadline
        return fit(*args, **kwargs)

    monkeypatch.setattr(trials_module, "fit_estimator_within", slow_fit)
    spec = SearchSpec.from_options({"strategy": "random", "families": ["ridge"], "budget": "0.3 seconds"})
    result = RandomSearch().run(table.drop_columns(["label"]), "amount", spec)
    assert result.outcome == "time budget reached"
    overrun = [note for note in result.notes if "over its time limit of 0.3 s" in note]
    assert overrun and "a ridge trial could not stop sooner" in overrun[0]
    assert result.details["notes"] == result.notes


# -- honest summaries -------------------------------------------------------------------------------------


def test_ctrl_c_keeps_the_best_model_and_its_trial_tells_the_truth(tmp_path: Any) -> None:
    reports: list[SearchProgress] = []

    def progress(snapshot: Any) -> None:
        reports.append(snapshot)
        if len(reports) == 3:
            raise KeyboardInterrupt  # Ctrl-C while boosting is part-way through its rounds

    connection = paqdb.connect(str(tmp_path / "interrupt.duckdb"), progress=progress)
    connection.execute("LOAD DATASET iris")
    cursor = connection.execute(
        "CREATE MODEL m PREDICT species FROM iris USING SEARCH (families => ['gradient_boosting'], "
        "budget => '10 trials', seed => 1)"
    )
    trials = connection.execute(
        "SELECT trial, family, status, validation_score FROM paqdb.trials ORDER BY trial"
    ).fetchall()
    family, score, outcome, notes = connection.execute(
        "SELECT family, validation_score, outcome, notes FROM paqdb.model_versions"
    ).fetchone()
    assert outcome == "interrupted" and "interrupted after" in notes
    assert f"interrupted after {len(trials)} trial" in cursor.message
    # The stored model is one of the trial rows, with that row's score; no row has a better one.
    scored = [row for row in trials if row[3] is not None]
    assert scored and (family, score) in {(row[1], row[3]) for row in scored}
    assert score == max(row[3] for row in scored)
    # The progress line shown before the Ctrl-C named the model that was stored.
    assert reports[-1].best_score == score and reports[-1].best_family == family
    assert f"{score:.4f}" in cursor.message
    connection.close()


@pytest.mark.parametrize("strategy", ["tupaq", "random"])
def test_an_interrupted_search_is_recorded_as_interrupted(
    classification_table: pa.Table, strategy: str
) -> None:
    def progress(snapshot: SearchProgress) -> None:
        if snapshot.trials_done >= 2:
            raise KeyboardInterrupt

    spec = SearchSpec.from_options({"strategy": strategy, "families": ["logistic", "random_forest"]})
    search = TuPAQSearch() if strategy == "tupaq" else RandomSearch()
    result = search.run(classification_table, "label", spec, progress=progress)
    assert result.interrupted and result.outcome == "interrupted"
    assert (
        result.notes[0]
        == f"interrupted after {len(result.trials)} trials: the model is the best found so far"
    )
    assert result.details["outcome"] == "interrupted"
    _agrees_with_its_trials(result)


@pytest.mark.parametrize("strategy", ["tupaq", "random"])
def test_families_that_got_no_trials_are_named(classification_table: pa.Table, strategy: str) -> None:
    spec = SearchSpec.from_options(
        {"strategy": strategy, "families": ["random_forest", "gradient_boosting", "mlp"], "budget": "1 trial"}
    )
    search = TuPAQSearch() if strategy == "tupaq" else RandomSearch()
    result = search.run(classification_table, "label", spec)
    assert len(result.trials) == 1 and result.outcome == "trial budget reached"
    assert "no trials for gradient_boosting, mlp: the trial budget ran out before their turn" in result.notes
    _agrees_with_its_trials(result)


def test_create_model_message_names_the_outcome_and_the_untried_families() -> None:
    connection = paqdb.connect(":memory:")
    connection.execute("LOAD DATASET iris")
    cursor = connection.execute(
        "CREATE MODEL m PREDICT species FROM iris USING SEARCH (strategy => 'random', "
        "families => ['random_forest', 'mlp'], budget => '1 trial')"
    )
    assert cursor.message.startswith("model m version 1: random_forest, validation accuracy ")
    assert "after 1 trial (trial budget reached); no trials for mlp" in cursor.message
    rows = connection.execute("SELECT family, validation_score, status FROM paqdb.trials").fetchall()
    (stored,) = connection.execute("SELECT family, validation_score FROM paqdb.model_versions").fetchall()
    assert rows == [(stored[0], stored[1], "finished")]
    connection.close()


def test_notes_say_what_the_summary_alone_would_not() -> None:
    from paqdb.search.base import Trial

    plan = SearchSpec(families=("logistic", "random_forest")).resolve("classification")
    trial = Trial(0, "logistic", {"C": 1.0}, {}, "accuracy", 0.9, "finished", 0.1)
    budget = Budget(trials=5)
    notes = search_notes(
        plan=plan,
        trials=[trial],
        best_trial=trial,
        budget=budget,
        refit=True,
        outcome="time budget reached",
        seconds=DEFAULT_TIME_CAP_SECONDS + 2.5,
        overrun="a logistic trial could not stop sooner (3.0 s)",
    )
    assert notes == [
        "stopped at the default time cap of 600 s (the budget gave only 5 trials; give a duration too "
        "to allow more)",
        "no trials for random_forest: the time budget ran out before their turn",
        "the search took 602.5 s, 2.5 s over its time limit of 600 s: a logistic trial could not stop "
        "sooner (3.0 s)",
    ]


# -- the pieces: an allocator step and a batched epoch under a deadline --------------------------------


class _Clock:
    """Time that moves only when something trains (no sleeping)."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class _StoppableArm:
    """An arm that trains one unit per 0.1 s of the fake clock and stops at the deadline it is given."""

    def __init__(self, clock: _Clock, arm_id: int = 0, max_resource: int = 100) -> None:
        self.clock = clock
        self.arm_id = arm_id
        self.family = "forest"
        self.max_resource = max_resource
        self.resource_used = 0
        self.deadline: float | None = None
        self.cut_short = False

    @property
    def finished(self) -> bool:
        return self.resource_used >= self.max_resource

    def set_deadline(self, deadline: float | None) -> None:
        self.deadline = deadline

    def advance(self, resource: int) -> float:
        self.cut_short = False
        while self.resource_used < min(resource, self.max_resource):
            if self.deadline is not None and self.clock.now >= self.deadline:
                self.cut_short = True
                break
            self.clock.now += 0.1
            self.resource_used += 1
        return 0.5 + self.resource_used / 1000


def test_an_allocator_step_stops_at_the_deadline_and_keeps_the_partial_model() -> None:
    from paqdb.search.bandit import AllocationBudget, TuPAQAllocator

    clock = _Clock()
    arm = _StoppableArm(clock)
    allocator = TuPAQAllocator(
        higher_is_better=True, round_resource=100, budget=AllocationBudget(seconds=2.5), clock=clock
    )
    allocator.admit(arm)
    result = allocator.run()
    assert result.stop_reason == "deadline" and 20 <= arm.resource_used <= 30
    record = result.record(0)
    # Cut short by the time budget, not converged: unfinished, with the score it reached.
    assert record.fate == "unfinished" and len(record.rounds) == 1
    assert result.best_arm is arm and result.best_score == record.last_score
    trial = record.to_trial(0, {}, "accuracy")
    assert trial.status == "stopped" and trial.validation_score == result.best_score


def test_a_batched_trainer_stops_between_epochs_at_the_deadline() -> None:
    import numpy as np

    from paqdb.ml.batched_linear import BatchedLinearTrainer

    rng = np.random.default_rng(0)
    matrix = rng.normal(size=(200, 3))
    target = (matrix[:, 0] > 0).astype(int)
    trainer = BatchedLinearTrainer("logistic", [{"C": 1.0}, {"C": 0.1}]).start(matrix, target)
    assert trainer.advance(10, deadline=time.perf_counter() - 1) == 0  # past: no epoch starts
    ticks = iter(range(1000))
    ran = trainer.advance(10, deadline=10.0, clock=lambda: float(next(ticks)))  # three ticks an epoch
    assert 1 <= ran < 10 and trainer.epochs_.tolist() == [ran, ran]
    assert trainer.advance(3) == 3
