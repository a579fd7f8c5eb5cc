"""Small batches of a HistGradientBoosting model are scored on one OpenMP thread, large ones on all."""

from __future__ import annotations

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_info

from paqdb.ml.model import SINGLE_THREAD_ROWS, scoring_threads


def _openmp_threads() -> set[int]:
    return {lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "openmp"}


def test_small_boosting_batches_run_on_one_thread_and_the_limit_is_lifted_after() -> None:
    rng = np.random.default_rng(0)
    matrix = rng.normal(size=(200, 3))
    model = HistGradientBoostingClassifier(max_iter=5).fit(matrix, matrix[:, 0] > 0)
    before = _openmp_threads()
    with scoring_threads(model, 2048):
        assert _openmp_threads() == {1}
        inside = model.predict(matrix)
    assert _openmp_threads() == before
    assert np.array_equal(inside, model.predict(matrix))


def test_large_batches_and_other_estimators_keep_their_threads() -> None:
    before = _openmp_threads()
    with scoring_threads(HistGradientBoostingClassifier(), SINGLE_THREAD_ROWS + 1):
        assert _openmp_threads() == before
    with scoring_threads(LogisticRegression(), 10):
        assert _openmp_threads() == before
