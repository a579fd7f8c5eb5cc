"""From a training table to a fitted model: label checks, task inference, the validation split, fitting.

The search (:mod:`paqdb.search`) uses these pieces to prepare data once and fit many configurations;
:func:`train_model` fits one configuration of one family directly.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Mapping
from contextlib import nullcontext
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from paqdb.errors import InvalidParameterError, TrainingError, UndefinedColumnError
from paqdb.ml.explain import REFERENCE_KEY, reference_means
from paqdb.ml.families import TASKS, ModelFamily, Task, TrainingShape, get_family
from paqdb.ml.features import Featurizer
from paqdb.ml.metrics import positive_class_code
from paqdb.ml.model import TrainedModel
from paqdb.ml.tasks import MAX_CLASSIFICATION_INTEGERS, infer_task

# scikit-learn and threadpoolctl are imported by the functions that fit: the planner reads this module's
# constants and task rules at start-up, and scikit-learn alone costs about a second to import.
if TYPE_CHECKING:
    from sklearn.base import BaseEstimator

DEFAULT_VALIDATION_FRACTION = 0.2


@dataclass
class TrainingData:
    """A training table checked and split, ready for featurisation and fitting.

    Attributes
    ----------
    features : pyarrow.Table
        The feature columns (every column but the label), rows with a NULL label dropped.
    label, label_type, task
        The label column's name and Arrow type, and the task.
    target : numpy.ndarray
        Class codes (int64, positions in ``classes``) or float64 values, one per row of ``features``.
    classes : pyarrow.Array or None
        Sorted class values in the label's value type (classification).
    positive_class : int
        Code of the class binary ``f1``/``auc`` treat as positive (the minority class).
    train_index, validation_index : numpy.ndarray
        Row positions of the two parts of the split.
    dropped_rows : int
        Rows left out because their label was NULL (or NaN).
    """

    features: pa.Table
    label: str
    label_type: pa.DataType
    task: Task
    target: np.ndarray
    classes: pa.Array | None
    positive_class: int
    train_index: np.ndarray
    validation_index: np.ndarray
    dropped_rows: int

    @property
    def n_rows(self) -> int:
        return len(self.target)

    def shape(self, rows: np.ndarray | None = None, categorical: np.ndarray | None = None) -> TrainingShape:
        """The :class:`TrainingShape` of the given rows (all rows when None)."""
        target = self.target if rows is None else self.target[rows]
        min_class = None
        if self.task == "classification":
            counts = np.bincount(target, minlength=0 if self.classes is None else len(self.classes))
            min_class = int(counts[counts > 0].min())
        return TrainingShape(
            len(target),
            min_class,
            categorical,
            n_features=0 if categorical is None else len(categorical),
            n_classes=0 if self.classes is None else len(self.classes),
        )


def prepare_training_data(
    table: pa.Table,
    label: str,
    *,
    task: Task | None = None,
    validation_fraction: float = DEFAULT_VALIDATION_FRACTION,
    seed: int = 0,
) -> TrainingData:
    """Check ``table``, infer the task, encode the label and split rows into training and validation.

    Parameters
    ----------
    table : pyarrow.Table
        The label column and the feature columns (every other column).
    label : str
        Name of the label column.
    task : {"classification", "regression"}, optional
        Overrides :func:`infer_task`.
    validation_fraction : float, default=0.2
        Share of rows held out, stratified by class for classification; a given ``seed`` always gives the
        same split.
    seed : int, default=0

    Raises
    ------
    TrainingError
        No rows, a label that is all NULL, a single class, no feature columns, too few rows to split.
    """
    if label not in table.column_names:
        raise UndefinedColumnError(
            f"label column '{label}' does not exist",
            hint=f"columns: {', '.join(table.column_names)}",
        )
    if task is not None and task not in TASKS:
        raise InvalidParameterError(f"unknown task {task!r}", hint="task is 'classification' or 'regression'")
    if not 0 < validation_fraction < 1:
        raise InvalidParameterError(
            f"validation fraction {validation_fraction!r} is not between 0 and 1",
            hint="e.g. validation = 0.2 holds out 20% of the rows",
        )
    if table.num_rows == 0:
        raise TrainingError(
            f"the training data has no rows to learn '{label}' from",
            hint="check the GIVEN / FROM query: its WHERE clause may filter out every row",
        )
    if table.num_columns < 2:
        raise TrainingError(
            f"the training data has no feature columns besides the label '{label}'",
            hint="select the columns the model should learn from along with the label",
        )
    n_given = table.num_rows
    label_column = table.column(label)
    labelled = pc.is_valid(label_column)
    if pa.types.is_floating(label_column.type):
        labelled = pc.and_(labelled, pc.invert(pc.is_nan(label_column)))
    n_labelled = pc.sum(labelled).as_py() or 0
    if n_labelled == 0:
        raise TrainingError(
            f"label column '{label}' is NULL in every one of the {table.num_rows} training rows",
            hint="train on rows where the label is known: WHERE label IS NOT NULL",
        )
    if n_labelled < table.num_rows:
        table = table.filter(labelled)
    label_column = table.column(label)
    task = task or infer_task(label_column)
    features = table.drop_columns([label])

    classes: pa.Array | None = None
    if task == "classification":
        values = (
            label_column.cast(label_column.type.value_type)
            if pa.types.is_dictionary(label_column.type)
            else label_column
        )
        classes = pc.unique(values)
        classes = classes.take(pc.sort_indices(classes))
        if len(classes) < 2:
            raise TrainingError(
                f"label column '{label}' has a single value ({classes[0].as_py()!r}) in the training rows: "
                "there is nothing to tell apart",
                hint="train on rows with at least two different label values",
            )
        target = np.asarray(pc.index_in(values, value_set=classes).to_numpy(zero_copy_only=False), np.int64)
        counts = np.bincount(target, minlength=len(classes))
        positive = positive_class_code(counts)
    else:
        if not (
            pa.types.is_integer(label_column.type)
            or pa.types.is_floating(label_column.type)
            or pa.types.is_decimal(label_column.type)
        ):
            raise InvalidParameterError(
                f"task 'regression' needs a numeric label, but '{label}' is {label_column.type}",
                hint="use task = 'classification', or cast the label to a number",
            )
        target = np.asarray(pc.cast(label_column, pa.float64()).to_numpy(zero_copy_only=False), np.float64)
        positive = 0
    train_index, validation_index = split_rows(target, task, validation_fraction, seed)
    return TrainingData(
        features=features,
        label=label,
        label_type=label_column.type,
        task=task,
        target=target,
        classes=classes,
        positive_class=positive,
        train_index=train_index,
        validation_index=validation_index,
        dropped_rows=n_given - n_labelled,
    )


def split_rows(target: np.ndarray, task: Task, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Deterministic training / validation row positions (sorted), stratified by class for classification.

    Every class keeps at least one training row; a class with a single row stays entirely in training.
    """
    rng = np.random.default_rng(seed)
    n_rows = len(target)
    if n_rows < 2:
        raise TrainingError(
            f"the training data has {n_rows} labelled row; at least 2 are needed to hold one out for "
            "validation",
            hint="train on more rows",
        )
    if task == "classification":
        held_out = []
        for code in range(int(target.max()) + 1):
            rows = np.flatnonzero(target == code)
            rng.shuffle(rows)
            held_out.append(rows[: min(round(fraction * len(rows)), len(rows) - 1)])
        validation = np.concatenate(held_out)
        if validation.size == 0:
            largest = np.bincount(target).argmax()
            candidates = np.flatnonzero(target == largest)
            if len(candidates) < 2:
                raise TrainingError(
                    "every class has a single row, so no row can be held out for validation",
                    hint="train on more rows",
                )
            validation = candidates[[rng.integers(len(candidates))]]
    else:
        n_validation = min(max(1, round(fraction * n_rows)), n_rows - 1)
        validation = rng.permutation(n_rows)[:n_validation]
    validation = np.sort(validation)
    train = np.setdiff1d(np.arange(n_rows), validation, assume_unique=True)
    return train, validation


DEADLINE_PROBE_UNITS = 1
"""Trees or boosting iterations a fit under a deadline trains first, to time them, before it decides whether
the rest fits. One unit: however large the data, the first step is the smallest the estimator can take."""


STORE_SECONDS_PER_TREE = {"n_estimators": 1.5e-3, "max_iter": 0.5e-3}
"""Seconds that storing one more tree adds to saving the model (skops writes each tree as its own node),
by the resource that counts the trees. Measured on the 2-core build machine (2026-12): about 1.0-1.2 ms
per forest tree and 0.3-0.5 ms per boosting tree, iris to digits; rounded up. A fit under a deadline
counts it as part of each unit's cost, so a forest that would take longer to save than to grow stops
where growing and saving it both fit the budget (an iris forest asked for 10^8 trees under a 5-second
budget grew 6,657 trees in 4.7 s, and saving them took another 14 s)."""


@dataclass(frozen=True)
class FitOutcome:
    """A fit under a deadline: the estimator and whether the deadline cut it short.

    Attributes
    ----------
    estimator : BaseEstimator
        Fitted and usable whether or not it was cut short; a cut forest or boosted model has its
        ``n_estimators`` / ``max_iter`` set to what it trained.
    cut_short : bool
        The deadline stopped training before the configuration's trees, iterations or epochs were done.
    units : int or None
        Trees (forest), iterations (boosting) or epochs (MLP) trained; None for other estimators.
    resource : str or None
        The hyperparameter those units count (``n_estimators``, ``max_iter``).
    requested : int or None
        The units the configuration asked for.
    """

    estimator: BaseEstimator
    cut_short: bool = False
    units: int | None = None
    resource: str | None = None
    requested: int | None = None


def fit_within(
    estimator: BaseEstimator,
    matrix: np.ndarray,
    target: np.ndarray,
    deadline: float | None,
    *,
    clock: Callable[[], float] = time.perf_counter,
    seconds_per_unit: float | None = None,
) -> FitOutcome:
    """Fit ``estimator``, stopping at ``deadline`` (a time of ``clock``) where the estimator can stop.

    The caller sets threads and warning filters (:func:`fit_estimator` does). How each kind stops:

    * Random forests grow their trees in chunks (``warm_start``), the deadline checked between chunks;
      boosting (HistGradientBoosting) adds its iterations the same way. A first chunk of
      :data:`DEADLINE_PROBE_UNITS` times a unit (unless ``seconds_per_unit`` is known); when the rest is
      then expected to fit before the deadline it is trained in one more call, otherwise in chunks of about
      half the time left, and no chunk starts that would not finish in time. Chunked fits equal one fit
      (the same trees, the same early-stopping split), so a deadline changes where training ends, never
      what it learns.
    * An MLP checks the deadline after every epoch (scikit-learn's own per-epoch hook); on a deadline it
      ends as after an interrupt, with the best weights its early stopping kept. A real Ctrl-C, which
      scikit-learn's MLP swallows with a warning, is raised again.
    * Every other estimator (the linear solvers, kernel approximation) runs to its own iteration cap: their
      solvers (lbfgs, liblinear, cholesky) have no stopping hook, and running them in a worker that could be
      abandoned would copy the training matrix into another process (or keep burning a core in an orphaned
      thread). A search does not start such a fit when its measured time would not end before the
      deadline.

    Without a deadline this is ``estimator.fit(matrix, target)``.
    """
    if deadline is None:
        estimator.fit(matrix, target)
        return FitOutcome(estimator)
    from sklearn.ensemble._forest import BaseForest
    from sklearn.ensemble._hist_gradient_boosting.gradient_boosting import BaseHistGradientBoosting
    from sklearn.neural_network._multilayer_perceptron import BaseMultilayerPerceptron

    if isinstance(estimator, BaseForest):
        return _grow_in_chunks(
            estimator, "n_estimators", matrix, target, deadline, clock, seconds_per_unit, _forest_units
        )
    if isinstance(estimator, BaseHistGradientBoosting):
        return _grow_in_chunks(
            estimator, "max_iter", matrix, target, deadline, clock, seconds_per_unit, _boosting_units
        )
    if isinstance(estimator, BaseMultilayerPerceptron) and hasattr(estimator, "_update_no_improvement_count"):
        return _fit_mlp_within(estimator, matrix, target, deadline, clock)
    estimator.fit(matrix, target)
    return FitOutcome(estimator)


def _forest_units(estimator: BaseEstimator) -> int:
    return len(getattr(estimator, "estimators_", ()))


def _boosting_units(estimator: BaseEstimator) -> int:
    return int(getattr(estimator, "n_iter_", 0) or 0)


def _grow_in_chunks(
    estimator: BaseEstimator,
    resource: str,
    matrix: np.ndarray,
    target: np.ndarray,
    deadline: float,
    clock: Callable[[], float],
    seconds_per_unit: float | None,
    units_of: Callable[[BaseEstimator], int],
) -> FitOutcome:
    params = estimator.get_params()
    requested = int(params[resource])
    warm = bool(params.get("warm_start")) and units_of(estimator) > 0
    done = units_of(estimator) if warm else 0
    training_rate = seconds_per_unit
    cut_short = False
    trees_per_unit = int(getattr(estimator, "n_trees_per_iteration_", 1) or 1) if warm else 1
    while done < requested:
        left = requested - done
        # The time left once the trees already grown are stored; each further unit costs its training
        # and its storage (see STORE_SECONDS_PER_TREE).
        store = STORE_SECONDS_PER_TREE[resource] * trees_per_unit
        remaining = deadline - clock() - store * done
        rate = None if training_rate is None else training_rate + store
        if rate is None:
            chunk = min(left, DEADLINE_PROBE_UNITS)
        elif rate * left <= remaining:
            chunk = left
        elif done > 0 and (remaining <= 0 or rate > remaining):
            # Not even one more tree or iteration would end in time: stop here, with a usable model.
            cut_short = True
            break
        else:
            chunk = max(1, min(left, int(0.5 * remaining / rate)))
        estimator.set_params(warm_start=done > 0, **{resource: done + chunk})
        started = clock()
        estimator.fit(matrix, target)
        trained = units_of(estimator)
        if trained > done:
            training_rate = (clock() - started) / (trained - done)
            trees_per_unit = int(getattr(estimator, "n_trees_per_iteration_", 1) or 1)
        if trained < done + chunk:
            done = trained  # the estimator's own early stopping ended it: converged, not cut
            break
        done = trained
    # The estimator says what it is: a cut forest of 37 trees has n_estimators 37, and a fitted model
    # that is refitted later starts afresh unless the caller asks for a warm start again.
    estimator.set_params(warm_start=warm, **{resource: done if cut_short else requested})
    return FitOutcome(estimator, cut_short, done, resource, requested)


class _DeadlineReached(KeyboardInterrupt):
    """Raised from an MLP's per-epoch hook; scikit-learn's MLP ends its fit on a KeyboardInterrupt."""


def _fit_mlp_within(
    estimator: BaseEstimator,
    matrix: np.ndarray,
    target: np.ndarray,
    deadline: float,
    clock: Callable[[], float],
) -> FitOutcome:
    # scikit-learn's MLP calls _update_no_improvement_count after every epoch and ends the fit cleanly
    # (restoring the best weights under early stopping) on a KeyboardInterrupt. The hook is set on the
    # instance only for this fit and removed after, so the stored model carries nothing of it.
    hook = type(estimator)._update_no_improvement_count
    reached = False

    def check_deadline(*args: Any, **kwargs: Any) -> None:
        nonlocal reached
        hook(estimator, *args, **kwargs)
        if clock() >= deadline:
            reached = True
            raise _DeadlineReached

    estimator.__dict__["_update_no_improvement_count"] = check_deadline
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.filterwarnings("always", message="Training interrupted by user")
            estimator.fit(matrix, target)
    finally:
        estimator.__dict__.pop("_update_no_improvement_count", None)
    interrupted = False
    for warning in caught:
        if "Training interrupted by user" in str(warning.message):
            interrupted = True
        else:
            warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)
    if interrupted and not reached:
        raise KeyboardInterrupt  # a real Ctrl-C, which scikit-learn turned into a warning
    requested = int(estimator.get_params()["max_iter"])
    epochs = int(getattr(estimator, "n_iter_", 0))
    return FitOutcome(estimator, reached, epochs, "max_iter", requested)


def fit_estimator(
    family: ModelFamily,
    task: Task,
    hyperparameters: Mapping[str, Any] | None,
    seed: int,
    matrix: np.ndarray,
    target: np.ndarray,
    shape: TrainingShape | None = None,
) -> BaseEstimator:
    """Build and fit one estimator of ``family``; a joblib-parallel one (a forest) then predicts without
    worker processes or threads, since scoring calls it on small batches."""
    return fit_estimator_within(family, task, hyperparameters, seed, matrix, target, shape).estimator


def fit_estimator_within(
    family: ModelFamily,
    task: Task,
    hyperparameters: Mapping[str, Any] | None,
    seed: int,
    matrix: np.ndarray,
    target: np.ndarray,
    shape: TrainingShape | None = None,
    *,
    deadline: float | None = None,
    clock: Callable[[], float] = time.perf_counter,
) -> FitOutcome:
    """:func:`fit_estimator` under a deadline (a time of ``clock``): see :func:`fit_within` for how each
    family stops; the outcome says whether the deadline cut the fit short."""
    from sklearn.exceptions import ConvergenceWarning
    from threadpoolctl import threadpool_limits

    shape = shape or TrainingShape(len(target))
    estimator = family.build(task, hyperparameters, seed, shape)
    with (
        threadpool_limits(limits=1) if shape.single_threaded else nullcontext(),
        warnings.catch_warnings(),
    ):
        # An iteration cap reached is a budget decision here, not a problem to report per trial.
        warnings.simplefilter("ignore", ConvergenceWarning)
        outcome = fit_within(estimator, matrix, target, deadline, clock=clock)
    if "n_jobs" in estimator.get_params():
        # Scoring runs in small batches, where starting worker threads costs more than it saves.
        estimator.set_params(n_jobs=None)
    return outcome


def train_model(
    table: pa.Table,
    label: str,
    *,
    family: str = "gradient_boosting",
    hyperparameters: Mapping[str, Any] | None = None,
    task: Task | None = None,
    seed: int = 0,
) -> TrainedModel:
    """Fit one configuration of one family on every row of ``table`` (no search, no validation).

    Examples
    --------
    >>> import pyarrow as pa
    >>> table = pa.table({"x": [1.0, 2.0, 3.0, 4.0], "y": ["a", "a", "b", "b"]})
    >>> model = train_model(table, "y", family="logistic")
    >>> model.predict_arrow([pa.array([1.5])])[0].to_pylist()
    ['a']
    """
    model_family = get_family(family)
    data = prepare_training_data(table, label, task=task, seed=seed)
    model_family.require(data.task)
    featurizer = Featurizer().fit(data.features)
    matrix = featurizer.transform(data.features, model_family.encoding)
    configuration = model_family.configuration(hyperparameters, data.task)
    shape = data.shape(categorical=featurizer.categorical_mask(model_family.encoding))
    estimator = fit_estimator(model_family, data.task, configuration, seed, matrix, data.target, shape)
    means = reference_means(model_family.name, matrix)
    return TrainedModel(
        task=data.task,
        label=label,
        label_type=data.label_type,
        feature_schema=data.features.schema,
        family=model_family.name,
        hyperparameters=configuration,
        classes=data.classes,
        featurizer=featurizer,
        estimator=estimator,
        info={
            "train_rows": data.n_rows,
            "dropped_rows": data.dropped_rows,
            "seed": seed,
            **({REFERENCE_KEY: means} if means is not None else {}),
        },
    )


__all__ = [
    "DEADLINE_PROBE_UNITS",
    "DEFAULT_VALIDATION_FRACTION",
    "MAX_CLASSIFICATION_INTEGERS",
    "FitOutcome",
    "TrainingData",
    "fit_estimator",
    "fit_estimator_within",
    "fit_within",
    "infer_task",
    "prepare_training_data",
    "split_rows",
    "train_model",
]
