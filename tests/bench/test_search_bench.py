"""The model-search benchmark (bench/search.py): its time-to-target rule, its search space, and every arm
run once in quick mode on digits."""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "search.py"


def _load() -> ModuleType:
    name = "bench_search"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


bench = _load()


# ----------------------------------------------------------------------------------------------------
# Time to target
# ----------------------------------------------------------------------------------------------------


def test_first_time_within_returns_the_first_point_within_tolerance() -> None:
    trace = [(0.5, 0.70), (1.0, 0.849), (2.0, 0.851), (3.0, 0.90)]
    assert bench.first_time_within(trace, 0.855) == 2.0  # 0.849 misses by 0.001, 0.851 is in
    assert bench.first_time_within(trace, 0.855, tolerance=0.01) == 1.0
    assert bench.first_time_within(trace, 0.85) == 1.0
    assert bench.first_time_within(trace, 0.70) == 0.5


def test_first_time_within_counts_the_boundary_and_scores_above_the_target() -> None:
    assert bench.first_time_within([(1.0, 0.80), (2.0, 0.855)], 0.86) == 2.0  # exactly target - 0.005
    assert bench.first_time_within([(4.0, 0.99)], 0.86) == 4.0


def test_first_time_within_is_none_when_never_reached_or_empty() -> None:
    assert bench.first_time_within([(1.0, 0.80), (2.0, 0.84)], 0.86) is None
    assert bench.first_time_within([], 0.86) is None
    assert bench.first_time_within([(1.0, math.nan), (2.0, -math.inf)], 0.5) is None


def test_running_best_never_decreases_and_skips_nan() -> None:
    points = [(1.0, 0.5), (2.0, math.nan), (3.0, 0.4), (4.0, 0.7)]
    assert bench._running_best(points) == [(1.0, 0.5), (2.0, 0.5), (3.0, 0.5), (4.0, 0.7)]


def test_arm_result_time_to_target_uses_its_trace() -> None:
    result = bench.ArmResult("x", [(1.0, 0.5), (2.0, 0.9)], 3.0, 0.9, 0.9)
    assert result.time_to_target(0.9) == 2.0
    assert result.time_to_target(0.95) is None


# ----------------------------------------------------------------------------------------------------
# The search space
# ----------------------------------------------------------------------------------------------------


def test_full_space_has_24_configurations_and_quick_space_6() -> None:
    full = bench.configurations(bench.FULL_SPACE)
    assert len(full) == 24
    assert [family for family, _ in full].count("gradient_boosting") == 12
    assert len({(family, tuple(sorted(hp.items()))) for family, hp in full}) == 24
    quick = bench.configurations(bench.QUICK_SPACE)
    assert len(quick) == 6
    assert {family for family, _ in quick} == {"logistic", "linear_svm", "gradient_boosting"}


def test_paqdb_spec_searches_exactly_the_space() -> None:
    hyperparameters = bench.paqdb_hyperparameters(bench.FULL_SPACE)
    assert hyperparameters["C"] == bench.FULL_SPACE["logistic"]["C"]
    # The rest of gradient boosting's default space is pinned to its defaults.
    assert hyperparameters["max_depth"] == [None]
    assert hyperparameters["min_samples_leaf"] == [20]
    assert hyperparameters["max_features"] == [1.0]
    spec = bench.paqdb_spec(bench.FULL_SPACE, "tupaq", False, seed=3)
    assert spec.budget.trials == 24
    assert spec.seed == 3
    assert spec.strategy == "tupaq"
    if "batching" in type(spec).__dataclass_fields__:
        assert spec.batching is False
    plan = spec.resolve("classification")
    sizes = {name: math.prod(len(v) for v in space.values()) for name, space in plan.spaces.items()}
    assert sizes == {"logistic": 6, "linear_svm": 6, "gradient_boosting": 12}


def test_paqdb_hyperparameters_rejects_a_shared_name_with_different_candidates() -> None:
    space = {"logistic": {"C": [1.0]}, "linear_svm": {"C": [2.0]}}
    with pytest.raises(ValueError, match="'C'"):
        bench.paqdb_hyperparameters(space)


# ----------------------------------------------------------------------------------------------------
# Every arm once, quick mode, digits (marked slow: together about a minute of training on one core)
# ----------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def prep() -> Any:
    return bench.prepare("digits", 0)


_RESULTS: dict[str, Any] = {}


def _run(arm: str, prep: Any) -> Any:
    if arm not in _RESULTS:
        _RESULTS[arm] = bench.run_arm(arm, prep, bench.QUICK_SPACE)
    return _RESULTS[arm]


def test_prepare_uses_paqdbs_split_and_both_encodings(prep: Any) -> None:
    data = prep.data
    assert prep.X.shape[0] == data.n_rows == len(prep.y)
    assert prep.X_test.shape == (prep.test_table.num_rows, prep.X.shape[1])
    assert set(np.flatnonzero(prep.test_fold == 0)) == set(data.validation_index)
    assert (prep.test_fold[data.train_index] == -1).all()
    assert prep.blocks["onehot"][0] == 0
    assert prep.blocks["ordinal"] == (prep.blocks["onehot"][1], prep.X.shape[1])
    assert (prep.y_test >= 0).all()


def _check(result: Any) -> None:
    assert result.trace, "an arm reports at least once"
    times = [seconds for seconds, _ in result.trace]
    scores = [score for _, score in result.trace]
    assert times == sorted(times)
    assert all(0 <= seconds <= result.seconds + 1e-9 for seconds in times)
    assert scores == sorted(scores), "the trace holds the best score so far"
    assert 0.0 < result.best_validation <= 1.0
    assert 0.5 < result.test_accuracy <= 1.0


@pytest.mark.slow
def test_grid_arm_best_score_is_the_best_of_its_cv_results(prep: Any) -> None:
    result = _run("grid", prep)
    _check(result)
    cv = result.details["cv_results"]
    assert len(cv["params"]) == 6
    assert result.best_validation == pytest.approx(float(np.max(cv["mean_test_score"])))
    assert result.trace == [(result.seconds, result.best_validation)]
    assert result.time_to_target(result.best_validation) == result.seconds


@pytest.mark.slow
@pytest.mark.parametrize("arm", ["random", "halving"])
def test_sklearn_arms(prep: Any, arm: str) -> None:
    result = _run(arm, prep)
    _check(result)
    assert len(result.trace) == 1
    cv = result.details["cv_results"]
    assert len(cv["params"]) >= 3


@pytest.mark.slow
def test_optuna_arm_reports_every_step(prep: Any) -> None:
    result = _run("optuna", prep)
    _check(result)
    assert result.details["trials"] == 6
    assert len(result.trace) == result.details["steps"] >= 6
    assert result.best_validation == result.trace[-1][1]


@pytest.mark.slow
@pytest.mark.parametrize("arm", ["paqdb_random", "paqdb_bandit", "paqdb_batching"])
def test_paqdb_arms(prep: Any, arm: str) -> None:
    result = _run(arm, prep)
    _check(result)
    assert result.details["trials"] == 6
    assert result.details["refit"] is True
    if arm == "paqdb_random":
        # The same estimators on the same matrices and split: the same best validation score as the grid.
        grid = _run("grid", prep)
        assert result.best_validation == pytest.approx(grid.best_validation, abs=1 / 287 + 1e-9)


def test_train_stepwise_stops_when_logistic_converges(prep: Any) -> None:
    family = bench.get_family("logistic")
    train, validation = prep.data.train_index, prep.data.validation_index
    estimator = bench.build(prep, family, {"C": 0.1}, train)
    steps: list[tuple[int, float]] = []
    with bench.pinned():
        score = bench.train_stepwise(
            family,
            estimator,
            (prep.block("onehot", train), prep.y[train]),
            (prep.block("onehot", validation), prep.y[validation]),
            lambda step, value: steps.append((step, value)),
        )
    assert [step for step, _ in steps] == list(range(1, len(steps) + 1))
    assert 1 < len(steps) <= 50
    assert score == steps[-1][1] > 0.9


@pytest.mark.slow
def test_render_makes_a_table_per_dataset(prep: Any) -> None:
    runs = [bench.SeedRun(prep, {arm: _run(arm, prep) for arm in ("grid", "paqdb_random")})]
    text = bench.render_dataset("digits", runs)
    assert text.startswith("### digits")
    assert "| GridSearchCV (full grid) |" in text
    assert "| paqdb: search only (random) |" in text
    assert "1.00x" in text


def test_a_progress_log_rebuilds_the_finished_seeds() -> None:
    def line(arm: str, validation: float, reached: str) -> str:
        return (
            f"digits seed 0 {arm}: 40.0 s total, best validation {validation:.4f}, test 0.9500, "
            f"to target {reached}"
        )

    lines = [line(arm, 0.9680, f"{1.0 + i:.1f} s") for i, arm in enumerate(bench.ARMS)]
    lines[list(bench.ARMS).index("grid")] = line("grid", 0.9700, "40.0 s")
    lines[list(bench.ARMS).index("halving")] = line("halving", 0.9600, "not reached")
    # Seed 1 stopped after one arm: left out. Other lines are ignored.
    lines += [
        "digits seed 1 grid: 31.0 s total, best validation 0.9700, test 0.9600, to target 31.0 s",
        "noise",
    ]
    runs = bench.runs_from_log("\n".join(lines))
    assert list(runs) == ["digits"] and [run.prep.seed for run in runs["digits"]] == [0]
    run = runs["digits"][0]
    assert run.target == 0.97
    # The rebuilt traces give back the logged times to the seed's target.
    assert run.results["grid"].time_to_target(run.target) == 40.0
    assert run.results["optuna"].time_to_target(run.target) == 1.0 + list(bench.ARMS).index("optuna")
    assert run.results["halving"].time_to_target(run.target) is None
    assert "not logged" in bench.render_dataset("digits", runs["digits"])
