"""The planner's cost model: what EXPLAIN promises before anything trains."""

from __future__ import annotations

import pytest

from paqdb.search import SearchSpec, cost
from paqdb.search.cost import DataShape, plan_search

ADULT = DataShape(rows=32_561, onehot_columns=113, ordinal_columns=14, classes=2)
MNIST = DataShape(rows=5_000, onehot_columns=784, ordinal_columns=784, classes=10)


def _spec(**options: object) -> SearchSpec:
    return SearchSpec.from_options(options)


def test_cost_grows_with_the_data(monkeypatch: pytest.MonkeyPatch) -> None:
    # The work term alone grows with the cells; the fixed costs (test_cost_calibration.py) do not.
    monkeypatch.setattr(cost, "UNIT_OVERHEAD", dict.fromkeys(cost.UNIT_OVERHEAD, 0.0))
    monkeypatch.setattr(cost, "ROUND_OVERHEAD", 0.0)
    monkeypatch.setattr(cost, "_fixed_seconds", lambda shape, plans: 0.0)
    spec = _spec(strategy="random", families=["gradient_boosting"], budget="10 trials")
    small = plan_search(spec, DataShape(rows=1_000, onehot_columns=20, ordinal_columns=10, classes=2))
    large = plan_search(spec, DataShape(rows=100_000, onehot_columns=20, ordinal_columns=10, classes=2))
    assert large.seconds_all_to_completion == pytest.approx(100 * small.seconds_all_to_completion)
    # Ten classes grow ten trees per boosting iteration.
    multiclass = plan_search(spec, DataShape(rows=1_000, onehot_columns=20, ordinal_columns=10, classes=10))
    assert multiclass.seconds_all_to_completion == pytest.approx(10 * small.seconds_all_to_completion)


def test_batching_and_early_stopping_lower_the_estimate() -> None:
    families = ["logistic", "linear_svm"]
    search_only = plan_search(_spec(strategy="random", families=families, budget="32 trials"), ADULT)
    bandit = plan_search(
        _spec(strategy="tupaq", families=families, budget="32 trials", batching=False), ADULT
    )
    batched = plan_search(_spec(strategy="tupaq", families=families, budget="32 trials"), ADULT)
    assert [family.batch for family in batched.families] == [16, 16]
    assert batched.estimated_seconds < bandit.estimated_seconds < bandit.seconds_all_to_completion
    assert search_only.estimated_seconds == pytest.approx(search_only.seconds_all_to_completion)
    # Binary batches gain more than softmax ones (BENCHMARKS.md: 6.6x against 1.9x at 16).
    binary_gain = bandit.estimated_seconds / batched.estimated_seconds
    mnist_bandit = plan_search(
        _spec(strategy="tupaq", families=families, budget="32 trials", batching=False), MNIST
    )
    mnist_batched = plan_search(_spec(strategy="tupaq", families=families, budget="32 trials"), MNIST)
    assert mnist_bandit.estimated_seconds / mnist_batched.estimated_seconds < binary_gain


def test_the_time_budget_caps_the_estimate() -> None:
    estimate = plan_search(_spec(strategy="random", budget="5 seconds"), MNIST)
    assert estimate.estimated_seconds == 5.0 < estimate.seconds_all_to_completion


def test_regression_plans_regression_families() -> None:
    estimate = plan_search(_spec(), DataShape(rows=400, onehot_columns=10, ordinal_columns=10, classes=0))
    names = [family.family for family in estimate.families]
    assert "ridge" in names and "logistic" not in names
    assert estimate.describe()["families"] == len(names)
