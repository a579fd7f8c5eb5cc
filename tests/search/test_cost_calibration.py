"""EXPLAIN's estimate calibrated by measured trials (issue 10, item 9): a per-family, per-shape correction
read from the catalog's past trials, fixed costs small data pays, and EXPLAIN ANALYZE's estimate beside the
measured time. No test here times anything: they check what the estimate is made of."""

from __future__ import annotations

import contextlib
import json
import math
import re
from typing import Any

import pytest

import paqdb
from paqdb.search import SearchSpec
from paqdb.search.cost import (
    PRIOR_WEIGHT,
    CostHistory,
    DataShape,
    PastRun,
    history_from_rows,
    plan_search,
)

ADULT = DataShape(rows=26_027, onehot_columns=105, ordinal_columns=14, classes=2)
IRIS = DataShape(rows=150, onehot_columns=4, ordinal_columns=4, classes=3)


def _spec(**options: object) -> SearchSpec:
    return SearchSpec.from_options(options)


def _per_configuration(estimate: Any, family: str) -> float:
    return next(plan.seconds_per_configuration for plan in estimate.families if plan.family == family)


def _forest_run(shape: DataShape, seconds_per_tree: float, configurations: int = 4) -> PastRun:
    """A past search that trained ``configurations`` forests of 100 trees, each tree taking the time given."""
    train = int(shape.rows * 0.8)
    rows = [
        {
            "name": "m",
            "version": 1,
            "family": "random_forest",
            "resources": json.dumps(
                {
                    "n_estimators": 100,
                    "rounds": 10,
                    "train_rows": train,
                    "validation_rows": shape.rows - train,
                }
            ),
            "features": json.dumps(
                [{"name": f"c{i}", "type": "DOUBLE"} for i in range(shape.ordinal_columns)]
            ),
            "seconds": 100 * seconds_per_tree,
        }
        for _ in range(configurations)
    ]
    (run,) = history_from_rows(rows).runs
    return run


def test_no_history_is_the_prior() -> None:
    spec = _spec(strategy="random", families=["random_forest"], budget="4 trials")
    assert plan_search(spec, ADULT) == plan_search(spec, ADULT, history=CostHistory())
    assert CostHistory().calibration("random_forest", ADULT).factor == 1.0


def test_past_trials_of_the_same_shape_pull_the_estimate_to_what_they_took() -> None:
    spec = _spec(strategy="random", families=["random_forest"], budget="4 trials")
    prior = _per_configuration(plan_search(spec, ADULT), "random_forest")
    # The forests really took a tenth of what the prior says (the machine is faster, say).
    run = _forest_run(ADULT, seconds_per_tree=prior / 100 / 10)
    calibrated = plan_search(spec, ADULT, history=CostHistory((run,)))
    plan = calibrated.families[0]
    measured = run.seconds / len(run.work)
    # One search of the same shape moves the factor 1 / (1 + PRIOR_WEIGHT) of the way, in logarithm.
    expected = math.exp(math.log(measured / prior) / (1 + PRIOR_WEIGHT))
    assert plan.seconds_per_configuration / prior == pytest.approx(expected, rel=0.02)
    assert measured < plan.seconds_per_configuration < prior / 5
    assert "calibrated x0.16 on 4 past trials" in plan.describe()
    # Two such searches weigh more than one.
    twice = plan_search(spec, ADULT, history=CostHistory((run, run))).families[0]
    assert measured < twice.seconds_per_configuration < plan.seconds_per_configuration


def test_past_trials_on_data_of_another_shape_barely_count() -> None:
    spec = _spec(strategy="random", families=["random_forest"], budget="4 trials")
    prior = _per_configuration(plan_search(spec, ADULT), "random_forest")
    tiny = _forest_run(IRIS, seconds_per_tree=1.0)  # absurdly slow trees, on 150 rows
    unaffected = plan_search(spec, ADULT, history=CostHistory((tiny,)))
    assert _per_configuration(unaffected, "random_forest") == pytest.approx(prior, rel=1e-3)
    # A shape twice as large still counts, less than the same shape.
    double = DataShape(rows=2 * ADULT.rows, onehot_columns=105, ordinal_columns=14, classes=2)
    near = _forest_run(double, seconds_per_tree=prior / 100 / 10 * 2)
    same = _forest_run(ADULT, seconds_per_tree=prior / 100 / 10)
    from_near = _per_configuration(plan_search(spec, ADULT, history=CostHistory((near,))), "random_forest")
    from_same = _per_configuration(plan_search(spec, ADULT, history=CostHistory((same,))), "random_forest")
    assert from_same < from_near < prior


def test_other_families_keep_the_prior() -> None:
    spec = _spec(strategy="random", families=["random_forest", "gradient_boosting"], budget="4 trials")
    prior = plan_search(spec, ADULT)
    run = _forest_run(ADULT, seconds_per_tree=1e-4)
    calibrated = plan_search(spec, ADULT, history=CostHistory((run,)))
    assert _per_configuration(calibrated, "gradient_boosting") == _per_configuration(
        prior, "gradient_boosting"
    )
    assert _per_configuration(calibrated, "random_forest") < _per_configuration(prior, "random_forest")


def test_rows_the_history_cannot_read_are_left_out() -> None:
    good = {
        "name": "m",
        "version": 1,
        "family": "random_forest",
        "resources": json.dumps({"n_estimators": 10, "train_rows": 80, "validation_rows": 20}),
        "features": "[]",
        "seconds": 0.5,
    }
    rows = [
        good,
        {**good, "resources": "not json"},
        {**good, "resources": "[1, 2]"},
        {**good, "family": "no_such_family"},
        {**good, "resources": json.dumps({"n_estimators": 10})},  # no rows: nothing to scale by
        {**good, "seconds": None},
    ]
    (run,) = history_from_rows(rows).runs
    assert run.work == ((10, 1, 1),) and run.rows == 100 and run.seconds == 0.5


def test_batched_linear_trials_are_charged_by_batch() -> None:
    # 16 configurations of one batch: the batch's time sits on its first member, the others read ~0.
    rows = [
        {
            "name": "m",
            "version": 1,
            "family": "logistic",
            "resources": json.dumps(
                {"epochs": 50, "rounds": 5, "batch_size": 16, "train_rows": 20822, "validation_rows": 5205}
            ),
            "features": json.dumps([{"name": f"c{i}", "type": "DOUBLE"} for i in range(14)]),
            "seconds": 1.0 if i == 0 else 0.001,
        }
        for i in range(16)
    ]
    (run,) = history_from_rows(rows).runs
    assert run.epochs and len(run.work) == 16 and run.seconds == pytest.approx(1.015)
    spec = _spec(strategy="tupaq", families=["logistic"], budget="16 trials")
    calibrated = plan_search(spec, ADULT, history=CostHistory((run,))).families[0]
    assert calibrated.batch == 16 and calibrated.calibration.trials == 16


def test_small_data_pays_each_tree_and_the_search_its_fixed_costs() -> None:
    # 500 boosting iterations of 3 classes on Iris's 150 rows take seconds: the per-cell rate alone said 0.01.
    spec = _spec(strategy="random", families=["gradient_boosting"], budget="1 trials")
    estimate = plan_search(spec, IRIS)
    assert _per_configuration(estimate, "gradient_boosting") > 0.5
    assert estimate.fixed_seconds >= 0.1 and estimate.estimated_seconds > estimate.fixed_seconds


def test_compare_puts_the_estimate_beside_the_measured_time() -> None:
    estimate = plan_search(_spec(budget="30 seconds"), ADULT)
    assert estimate.estimated_seconds == 30.0
    assert estimate.compare(27.5) == "estimated ~30 s, measured 27.5 s, 0.92x the estimate"


def test_explain_reads_the_catalog_and_explain_analyze_shows_estimate_and_measured() -> None:
    search = "USING SEARCH (families => ['logistic', 'random_forest'], budget => '4 trials', seed => 1)"
    with contextlib.closing(paqdb.connect(autocommit=True)) as con:
        con.execute("LOAD DATASET iris")
        before = "\n".join(
            r[0] for r in con.execute(f"EXPLAIN CREATE MODEL m PREDICT species FROM iris {search}")
        )
        assert "calibrated" not in before  # nothing measured yet: the prior
        analyzed = [
            r[0] for r in con.execute(f"EXPLAIN ANALYZE CREATE MODEL m PREDICT species FROM iris {search}")
        ]
        measured = analyzed[analyzed.index("Measured:") :]
        search_line = next(line for line in measured if "ModelSearch:" in line)
        assert "(estimated ~" in search_line and "measured" in search_line and "x the estimate" in search_line
        assert any(
            re.fullmatch(r"- logistic: \d+ configurations?, [\d.]+ s \([\d.]+ s each\)", line.strip())
            for line in measured
        )
        after = "\n".join(
            r[0] for r in con.execute(f"EXPLAIN CREATE MODEL n PREDICT species FROM iris {search}")
        )
        # The trials the ANALYZE stored now calibrate both families.
        assert "random_forest (" in after and after.count("past trials") == 2
