"""choose_solver: the linear models' solver follows the training matrix's shape."""

from __future__ import annotations

import pytest

from paqdb.ml.families import (
    NEWTON_CHOLESKY_MAX_FEATURES,
    RIDGE_CHOLESKY_MAX_SIZE,
    TrainingShape,
    choose_solver,
    get_family,
)


def test_logistic_uses_newton_cholesky_only_for_binary_narrow_data() -> None:
    narrow_binary = TrainingShape(26_000, 6_000, None, n_features=113, n_classes=2)
    assert choose_solver("logistic", narrow_binary) == "newton-cholesky"
    edge = TrainingShape(26_000, n_features=NEWTON_CHOLESKY_MAX_FEATURES, n_classes=2)
    assert choose_solver("logistic", edge) == "newton-cholesky"
    wide = TrainingShape(26_000, n_features=NEWTON_CHOLESKY_MAX_FEATURES + 1, n_classes=2)
    assert choose_solver("logistic", wide) == "lbfgs"
    assert choose_solver("logistic", TrainingShape(26_000, n_features=20, n_classes=3)) == "lbfgs"
    # Unknown width or classes: scikit-learn's default.
    assert choose_solver("logistic", TrainingShape(26_000, n_classes=2)) == "lbfgs"
    assert choose_solver("logistic", TrainingShape(26_000, n_features=20)) == "lbfgs"


def test_ridge_solves_small_systems_exactly_and_large_ones_iteratively() -> None:
    assert choose_solver("ridge", TrainingShape(26_000, n_features=112)) == "cholesky"
    assert choose_solver("ridge", TrainingShape(26_000, n_features=RIDGE_CHOLESKY_MAX_SIZE)) == "cholesky"
    assert choose_solver("ridge", TrainingShape(26_000, n_features=RIDGE_CHOLESKY_MAX_SIZE + 1)) == "lsqr"
    # Fewer rows than columns: the kernel system is rows x rows, small enough to solve exactly.
    assert choose_solver("ridge", TrainingShape(500, n_features=50_000)) == "cholesky"
    assert choose_solver("ridge", TrainingShape(0, n_features=5_000)) == "lsqr"
    assert choose_solver("ridge", TrainingShape(26_000)) == "auto"


def test_unknown_linear_model_is_an_error() -> None:
    with pytest.raises(ValueError, match="no solver rule"):
        choose_solver("svm", TrainingShape(10))  # type: ignore[arg-type]


def test_builders_record_the_chosen_solver_in_the_estimator() -> None:
    shape = TrainingShape(26_000, 6_000, None, n_features=113, n_classes=2)
    logistic = get_family("logistic").build("classification", None, 0, shape)
    assert logistic.get_params()["solver"] == "newton-cholesky"
    assert "solver" not in get_family("logistic").configuration()
    assert get_family("logistic").build("classification", None, 0).get_params()["solver"] == "lbfgs"
    ridge = get_family("ridge").build("regression", None, 0, TrainingShape(26_000, n_features=5_000))
    assert ridge.get_params()["solver"] == "lsqr"


def test_newton_cholesky_logistic_warm_starts_round_by_round() -> None:
    """The TuPAQ search warm-starts LogisticRegression with max_iter = iterations per round."""
    import numpy as np

    rng = np.random.default_rng(0)
    matrix = rng.normal(size=(400, 5))
    target = (matrix @ np.array([1.0, -2.0, 0.5, 0.0, 1.0]) + rng.normal(size=400) > 0).astype(np.int64)
    shape = TrainingShape(400, int(np.bincount(target).min()), None, n_features=5, n_classes=2)
    estimator = get_family("logistic").build("classification", {"max_iter": 1}, 0, shape)
    assert estimator.get_params()["solver"] == "newton-cholesky"
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        estimator.fit(matrix, target)
        first = estimator.coef_.copy()
        estimator.set_params(warm_start=True, max_iter=10)
        estimator.fit(matrix, target)
    exact = get_family("logistic").build("classification", None, 0, shape).fit(matrix, target)
    assert not np.allclose(first, exact.coef_)
    np.testing.assert_allclose(estimator.coef_, exact.coef_, rtol=1e-4, atol=1e-6)
