"""What to compare ActiveClean with, and the whole cleaning loop against a cleaning function.

Each baseline answers "what model do I get for a budget of ``B`` cleaned records?" differently:

* :func:`dirty_model`: clean nothing; the model trained on the dirty data.
* :func:`retrain_on_sample`: clean a uniform sample of ``B`` records and train on those alone (SampleClean
  style): unbiased, but a small sample gives a high-variance model, the more so the more features.
* :func:`retrain_on_mix`: clean ``B`` of the flagged records and retrain on everything (the cleaned records
  replacing their dirty versions): uses all the data, but mixes two distributions, which biases the model
  (it can end up worse than not cleaning at all).
* :func:`uniform_activeclean`: ActiveClean's update with uniform sampling among the flagged records (what the
  gradient-norm sampling is measured against).
* :func:`cleanlab_label_issues`: a detector, not a model: cleanlab's confident-learning label-issue finder on
  out-of-fold predicted probabilities. It finds *label* errors only (records whose label disagrees with what
  the features say), so it applies when the dirt is in the label column; its mask can be given to
  :class:`~paqdb.clean.activeclean.ActiveClean` as the detector.

:func:`run_activeclean` runs the ActiveClean loop for a budget against a function that cleans records by
position (the benchmark's oracle, or a user's repair function), optionally with a
:class:`~paqdb.clean.detectors.LearnedDetector` refitted after every batch.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from paqdb.clean.activeclean import ActiveClean, ConvexModel, Sampling
from paqdb.clean.detectors import LearnedDetector
from paqdb.errors import InvalidParameterError

Cleaner = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]
"""Cleans records by position: ``positions -> (X_clean, y_clean)`` for exactly those positions."""


def dirty_model(estimator: Any) -> Any:
    """The model trained on the dirty data, unchanged (a copy, so callers may modify it)."""
    return copy.deepcopy(estimator)


def retrain(template: Any, X: np.ndarray, y: np.ndarray) -> Any:
    """A fresh copy of ``template`` (same class and hyperparameters) fitted on ``X``, ``y``.

    Raises:
        InvalidParameterError: A classifier's training rows lack one of the template's classes (its class
            codes would no longer line up with the template's).
    """
    from sklearn.base import clone

    classes = getattr(template, "classes_", None)
    if classes is not None:
        missing = sorted(set(np.asarray(classes).tolist()) - set(np.unique(y).tolist()))
        if missing:
            raise InvalidParameterError(
                f"the records to retrain on have no row of class {missing[0]!r}",
                hint="clean a larger sample, so that every class is present",
            )
    return clone(template).fit(X, y)


def retrain_on_sample(template: Any, X_sample: np.ndarray, y_sample: np.ndarray) -> Any:
    """SampleClean-style: train on the cleaned sample alone (a uniform sample of all records)."""
    return retrain(template, X_sample, y_sample)


def retrain_on_mix(
    template: Any,
    X: np.ndarray,
    y: np.ndarray,
    positions: np.ndarray,
    X_clean: np.ndarray,
    y_clean: np.ndarray,
) -> Any:
    """Retrain on dirty plus cleaned records: every record, the cleaned ones (``positions``) replaced."""
    X_mix = np.array(X, dtype=np.float64)
    y_mix = np.array(y)
    X_mix[positions] = X_clean
    y_mix[positions] = y_clean
    return retrain(template, X_mix, y_mix)


def uniform_activeclean(
    model: ConvexModel, X: np.ndarray, y: np.ndarray, dirty: np.ndarray, **options: Any
) -> ActiveClean:
    """ActiveClean with uniform sampling among the flagged records and the same importance-weighted update."""
    return ActiveClean(model, X, y, dirty, sampling="uniform", **options)


def cleanlab_label_issues(
    template: Any, X: np.ndarray, y: np.ndarray, *, folds: int = 5, seed: int = 0
) -> np.ndarray:
    """Records whose label is likely wrong, by cleanlab's confident learning (``find_label_issues``).

    Args:
        template: A classifier with ``predict_proba`` (e.g. the dirty model); fitted copies of it give
            out-of-fold probabilities.
        X: ``(n, d)`` features.
        y: ``(n,)`` class codes ``0 .. k-1``.
        folds: Cross-validation folds for the out-of-fold probabilities.
        seed: Seeds the folds.

    Returns:
        ``(n,)`` bool mask of likely label errors.

    Raises:
        InvalidParameterError: cleanlab is not installed, or the model has no probabilities.
    """
    try:
        from cleanlab.filter import find_label_issues
    except ImportError as exc:  # pragma: no cover - exercised only without the extra
        raise InvalidParameterError(
            "cleanlab is not installed", hint="pip install 'paqdb[clean]' (or pip install cleanlab)"
        ) from exc
    from sklearn.base import clone
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    if not hasattr(template, "predict_proba"):
        raise InvalidParameterError(
            f"cleanlab needs class probabilities, and a {type(template).__name__} has none",
            hint="use a logistic regression (or another probabilistic classifier) as the template",
        )
    codes = np.asarray(y).astype(np.int64)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    probabilities = cross_val_predict(clone(template), X, codes, cv=splitter, method="predict_proba")
    return np.asarray(find_label_issues(labels=codes, pred_probs=probabilities), dtype=bool)


def run_activeclean(
    model: ConvexModel,
    X: np.ndarray,
    y: np.ndarray,
    dirty: np.ndarray | None,
    clean: Cleaner,
    budget: int,
    *,
    batch_size: int = 50,
    sampling: Sampling = "gradient",
    detector: LearnedDetector | None = None,
    checkpoints: Sequence[int] = (),
    on_checkpoint: Callable[[int, ActiveClean], None] | None = None,
    **options: Any,
) -> ActiveClean:
    """Run ActiveClean until ``budget`` records are cleaned (or nothing flagged is left).

    Args:
        model: The dirty model's parameters (updated in place).
        X: ``(n, d)`` records as they are.
        y: ``(n,)`` labels as they are.
        dirty: The rules detector's mask, or None for a learned detector alone (every record is a candidate
            until the detector is ready).
        clean: Cleans records by position (see :data:`Cleaner`).
        budget: Records to clean.
        batch_size: Draws per batch.
        sampling: ``gradient`` or ``uniform``.
        detector: A learned detector, refitted on the cleaned records after each batch and combined with
            ``dirty`` (``'both'``) when both are given.
        checkpoints: Cleaned-record counts at which to call ``on_checkpoint`` (the batches are cut so each
            count is hit exactly).
        on_checkpoint: Called with the count and the run.
        **options: More :class:`~paqdb.clean.activeclean.ActiveClean` options (``seed``, ``step_size``...).

    Returns:
        The run (its :attr:`~ActiveClean.model` is the cleaned model).
    """
    n = np.asarray(X).shape[0]
    if budget < 0:
        raise InvalidParameterError(f"budget must not be negative, not {budget}", hint="budget => 500")
    if dirty is None and detector is None:
        raise InvalidParameterError("no detector", hint="pass a rules mask, a LearnedDetector, or both")
    start = np.ones(n, dtype=bool) if dirty is None else np.asarray(dirty, dtype=bool)
    run = ActiveClean(model, X, y, start, batch_size=batch_size, sampling=sampling, **options)
    marks = sorted({int(c) for c in checkpoints if 0 < c <= budget})
    before_X: list[np.ndarray] = []
    before_y: list[np.ndarray] = []
    changed: list[bool] = []
    while True:
        done = len(run.state.cleaned)
        if done >= budget:
            break
        upcoming = [m for m in marks if m > done]
        room = min(budget, upcoming[0]) - done if upcoming else budget - done
        positions = run.next_batch(min(batch_size, room))
        if len(positions) == 0:
            break
        old_X, old_y = run.X[positions].copy(), run.y[positions].copy()
        X_clean, y_clean = clean(positions)
        result = run.fold_in(positions, X_clean, y_clean)
        if detector is not None:
            before_X.append(old_X)
            before_y.append(old_y)
            changed.extend(run.state.changed[-len(positions) :])
            detector.fit(np.vstack(before_X), np.asarray(changed), np.concatenate(before_y))
            run.set_dirty(detector.predict(run.X, run.y, rules=dirty))
        if on_checkpoint is not None and result.cleaned in marks:
            on_checkpoint(result.cleaned, run)
    return run
