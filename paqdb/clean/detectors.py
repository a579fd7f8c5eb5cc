"""Which records are dirty: a classifier learned from the records cleaned so far (the adaptive detector).

A rules detector (a SQL predicate) flags records by what they look like; the statement layer evaluates it.
:class:`LearnedDetector` learns from cleaning itself: each record cleaned so far is an example (its features
*before* cleaning, and its label, as the input; whether cleaning changed it as the target), and the
classifier predicts which uncleaned records cleaning would change. With ``detector => 'both'`` the two masks
are combined with :func:`combine` (a record is flagged when either flags it).

When it starts to be used: only once the cleaned records include both a changed and an unchanged one
(:attr:`LearnedDetector.ready`); before that there is nothing to learn the boundary from, and
:meth:`LearnedDetector.predict` returns the fallback (the rules mask, or every record when there are no
rules), so the first batches are drawn from everything the rules flag (or from all records).
"""

from __future__ import annotations

from typing import Any, Literal, TypeAlias

import numpy as np

from paqdb.errors import InvalidParameterError

DetectorKind: TypeAlias = Literal["forest", "logistic"]


def combine(rules: np.ndarray | None, learned: np.ndarray | None) -> np.ndarray:
    """The ``'both'`` detector: flagged by the rules or by the learned classifier (either may be None)."""
    if rules is None and learned is None:
        raise InvalidParameterError("no detector mask to combine", hint="pass a rules or a learned mask")
    if rules is None:
        assert learned is not None
        return np.asarray(learned, dtype=bool).copy()
    if learned is None:
        return np.asarray(rules, dtype=bool).copy()
    return np.asarray(rules, dtype=bool) | np.asarray(learned, dtype=bool)


class LearnedDetector:
    """A classifier that predicts, from a record's (dirty) features and label, whether cleaning changes it.

    Args:
        kind: ``forest`` (a small random forest, 50 trees of depth at most 8: it finds value ranges and
            interactions a linear rule would miss) or ``logistic`` (standardised logistic regression).
        threshold: Flag a record when its predicted probability of being dirty is at least this. Below 0.5
            on purpose: a missed dirty record is treated as clean and biases the model, while a flagged clean
            one only costs a draw, so the detector leans towards flagging.
        seed: Seeds the forest.
        use_label: Whether the label is an input too (label errors are only visible with it).
    """

    def __init__(
        self, kind: DetectorKind = "forest", *, threshold: float = 0.3, seed: int = 0, use_label: bool = True
    ) -> None:
        if kind not in ("forest", "logistic"):
            raise InvalidParameterError(f"unknown detector kind {kind!r}", hint="use 'forest' or 'logistic'")
        if not 0.0 < threshold < 1.0:
            raise InvalidParameterError(
                f"threshold must be between 0 and 1, not {threshold}", hint="threshold => 0.3"
            )
        self.kind: DetectorKind = kind
        self.threshold = float(threshold)
        self.seed = int(seed)
        self.use_label = use_label
        self._classifier: Any = None
        self.examples = 0

    @property
    def ready(self) -> bool:
        """Whether :meth:`fit` has seen both a changed and an unchanged record (so it predicts)."""
        return self._classifier is not None

    def _inputs(self, X: np.ndarray, y: np.ndarray | None) -> np.ndarray:
        X = np.asarray(X, dtype=np.float64)
        if not self.use_label:
            return X
        if y is None:
            raise InvalidParameterError(
                "this detector reads the label too", hint="pass y, or build it with use_label=False"
            )
        return np.column_stack([X, np.asarray(y, dtype=np.float64)])

    def fit(self, X: np.ndarray, changed: np.ndarray, y: np.ndarray | None = None) -> LearnedDetector:
        """Learn from the records cleaned so far.

        Args:
            X: ``(m, d)`` their features *before* cleaning.
            changed: ``(m,)`` bool, whether cleaning changed each record.
            y: ``(m,)`` their labels before cleaning (when ``use_label``).

        Returns:
            self; :attr:`ready` is False (and the classifier unset) while ``changed`` has a single value.
        """
        changed = np.asarray(changed, dtype=bool)
        inputs = self._inputs(X, y)
        self.examples = len(changed)
        if changed.all() or not changed.any():
            self._classifier = None
            return self
        if self.kind == "forest":
            from sklearn.ensemble import RandomForestClassifier

            classifier: Any = RandomForestClassifier(
                n_estimators=50, max_depth=8, min_samples_leaf=2, random_state=self.seed, n_jobs=1
            )
        else:
            from sklearn.linear_model import LogisticRegression
            from sklearn.pipeline import make_pipeline
            from sklearn.preprocessing import StandardScaler

            classifier = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=1000))
        classifier.fit(inputs, changed)
        self._classifier = classifier
        return self

    def probability(self, X: np.ndarray, y: np.ndarray | None = None) -> np.ndarray:
        """Each record's predicted probability of being dirty, ``(n,)`` (requires :attr:`ready`)."""
        if self._classifier is None:
            raise InvalidParameterError(
                "the learned detector has not seen both a changed and an unchanged cleaned record yet",
                hint="clean more records first (the rules mask, or every record, is used until then)",
            )
        classes = list(self._classifier.classes_)
        return np.asarray(self._classifier.predict_proba(self._inputs(X, y)))[:, classes.index(True)]

    def predict(
        self, X: np.ndarray, y: np.ndarray | None = None, rules: np.ndarray | None = None
    ) -> np.ndarray:
        """The bool mask of records predicted dirty.

        Args:
            X: ``(n, d)`` records as they are.
            y: ``(n,)`` their labels (when ``use_label``).
            rules: A rules mask to combine with (``'both'``: rules or learned), or None.

        Returns:
            ``(n,)`` bool. Before the detector is :attr:`ready`: ``rules``, or every record when None.
        """
        n = np.asarray(X).shape[0]
        if not self.ready:
            return np.ones(n, dtype=bool) if rules is None else np.asarray(rules, dtype=bool).copy()
        learned = self.probability(X, y) >= self.threshold
        return learned if rules is None else combine(rules, learned)
