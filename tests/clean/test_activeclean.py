"""ActiveClean's model, sampling, update and state (paqdb/clean/activeclean.py)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.svm import LinearSVC

from paqdb.clean.activeclean import SUPPORTED_FAMILIES, ActiveClean, CleanState, ConvexModel
from paqdb.errors import InvalidParameterError


def _data(
    n: int = 400, d: int = 6, seed: int = 0, classes: int = 2
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    w = rng.standard_normal(d)
    score = X @ w + 0.3 * rng.standard_normal(n)
    if classes == 2:
        y = (score > 0).astype(np.int64)
    else:
        y = np.digitize(score, np.quantile(score, np.linspace(0, 1, classes + 1)[1:-1]))
    return X, y, score


def _models() -> list[tuple[str, ConvexModel, np.ndarray, np.ndarray]]:
    """One fitted model per loss (and multiclass), with its data."""
    X, y, score = _data()
    _, y3, _ = _data(classes=3)
    out = []
    for name, estimator, target in [
        ("logistic", LogisticRegression(C=0.5), y),
        ("multinomial", LogisticRegression(C=0.5), y3),
        ("svm", LinearSVC(C=0.1, dual=True, max_iter=20_000, tol=1e-8), y),
        ("svm_ovr", LinearSVC(C=0.1, dual=True, max_iter=20_000, tol=1e-8), y3),
        ("hinge", LinearSVC(C=0.1, loss="hinge", dual=True, max_iter=20_000), y),
        ("ridge", Ridge(alpha=2.0), score),
    ]:
        estimator.fit(X, target)
        out.append((name, ConvexModel.from_estimator(estimator, len(X)), X, target))
    return out


@pytest.mark.parametrize("case", range(6))
def test_gradients_equal_finite_differences(case: int) -> None:
    name, model, X, y = _models()[case]
    rng = np.random.default_rng(1)
    model.theta = model.theta + 0.1 * rng.standard_normal(model.theta.shape)  # away from the optimum
    rows = X[:20]
    labels = y[:20]
    analytic = model.gradients(rows, labels)
    theta = model.theta
    eps = 1e-6
    numeric = np.zeros_like(analytic)
    for j in range(len(theta)):
        up, down = model.copy(), model.copy()
        step = np.zeros_like(theta)
        step[j] = eps
        up.theta, down.theta = theta + step, theta - step
        numeric[:, j] = (up.losses(rows, labels) - down.losses(rows, labels)) / (2 * eps)
    assert np.allclose(analytic, numeric, atol=1e-5), name
    # The summed gradient and the full gradient (penalty included) agree with the per-row ones.
    assert np.allclose(model.gradient_sum(rows, labels), analytic.sum(axis=0))
    full = model.full_gradient(rows, labels)
    up, down = model.copy(), model.copy()
    direction = rng.standard_normal(theta.shape)
    up.theta, down.theta = theta + eps * direction, theta - eps * direction
    slope = (up.objective(rows, labels) - down.objective(rows, labels)) / (2 * eps)
    assert slope == pytest.approx(float(full @ direction), rel=1e-4, abs=1e-6)


@pytest.mark.parametrize("case", [0, 1, 2, 3, 5])
def test_converted_penalty_makes_the_estimator_optimal(case: int) -> None:
    """l2 = 1/(C n) (or alpha/n): the fitted estimator's parameters have a near-zero objective gradient."""
    name, model, X, y = _models()[case]
    assert np.abs(model.full_gradient(X, y)).max() < 1e-3, name


@pytest.mark.parametrize("case", range(6))
def test_estimator_round_trip_predicts_identically(case: int) -> None:
    name, model, X, y = _models()[case]
    X_new = np.random.default_rng(5).standard_normal((200, X.shape[1]))
    _, _, _ = name, model, y
    estimator = {
        0: LogisticRegression(C=0.5),
        1: LogisticRegression(C=0.5),
        2: LinearSVC(C=0.1, dual=True, max_iter=20_000, tol=1e-8),
        3: LinearSVC(C=0.1, dual=True, max_iter=20_000, tol=1e-8),
        4: LinearSVC(C=0.1, loss="hinge", dual=True, max_iter=20_000),
        5: Ridge(alpha=2.0),
    }[case].fit(X, y)
    converted = ConvexModel.from_estimator(estimator, len(X))
    back = converted.to_estimator(estimator)
    assert type(back) is type(estimator)
    assert np.array_equal(back.predict(X_new), estimator.predict(X_new))
    assert np.array_equal(np.asarray(back.coef_), np.asarray(estimator.coef_))
    if hasattr(estimator, "classes_"):
        assert np.array_equal(back.classes_, estimator.classes_)
        assert np.array_equal(converted.predict(X_new), estimator.predict(X_new))
    else:
        assert np.allclose(converted.predict(X_new), estimator.predict(X_new))
    # New parameters reach the estimator.
    changed = converted.copy()
    changed.theta = changed.theta * 0.5
    assert np.allclose(
        np.asarray(changed.to_estimator(estimator).coef_).ravel(), np.asarray(estimator.coef_).ravel() * 0.5
    )


def test_unsupported_estimator_names_the_families() -> None:
    from sklearn.tree import DecisionTreeClassifier

    X, y, _ = _data()
    with pytest.raises(InvalidParameterError) as caught:
        ConvexModel.from_estimator(DecisionTreeClassifier().fit(X, y), len(X))
    assert "DecisionTreeClassifier" in caught.value.message
    for family in SUPPORTED_FAMILIES:
        assert family in (caught.value.hint or "")


def _problem(seed: int = 0) -> tuple[ConvexModel, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A small dirty problem: one feature of some class-1 records corrupted; a detector that over-flags."""
    rng = np.random.default_rng(seed)
    n, d = 3000, 5
    X = rng.standard_normal((n, d))
    y = (X @ np.array([2.0, -1.0, 1.0, 0.5, 0.0]) + rng.logistic(size=n) > 0).astype(np.int64)
    bad = rng.choice(np.flatnonzero(y == 1), 600, replace=False)
    X_dirty = X.copy()
    X_dirty[bad, 0] = -3.0 * X_dirty[bad, 0] - 2.0
    dirty = X_dirty[:, 0] < -1.0
    estimator = LogisticRegression().fit(X_dirty, y)
    return ConvexModel.from_estimator(estimator, n), X, X_dirty, y, dirty, bad


def test_sampling_probabilities_are_proportional_to_estimated_norms() -> None:
    model, _X, X_dirty, y, dirty, _ = _problem()
    run = ActiveClean(model, X_dirty, y, dirty, uniform_share=0.0, seed=0)
    candidates = run.candidates
    p = run.sampling_probabilities()
    norms = model.estimated_gradient_norms(X_dirty[candidates], y[candidates])
    assert p.sum() == pytest.approx(1.0)
    assert np.allclose(p, norms / norms.sum(), rtol=1e-9, atol=1e-3 * norms.mean() / norms.sum())
    # Before anything is cleaned the estimate is the dirty gradient's norm.
    assert np.allclose(norms, np.linalg.norm(model.gradients(X_dirty[candidates], y[candidates]), axis=1))
    # The default spreads half of each draw uniformly.
    mixed = ActiveClean(model, X_dirty, y, dirty, seed=0).sampling_probabilities()
    assert np.allclose(mixed, 0.5 * p + 0.5 / len(candidates))


def test_linearised_estimate_uses_the_change_seen_so_far() -> None:
    """After a batch, the estimate moves towards the cleaned gradient (first-order in the change)."""
    model, X, X_dirty, y, dirty, _ = _problem()
    rows = np.flatnonzero(dirty)[:50]
    delta = (X - X_dirty)[rows] * 1e-3  # a small change: the linearisation is exact to first order
    estimate = model.estimated_gradient_norms(X_dirty[rows], y[rows], delta, np.zeros((len(rows), 1)))
    true = np.linalg.norm(model.gradients(X_dirty[rows] + delta, y[rows]), axis=1)
    assert np.allclose(estimate, true, rtol=1e-4, atol=1e-9)


@pytest.mark.slow
def test_importance_weights_make_the_gradient_estimate_unbiased() -> None:
    model, X, X_dirty, y, dirty, _ = _problem()
    run = ActiveClean(model, X_dirty, y, dirty, batch_size=20, uniform_share=0.2, seed=3)
    full = model.full_gradient(X, y)  # the gradient on fully clean data
    draws = 3000
    total = np.zeros_like(full)
    for _ in range(draws):
        positions = run.next_batch()
        total += run.gradient_estimate(positions, X[positions], y[positions])
    mean = total / draws
    single = run.gradient_estimate(positions, X[positions], y[positions])
    # The mean over draws is within a few standard errors of the full gradient; one draw is not that close.
    assert np.linalg.norm(mean - full) < 0.05 * np.linalg.norm(full)
    assert np.linalg.norm(mean - full) < np.linalg.norm(single - full)


def test_update_converges_towards_the_clean_model() -> None:
    model, X, X_dirty, y, dirty, _ = _problem()
    clean = ConvexModel.from_estimator(LogisticRegression().fit(X, y), len(y))
    start = np.linalg.norm(model.theta - clean.theta)
    run = ActiveClean(model, X_dirty, y, dirty, batch_size=40, seed=0)
    objective_start = clean.copy()
    objective_start.theta = model.theta
    before = objective_start.objective(X, y)
    while len(run.state.cleaned) < 600:
        positions = run.next_batch()
        result = run.fold_in(positions, X[positions], y[positions])
    assert result.cleaned == len(run.state.cleaned)
    assert np.linalg.norm(run.model.theta - clean.theta) < 0.5 * start
    after = clean.copy()
    after.theta = run.model.theta
    optimum = clean.objective(X, y)
    assert after.objective(X, y) - optimum < 0.25 * (before - optimum)
    assert np.array_equal(run.X[run.cleaned], X[run.cleaned])


def test_state_round_trips_and_continuing_equals_not_stopping() -> None:
    model, X, X_dirty, y, dirty, _ = _problem()

    def batches(run: ActiveClean, count: int) -> None:
        for _ in range(count):
            positions = run.next_batch()
            run.fold_in(positions, X[positions], y[positions])

    straight = ActiveClean(model.copy(), X_dirty, y, dirty, batch_size=30, seed=7)
    batches(straight, 6)

    first = ActiveClean(model.copy(), X_dirty, y, dirty, batch_size=30, seed=7)
    batches(first, 3)
    pending = first.next_batch()  # stop with a batch handed out but not folded in yet
    text = json.dumps(first.state.to_dict())
    state = CleanState.from_dict(json.loads(text))
    # The database holds the cleaned records clean (the corrections were applied).
    X_now = X_dirty.copy()
    X_now[state.cleaned] = X[state.cleaned]
    resumed = ActiveClean(model.copy(), X_now, y, dirty, batch_size=30, seed=999, state=state)
    assert np.array_equal(resumed.model.theta, first.model.theta)
    resumed.fold_in(pending, X[pending], y[pending])
    batches(resumed, 2)
    assert resumed.state.cleaned == straight.state.cleaned
    assert np.array_equal(resumed.model.theta, straight.model.theta)
    assert resumed.state.to_dict() == straight.state.to_dict()


def test_fold_in_rejects_positions_outside_the_batch() -> None:
    model, X, X_dirty, y, dirty, _ = _problem()
    run = ActiveClean(model, X_dirty, y, dirty, seed=0)
    run.next_batch()
    outside = np.flatnonzero(~dirty)[:1]
    with pytest.raises(InvalidParameterError, match="not in the batch"):
        run.fold_in(outside, X[outside], y[outside])


def test_partial_batch_and_empty_candidates() -> None:
    model, X, X_dirty, y, dirty, _ = _problem()
    run = ActiveClean(model, X_dirty, y, dirty, seed=0)
    positions = run.next_batch()
    result = run.fold_in(positions[:3], X[positions[:3]], y[positions[:3]])
    assert result.cleaned == 3 and run.cleaned.sum() == 3
    run.set_dirty(np.zeros(len(y), dtype=bool))
    assert len(run.next_batch()) == 0


def test_model_json_round_trip() -> None:
    for _, model, X, _ in _models():
        again = ConvexModel.from_dict(json.loads(json.dumps(model.to_dict())))
        assert np.array_equal(again.theta, model.theta)
        assert np.array_equal(again.predict(X), model.predict(X))


@pytest.mark.slow
def test_estimate_from_all_cleaned_records_is_unbiased_and_less_noisy() -> None:
    """At fixed parameters the all-samples estimate averages to the clean gradient; one batch is noisier."""
    model, X, X_dirty, y, dirty, _ = _problem()
    theta0 = model.theta.copy()
    full = model.full_gradient(X, y)  # the gradient on fully clean data, at theta0
    total = np.zeros_like(full)
    error_all, error_batch = 0.0, 0.0
    runs = 300
    for r in range(runs):
        run = ActiveClean(model.copy(), X_dirty, y, dirty, batch_size=20, steps=1, uniform_share=0.3, seed=r)
        for _ in range(3):
            positions = run.next_batch()
            run.fold_in(positions, X[positions], y[positions])
        positions = run.next_batch()
        run.model.theta = theta0  # evaluate both estimates at the same parameters
        single = run.gradient_estimate(positions, X[positions], y[positions])
        run.fold_in(positions, X[positions], y[positions])
        run.model.theta = theta0
        estimate = run.estimated_gradient()
        total += estimate
        error_all += float(np.linalg.norm(estimate - full) ** 2)
        error_batch += float(np.linalg.norm(single - full) ** 2)
    mean = total / runs
    # Unbiased: the mean is within a few standard errors of the clean gradient (se ~ sqrt(mse / runs)).
    assert np.linalg.norm(mean - full) < 4.0 * np.sqrt(error_all / runs / runs)
    assert np.linalg.norm(mean - full) < 0.05 * np.linalg.norm(full)
    # Four batches' records, not one: the mean squared error is at most half.
    assert error_all < 0.5 * error_batch


def test_objective_weights_are_importance_weights_and_exact_once_all_is_cleaned() -> None:
    model, X, X_dirty, y, dirty, _ = _problem()
    run = ActiveClean(model, X_dirty, y, dirty, batch_size=25, uniform_share=0.0, seed=1)
    positions = run.next_batch()
    N = len(run.candidates)
    draws = np.asarray(run.state.pending_draws, dtype=np.float64)
    prob = np.asarray(run.state.pending_probability, dtype=np.float64)
    run.fold_in(positions, X[positions], y[positions])
    rows, weights = run.objective_weights()
    exact = ~dirty & ~run.cleaned
    assert np.array_equal(rows[: exact.sum()], np.flatnonzero(exact))
    assert np.array_equal(rows[exact.sum() :], positions)
    assert np.allclose(weights[: exact.sum()], 1.0)
    assert np.allclose(weights[exact.sum() :], draws / (draws.sum() * prob))  # 1 / (b p_i) per draw
    assert 0.2 * N < weights.sum() - exact.sum() < 5.0 * N  # stands for the N flagged records
    # The model minimises the estimated objective: its gradient vanishes.
    assert np.linalg.norm(run.estimated_gradient()) < 1e-4 * np.linalg.norm(model.penalty_gradient() + 1.0)
    # Flag only a few records and clean them all: the objective is exact, the model the clean optimum on it.
    few = np.zeros(len(y), dtype=bool)
    few[np.flatnonzero(dirty & ~run.cleaned)[:30]] = True
    run.set_dirty(few)
    while len(run.candidates):
        positions = run.next_batch()
        run.fold_in(positions, X[positions], y[positions])
    rows, weights = run.objective_weights()
    assert np.allclose(weights, 1.0) and len(rows) == len(np.unique(rows))
    counted = ~few | run.cleaned
    assert np.array_equal(np.sort(rows), np.flatnonzero(counted))
    assert np.abs(run.model.full_gradient(run.X[counted], run.y[counted])).max() < 1e-4


def test_changing_mask_self_normalises_and_legacy_state_counts_records_once() -> None:
    model, X, X_dirty, y, dirty, _ = _problem()
    run = ActiveClean(model.copy(), X_dirty, y, dirty, batch_size=30, seed=2)
    for _ in range(2):
        positions = run.next_batch()
        run.fold_in(positions, X[positions], y[positions])
    assert not run.state.masks_changed
    fewer = dirty & (X_dirty[:, 1] > 0)
    run.set_dirty(fewer | run.cleaned)
    assert run.state.masks_changed
    rows, weights = run.objective_weights()
    sample = weights[len(rows) - len(run.state.cleaned) :]
    assert sample.sum() == pytest.approx(len(run.state.cleaned) + len(run.candidates))
    # A state saved before draws were recorded: its cleaned records count once, exactly.
    legacy = run.state.to_dict()
    for name in ("cleaned_batch", "cleaned_draws", "cleaned_probability", "batch_draws", "masks_changed"):
        legacy.pop(name)
    X_now = X_dirty.copy()
    X_now[legacy["cleaned"]] = X[legacy["cleaned"]]
    resumed = ActiveClean(model.copy(), X_now, y, dirty, state=CleanState.from_dict(legacy))
    rows, weights = resumed.objective_weights()
    assert np.allclose(weights, 1.0)
    positions = resumed.next_batch()
    resumed.fold_in(positions, X[positions], y[positions])
    rows, weights = resumed.objective_weights()
    old = len(legacy["cleaned"])
    assert np.allclose(weights[len(rows) - len(resumed.state.cleaned) :][:old], 1.0)
    assert not np.allclose(weights[-len(positions) :], 1.0)
    # A state whose draw records do not match its cleaned records is refused.
    broken = resumed.state.to_dict()
    broken["cleaned_draws"] = broken["cleaned_draws"][:-1]
    with pytest.raises(InvalidParameterError, match="draw records"):
        ActiveClean(model.copy(), X_now, y, dirty, state=CleanState.from_dict(broken))


@pytest.mark.parametrize("options", [{"estimate": "batch", "steps": 1}, {"steps": 3}, {}])
def test_update_variants_continue_identically_from_a_saved_state(options: dict[str, object]) -> None:
    model, X, X_dirty, y, dirty, _ = _problem()

    def batches(run: ActiveClean, count: int) -> None:
        for _ in range(count):
            positions = run.next_batch()
            run.fold_in(positions, X[positions], y[positions])

    straight = ActiveClean(model.copy(), X_dirty, y, dirty, batch_size=30, seed=4, **options)  # type: ignore[arg-type]
    batches(straight, 4)
    first = ActiveClean(model.copy(), X_dirty, y, dirty, batch_size=30, seed=4, **options)  # type: ignore[arg-type]
    batches(first, 2)
    state = CleanState.from_dict(json.loads(json.dumps(first.state.to_dict())))
    X_now = X_dirty.copy()
    X_now[state.cleaned] = X[state.cleaned]
    resumed = ActiveClean(model.copy(), X_now, y, dirty, batch_size=30, state=state, **options)  # type: ignore[arg-type]
    batches(resumed, 2)
    assert np.array_equal(resumed.model.theta, straight.model.theta)
    assert resumed.state.to_dict() == straight.state.to_dict()
    assert np.linalg.norm(straight.model.theta - model.theta) > 0


def test_estimate_and_steps_are_checked() -> None:
    model, _X, X_dirty, y, dirty, _ = _problem()
    with pytest.raises(InvalidParameterError, match="estimate"):
        ActiveClean(model, X_dirty, y, dirty, estimate="some")  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError, match="steps"):
        ActiveClean(model, X_dirty, y, dirty, steps=0)
