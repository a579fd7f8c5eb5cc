"""The learned detector and the baselines (paqdb/clean/detectors.py, paqdb/clean/baselines.py)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from paqdb.clean.activeclean import ActiveClean, ConvexModel
from paqdb.clean.baselines import (
    cleanlab_label_issues,
    dirty_model,
    retrain,
    retrain_on_mix,
    retrain_on_sample,
    run_activeclean,
    uniform_activeclean,
)
from paqdb.clean.detectors import LearnedDetector, combine
from paqdb.errors import InvalidParameterError


def _problem(seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Class-1 records with feature 0 corrupted (shifted far out); X clean, X dirty, y, corrupted, rules."""
    rng = np.random.default_rng(seed)
    n = 2000
    X = rng.standard_normal((n, 4))
    y = (X @ np.array([2.0, -1.0, 1.0, 0.5]) + rng.logistic(size=n) > 0).astype(np.int64)
    bad = rng.choice(np.flatnonzero(y == 1), 400, replace=False)
    X_dirty = X.copy()
    X_dirty[bad, 0] = -2.0 * X_dirty[bad, 0] - 4.0
    corrupted = np.zeros(n, dtype=bool)
    corrupted[bad] = True
    rules = X_dirty[:, 0] < -1.0
    return X, X_dirty, y, corrupted, rules


def test_learned_detector_finds_the_dirty_records() -> None:
    _X, X_dirty, y, corrupted, _ = _problem()
    detector = LearnedDetector()
    assert not detector.ready
    assert detector.predict(X_dirty, y).all()  # nothing learned yet: every record is a candidate
    rules = X_dirty[:, 0] < -1.0
    assert np.array_equal(detector.predict(X_dirty, y, rules=rules), rules)
    seen = np.arange(300)
    detector.fit(X_dirty[seen], np.zeros(300, dtype=bool), y[seen])
    assert not detector.ready  # only unchanged records: not ready
    detector.fit(X_dirty[seen], corrupted[seen], y[seen])
    assert detector.ready
    predicted = detector.predict(X_dirty, y)
    recall = (predicted & corrupted).sum() / corrupted.sum()
    precision = (predicted & corrupted).sum() / predicted.sum()
    assert recall > 0.9 and precision > 0.7
    both = detector.predict(X_dirty, y, rules=np.ones(len(y), dtype=bool))
    assert both.all()
    logistic = LearnedDetector("logistic").fit(X_dirty[seen], corrupted[seen], y[seen])
    assert (logistic.predict(X_dirty, y) & corrupted).sum() > 0.8 * corrupted.sum()


def test_detector_errors_and_combine() -> None:
    with pytest.raises(InvalidParameterError, match="unknown detector kind"):
        LearnedDetector("svm")  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError, match="not seen both"):
        LearnedDetector().probability(np.zeros((2, 2)), np.zeros(2))
    a, b = np.array([True, False, False]), np.array([False, False, True])
    assert combine(a, b).tolist() == [True, False, True]
    assert combine(None, b).tolist() == b.tolist()


def test_retraining_baselines() -> None:
    X, X_dirty, y, _, rules = _problem()
    template = LogisticRegression().fit(X_dirty, y)
    copy = dirty_model(template)
    assert copy is not template and np.array_equal(copy.coef_, template.coef_)
    sample = np.arange(200)
    on_sample = retrain_on_sample(template, X[sample], y[sample])
    assert type(on_sample) is type(template) and on_sample.coef_.shape == template.coef_.shape
    flagged = np.flatnonzero(rules)
    mix = retrain_on_mix(template, X_dirty, y, flagged, X[flagged], y[flagged])
    everything = retrain(template, np.where(rules[:, None], X, X_dirty), y)
    assert np.allclose(mix.coef_, everything.coef_)
    with pytest.raises(InvalidParameterError, match="no row of class"):
        retrain_on_sample(template, X[y == 0][:20], y[y == 0][:20])


def test_uniform_activeclean_samples_uniformly() -> None:
    _X, X_dirty, y, _, rules = _problem()
    model = ConvexModel.from_estimator(LogisticRegression().fit(X_dirty, y), len(y))
    run = uniform_activeclean(model, X_dirty, y, rules, seed=0)
    assert isinstance(run, ActiveClean) and run.sampling == "uniform"
    p = run.sampling_probabilities()
    assert np.allclose(p, 1.0 / rules.sum())


def test_run_activeclean_improves_on_the_dirty_model() -> None:
    X, X_dirty, y, corrupted, rules = _problem()
    dirty = LogisticRegression().fit(X_dirty, y)
    clean = LogisticRegression().fit(X, y)
    reached: list[int] = []
    model = ConvexModel.from_estimator(dirty, len(y))

    def oracle(positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return X[positions], y[positions]

    run = run_activeclean(
        model,
        X_dirty,
        y,
        rules,
        oracle,
        300,
        checkpoints=(100, 300),
        on_checkpoint=lambda c, _: reached.append(c),
    )
    assert reached == [100, 300] and len(run.state.cleaned) == 300
    coef = run.model.to_estimator(dirty).coef_
    assert np.linalg.norm(coef - clean.coef_) < np.linalg.norm(dirty.coef_ - clean.coef_)
    # With a learned detector alone, the mask narrows to what it predicts dirty once it has learned.
    learned = run_activeclean(
        ConvexModel.from_estimator(dirty, len(y)), X_dirty, y, None, oracle, 200, detector=LearnedDetector()
    )
    assert learned.dirty.sum() < len(y)
    assert (learned.dirty & corrupted).sum() > 0.8 * (corrupted & ~learned.cleaned).sum()


def test_cleanlab_finds_flipped_labels() -> None:
    rng = np.random.default_rng(0)
    n = 1500
    X = rng.standard_normal((n, 3))
    y = (X @ np.array([3.0, -2.0, 1.0]) > 0).astype(np.int64)
    flipped = rng.choice(n, 100, replace=False)
    noisy = y.copy()
    noisy[flipped] = 1 - noisy[flipped]
    issues = cleanlab_label_issues(LogisticRegression(), X, noisy, seed=0)
    truth = np.zeros(n, dtype=bool)
    truth[flipped] = True
    assert (issues & truth).sum() > 0.7 * truth.sum()
    assert (issues & ~truth).sum() < 0.5 * issues.sum()
