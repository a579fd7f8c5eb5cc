"""CLEAN: progressive, model-aware cleaning of dirty records (ActiveClean, Krishnan et al., VLDB 2016).

The algorithm works on featurised NumPy matrices and row positions; the CLEAN statement maps record keys to
positions, reads and writes SQL and persists the state.

* :mod:`paqdb.clean.activeclean`: :class:`ConvexModel` (the parameters of a logistic regression, linear SVM
  or ridge model, its loss, gradients and penalty), :class:`ActiveClean` (gradient-norm sampling with the
  paper's linearised estimator, the importance-weighted update, the step-size schedule) and
  :class:`CleanState` (everything needed to continue a run later, JSON-able).
* :mod:`paqdb.clean.detectors`: :class:`LearnedDetector`, a classifier trained on the records cleaned so
  far that predicts which uncleaned records are dirty (alone or with a rules mask).
* :mod:`paqdb.clean.baselines`: the dirty model, retraining on the cleaned sample only, retraining on dirty
  plus cleaned records, uniform sampling with the same update, and cleanlab's label-issue finder as a
  detector; :func:`run_activeclean` runs the whole loop against a cleaning function.
"""

from __future__ import annotations

from paqdb.clean.activeclean import (
    SUPPORTED_FAMILIES,
    ActiveClean,
    BatchResult,
    CleanState,
    ConvexModel,
)
from paqdb.clean.detectors import LearnedDetector

__all__ = ["SUPPORTED_FAMILIES", "ActiveClean", "BatchResult", "CleanState", "ConvexModel", "LearnedDetector"]
