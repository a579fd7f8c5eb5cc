"""Validation metrics a search can optimise, each with the direction that is better.

Classification metrics read integer class codes (0 .. n_classes-1, the position in the model's ``classes``)
and a probability matrix with one column per class; regression metrics read float arrays.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from paqdb.errors import InvalidParameterError
from paqdb.ml.families import Task

# scikit-learn's metrics are imported where a score is computed: importing them at module level would load
# scikit-learn with the package (about a second) for every process, including those that never train.

ScoreFunction = Callable[[np.ndarray, np.ndarray, np.ndarray | None, int], float]


@dataclass(frozen=True)
class Metric:
    """A validation metric.

    Attributes
    ----------
    name : str
    task : {"classification", "regression"}
    greater_is_better : bool
    needs_probabilities : bool
        Whether it reads class probabilities rather than predicted classes.
    """

    name: str
    task: Task
    greater_is_better: bool
    needs_probabilities: bool
    function: ScoreFunction
    description: str = ""

    def score(
        self,
        y_true: np.ndarray,
        y_pred: np.ndarray,
        probabilities: np.ndarray | None = None,
        positive_class: int = 1,
    ) -> float:
        """The metric's value.

        Parameters
        ----------
        y_true, y_pred : numpy.ndarray
            Class codes (classification) or values (regression).
        probabilities : numpy.ndarray of shape (n, n_classes), optional
            Needed by ``auc`` and ``log_loss``.
        positive_class : int, default=1
            Code of the positive class for binary ``f1`` and ``auc``.
        """
        if self.needs_probabilities and probabilities is None:
            raise ValueError(f"metric '{self.name}' needs class probabilities")
        return float(self.function(y_true, y_pred, probabilities, positive_class))

    def is_better(self, score: float, than: float | None) -> bool:
        """Whether ``score`` beats ``than`` (anything beats None; NaN beats nothing)."""
        if np.isnan(score):
            return False
        if than is None or np.isnan(than):
            return True
        return score > than if self.greater_is_better else score < than


def _accuracy(y_true: np.ndarray, y_pred: np.ndarray, proba: np.ndarray | None, positive: int) -> float:
    return float(np.mean(y_true == y_pred))


def _f1(y_true: np.ndarray, y_pred: np.ndarray, proba: np.ndarray | None, positive: int) -> float:
    from sklearn import metrics as sk_metrics

    n_classes = proba.shape[1] if proba is not None else int(max(y_true.max(), y_pred.max())) + 1
    if n_classes <= 2:
        return float(
            sk_metrics.f1_score(y_true, y_pred, pos_label=positive, average="binary", zero_division=0)
        )
    return float(
        sk_metrics.f1_score(y_true, y_pred, labels=np.arange(n_classes), average="macro", zero_division=0)
    )


def _auc(y_true: np.ndarray, y_pred: np.ndarray, proba: np.ndarray | None, positive: int) -> float:
    assert proba is not None
    if proba.shape[1] == 2:
        return _binary_auc(y_true == positive, proba[:, positive])
    # One-vs-rest, macro-averaged over the classes the validation rows contain (a class absent from them
    # has no AUC), which keeps small validation sets usable.
    scores = [_binary_auc(y_true == k, proba[:, k]) for k in range(proba.shape[1])]
    defined = [s for s in scores if not np.isnan(s)]
    return float(np.mean(defined)) if defined else float("nan")


def _binary_auc(is_positive: np.ndarray, score: np.ndarray) -> float:
    if is_positive.all() or not is_positive.any():
        return float("nan")
    from sklearn import metrics as sk_metrics

    return float(sk_metrics.roc_auc_score(is_positive, score))


def _log_loss(y_true: np.ndarray, y_pred: np.ndarray, proba: np.ndarray | None, positive: int) -> float:
    assert proba is not None
    from sklearn import metrics as sk_metrics

    return float(sk_metrics.log_loss(y_true, proba, labels=np.arange(proba.shape[1])))


def _rmse(y_true: np.ndarray, y_pred: np.ndarray, proba: np.ndarray | None, positive: int) -> float:
    return float(np.sqrt(np.mean((y_true - y_pred) ** 2)))


def _mae(y_true: np.ndarray, y_pred: np.ndarray, proba: np.ndarray | None, positive: int) -> float:
    return float(np.mean(np.abs(y_true - y_pred)))


def _r2(y_true: np.ndarray, y_pred: np.ndarray, proba: np.ndarray | None, positive: int) -> float:
    from sklearn import metrics as sk_metrics

    return float(sk_metrics.r2_score(y_true, y_pred))


_METRIC_LIST = (
    Metric("accuracy", "classification", True, False, _accuracy, "share of rows classified right"),
    Metric("f1", "classification", True, False, _f1, "F1 of the minority class; macro F1 if multiclass"),
    Metric("auc", "classification", True, True, _auc, "area under the ROC curve (one-vs-rest)"),
    Metric("log_loss", "classification", False, True, _log_loss, "cross-entropy of the probabilities"),
    Metric("rmse", "regression", False, False, _rmse, "root mean squared error"),
    Metric("mae", "regression", False, False, _mae, "mean absolute error"),
    Metric("r2", "regression", True, False, _r2, "coefficient of determination"),
)
METRICS: dict[str, Metric] = {metric.name: metric for metric in _METRIC_LIST}

DEFAULT_METRICS: dict[Task, str] = {"classification": "accuracy", "regression": "rmse"}


def get_metric(name: str | None, task: Task) -> Metric:
    """The metric called ``name`` for ``task`` (the task's default when ``name`` is None).

    Raises :class:`~paqdb.errors.InvalidParameterError` for an unknown metric or one that does not fit the
    task, naming the valid ones.
    """
    valid = [m.name for m in METRICS.values() if m.task == task]
    if name is None:
        return METRICS[DEFAULT_METRICS[task]]
    key = name.strip().lower() if isinstance(name, str) else name
    metric = METRICS.get(key)
    if metric is None:
        raise InvalidParameterError(
            f"unknown metric {name!r}",
            hint=f"metrics for {task}: {', '.join(valid)}",
        )
    if metric.task != task:
        raise InvalidParameterError(
            f"metric '{metric.name}' is for {metric.task}, but this model does {task}",
            hint=f"metrics for {task}: {', '.join(valid)}",
        )
    return metric


def positive_class_code(class_counts: np.ndarray) -> int:
    """The class that binary ``f1`` and ``auc`` treat as positive: the minority class, the second on a tie."""
    if len(class_counts) != 2 or class_counts[0] == class_counts[1]:
        return 1 if len(class_counts) >= 2 else 0
    return int(np.argmin(class_counts))


__all__ = ["DEFAULT_METRICS", "METRICS", "Metric", "get_metric", "positive_class_code"]
