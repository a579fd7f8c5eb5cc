"""CLEAN: progressive, model-aware cleaning of dirty records (ActiveClean, Krishnan et al., VLDB 2016).

The algorithm works on featurised NumPy matrices and row positions; the CLEAN statement maps record keys to
positions, reads and writes SQL and persists the state.

* :mod:`paqdb.clean.activeclean`: :class:`ConvexModel` (the parameters of a logistic regression, linear SVM
  or ridge model, its loss, gradients and penalty), :class:`ActiveClean` (gradient-norm sampling with the
  paper's linearised estimator, the importance-weighted gradient of every record cleaned so far, and
  the model brought to the minimum of that estimate after each batch; the paper's literal one-step
  update is ``estimate='batch', steps=1``) and :class:`CleanState` (everything needed to continue a run
  later, JSON-able).
* :mod:`paqdb.clean.detectors`: :class:`LearnedDetector`, a classifier trained on the records cleaned so
  far that predicts which uncleaned records are dirty (alone or with a rules mask).
* :mod:`paqdb.clean.baselines`: the dirty model, retraining on the cleaned sample only, retraining on dirty
  plus cleaned records, uniform sampling with the same update, and cleanlab's label-issue finder as a
  detector; :func:`run_activeclean` runs the whole loop against a cleaning function.
* :mod:`paqdb.clean.capability`: the CLEAN statement's implementation (reads the table through the engine,
  detects, repairs, runs the algorithm, saves the cleaned model as a new version);
  :mod:`paqdb.clean.repair` the four repairs (table, SQL assignments, a registered Python function, by
  hand); :mod:`paqdb.clean.corrections` the catalog tables of runs, corrections and pending batches.
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
