"""A trained model's quality on labeled rows: the metrics, per-class figures, confusion matrix and curves
that ``EVALUATE MODEL`` returns, each as an Arrow table ready to plot.

Every figure is scikit-learn's own (:mod:`sklearn.metrics`) on the predictions ``PREDICT`` makes: the
label values, the class probabilities and, for a binary model given a threshold, the predicted class
``positive if P(positive) >= threshold``. The conventions, which the README states:

* The **positive class** of a binary model is the second of its two classes in sorted order (``>50K``
  of ``<=50K``/``>50K``, ``true`` of a boolean, ``1`` of 0/1), scikit-learn's ``pos_label=1``.
* **Macro averages**, per-class rows and the confusion matrix cover the labels that occur among the
  rows' labels or predictions (scikit-learn's default ``labels``), sorted.
* **AUC** is binary for two classes and one-vs-rest macro-averaged for more (classes that occur in the
  rows and not in every row); **log loss** and AUC read the rows whose label the model knows: a label
  it never saw in training has no probability column (the rows still count for accuracy, precision,
  recall and F1, and the result's notes say how many).
* Rows with a NULL label are left out of everything; the ``rows_without_label`` metric counts them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from paqdb.errors import DataError, InvalidParameterError
from paqdb.ml.metrics import METRICS

if TYPE_CHECKING:
    from paqdb.ml.model import TrainedModel

# scikit-learn is imported inside the functions that compute a figure (see paqdb.ml.metrics).

#: The reports each task has, the first being the default.
REPORTS: dict[str, tuple[str, ...]] = {
    "classification": ("metrics", "classes", "confusion", "roc", "pr"),
    "regression": ("metrics",),
}

REPORT_DESCRIPTIONS: dict[str, str] = {
    "metrics": "one row per metric (metric, value)",
    "classes": "one row per class (class, precision, recall, f1, support)",
    "confusion": "the confusion matrix, one row per cell (actual, predicted, count)",
    "roc": "ROC curve points (class, threshold, false_positive_rate, true_positive_rate)",
    "pr": "precision-recall curve points (class, threshold, recall, precision)",
}


@dataclass
class Evaluation:
    """One report of a model on labeled rows.

    Attributes:
        table: the report (see :data:`REPORT_DESCRIPTIONS`).
        rows: labeled rows evaluated.
        rows_without_label: rows left out because their label is NULL.
        positive_class: the positive class of a binary model, else None.
        notes: what a reader should know (labels the model never saw, an undefined AUC...).
    """

    table: pa.Table
    rows: int
    rows_without_label: int
    positive_class: Any = None
    notes: list[str] = field(default_factory=list)


def check_report(report: str, task: str) -> str:
    """``report`` lower-cased, when ``task`` has it.

    Raises:
        InvalidParameterError: an unknown report, or one the task does not have (a confusion matrix of a
            regression model), naming those it has.
    """
    name = report.strip().lower()
    valid = REPORTS[task]
    if name not in valid:
        known = name in REPORT_DESCRIPTIONS
        raise InvalidParameterError(
            f"report '{report}' is for classification models; this model does {task}"
            if known
            else f"unknown report '{report}'",
            hint=f"reports for {task}: " + ", ".join(f"'{r}'" for r in valid),
        )
    return name


def evaluate(
    model: TrainedModel, data: pa.Table, *, report: str = "metrics", threshold: float | None = None
) -> Evaluation:
    """Evaluate ``model`` on ``data``: its feature columns (by name, typed as the model reads them) and the
    label column (named as the model's label).

    Args:
        model: a trained model.
        data: the rows; those whose label is NULL are left out.
        report: one of :data:`REPORTS` for the model's task.
        threshold: binary classification only: predict the positive class when its probability is at
            least this (None: the class of highest probability, as ``PREDICT`` does).

    Raises:
        InvalidParameterError: a report the task does not have, or a threshold for a model that is not a
            binary classifier.
        DataError: no row has a label.
    """
    report = check_report(report, model.task)
    labels = data.column(model.label)
    known = pc.is_valid(labels)
    labeled = data.filter(known)
    skipped = data.num_rows - labeled.num_rows
    if labeled.num_rows == 0:
        raise DataError(
            f"no row to evaluate on: the label column '{model.label}' is NULL in all {data.num_rows} rows"
            if data.num_rows
            else "no row to evaluate on: the table is empty",
            hint=f"evaluate on rows with a known '{model.label}'",
        )
    if model.task == "regression":
        if threshold is not None:
            raise InvalidParameterError(
                "option 'threshold' applies to binary classification; this model does regression",
                hint="leave threshold out",
            )
        return _regression(model, labeled, skipped)
    return _classification(model, labeled, skipped, report, threshold)


def _regression(model: TrainedModel, labeled: pa.Table, skipped: int) -> Evaluation:
    # The predictions PREDICT returns (an integer label's predictions are rounded to integers).
    prediction, _ = model.predict_arrow(labeled)
    y_pred = _floats(prediction)
    y_true = _floats(labeled.column(model.label))
    values = {name: METRICS[name].score(y_true, y_pred) for name in ("rmse", "mae", "r2")}
    values["rows"] = float(len(y_true))
    values["rows_without_label"] = float(skipped)
    return Evaluation(_metrics_table(values), len(y_true), skipped)


def _floats(values: pa.Array | pa.ChunkedArray) -> np.ndarray:
    return np.asarray(pc.cast(values, pa.float64()).to_numpy(zero_copy_only=False), np.float64)


def _classification(
    model: TrainedModel, labeled: pa.Table, skipped: int, report: str, threshold: float | None
) -> Evaluation:
    from sklearn import metrics as sk

    assert model.classes is not None
    classes = model.classes
    binary = len(classes) == 2
    if threshold is not None and not binary:
        raise InvalidParameterError(
            f"option 'threshold' applies to binary classification; this model has {len(classes)} classes",
            hint="leave threshold out; the class of highest probability is predicted",
        )
    probabilities = model.predict_probabilities(model.featurize(labeled))
    if threshold is not None:
        predicted_codes = (probabilities[:, 1] >= threshold).astype(np.int64)
    else:
        predicted_codes = probabilities.argmax(axis=1)
    y_true = _as_type(labeled.column(model.label), classes.type)
    y_pred = classes.take(pa.array(predicted_codes))
    # The labels occurring among the labels or predictions, sorted: scikit-learn's default `labels`.
    present = pc.unique(pa.concat_arrays([y_true, y_pred]))
    present = present.take(pc.sort_indices(present))
    true_codes = _codes(y_true, present)
    pred_codes = _codes(y_pred, present)
    # Each row's class code in the model's classes (-1: a label it never saw in training).
    model_codes = _codes(y_true, classes)
    seen = model_codes >= 0
    notes: list[str] = []
    if not seen.all():
        unseen = pc.unique(y_true.filter(pa.array(~seen)))
        notes.append(
            f"{int((~seen).sum())} rows have labels the model never saw in training "
            f"({', '.join(map(repr, unseen.to_pylist()[:5]))}): they count for accuracy, precision, recall "
            "and F1, not for AUC, log loss or the curves"
        )
    positive = classes[1].as_py() if binary else None
    evaluation = Evaluation(pa.table({}), len(y_true), skipped, positive, notes)
    if report == "metrics":
        values: dict[str, float] = {"accuracy": float(sk.accuracy_score(true_codes, pred_codes))}
        if binary:
            positive_code = int(_codes(classes.slice(1, 1), present)[0])
            p, r, f, _ = sk.precision_recall_fscore_support(
                true_codes, pred_codes, labels=[positive_code], average=None, zero_division=0
            )
            values.update(precision=float(p[0]), recall=float(r[0]), f1=float(f[0]))
        p, r, f, _ = sk.precision_recall_fscore_support(
            true_codes, pred_codes, average="macro", zero_division=0
        )
        values.update(precision_macro=float(p), recall_macro=float(r), f1_macro=float(f))
        values["auc"] = _auc(model_codes[seen], probabilities[seen], notes)
        values["log_loss"] = (
            METRICS["log_loss"].score(model_codes[seen], predicted_codes[seen], probabilities[seen])
            if seen.any()
            else float("nan")
        )
        values["rows"] = float(len(y_true))
        values["rows_without_label"] = float(skipped)
        evaluation.table = _metrics_table(values)
    elif report == "classes":
        p, r, f, support = sk.precision_recall_fscore_support(
            true_codes, pred_codes, labels=np.arange(len(present)), average=None, zero_division=0
        )
        evaluation.table = pa.table(
            {
                "class": present,
                "precision": pa.array(p, pa.float64()),
                "recall": pa.array(r, pa.float64()),
                "f1": pa.array(f, pa.float64()),
                "support": pa.array(support, pa.int64()),
            }
        )
    elif report == "confusion":
        matrix = sk.confusion_matrix(true_codes, pred_codes, labels=np.arange(len(present)))
        n = len(present)
        evaluation.table = pa.table(
            {
                "actual": present.take(pa.array(np.repeat(np.arange(n), n))),
                "predicted": present.take(pa.array(np.tile(np.arange(n), n))),
                "count": pa.array(matrix.reshape(-1), pa.int64()),
            }
        )
    else:
        evaluation.table = _curves(report, classes, model_codes[seen], probabilities[seen], notes)
    return evaluation


def _as_type(values: pa.ChunkedArray | pa.Array, arrow_type: pa.DataType) -> pa.Array:
    array = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    return array if array.type == arrow_type else pc.cast(array, arrow_type)


def _codes(values: pa.Array, classes: pa.Array) -> np.ndarray:
    """Each value's position in ``classes``, -1 where it is not there."""
    index = pc.fill_null(pc.index_in(values, value_set=classes), -1)
    return np.asarray(index.to_numpy(zero_copy_only=False), np.int64)


def _auc(codes: np.ndarray, probabilities: np.ndarray, notes: list[str]) -> float:
    """Binary AUC of the positive class (code 1), or one-vs-rest macro AUC (paqdb.ml.metrics's)."""
    if len(codes) == 0:
        return float("nan")
    value = METRICS["auc"].score(codes, codes, probabilities, positive_class=1)
    if np.isnan(value):
        notes.append("AUC is undefined: the rows hold a single class")
    return value


def _curves(
    report: str, classes: pa.Array, codes: np.ndarray, probabilities: np.ndarray, notes: list[str]
) -> pa.Table:
    """ROC or precision-recall points, one curve for a binary model's positive class, one per class
    (one-vs-rest) otherwise; a class that is in no row, or in every row, has no curve."""
    from sklearn import metrics as sk

    curve_classes = [1] if len(classes) == 2 else list(range(len(classes)))
    parts: dict[str, list[Any]] = {"class": [], "threshold": [], "x": [], "y": []}
    skipped = []
    for k in curve_classes:
        is_positive = codes == k
        if not is_positive.any() or is_positive.all():
            skipped.append(classes[k].as_py())
            continue
        if report == "roc":
            x, y, thresholds = sk.roc_curve(is_positive, probabilities[:, k])
            points = list(thresholds)
        else:
            y, x, thresholds = sk.precision_recall_curve(is_positive, probabilities[:, k])
            # scikit-learn's last point (precision 1, recall 0) has no threshold.
            points = [*thresholds, None]
        parts["class"].extend([k] * len(x))
        parts["threshold"].extend(points)
        parts["x"].extend(x)
        parts["y"].extend(y)
    if skipped:
        notes.append(
            f"no {report.upper()} curve for {', '.join(map(repr, skipped))}: "
            "a curve needs rows of the class and rows of other classes"
        )
    x_name, y_name = (
        ("false_positive_rate", "true_positive_rate") if report == "roc" else ("recall", "precision")
    )
    return pa.table(
        {
            "class": classes.take(pa.array(parts["class"], pa.int64())),
            "threshold": pa.array(parts["threshold"], pa.float64()),
            x_name: pa.array(parts["x"], pa.float64()),
            y_name: pa.array(parts["y"], pa.float64()),
        }
    )


def _metrics_table(values: dict[str, float]) -> pa.Table:
    return pa.table(
        {
            "metric": pa.array(list(values), pa.string()),
            "value": pa.array(list(values.values()), pa.float64()),
        }
    )


__all__ = ["REPORTS", "REPORT_DESCRIPTIONS", "Evaluation", "check_report", "evaluate"]
