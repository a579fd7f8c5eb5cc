"""Train many linear models of one family at once: TuPAQ's physical batching.

k configurations of one linear family (different regularisation, step size, intercept) read the same
training matrix. Trained one by one, every gradient step is a matrix-vector product over the data, and the
data is read k times; trained together, the step of all k is one matrix-matrix product

    gradient = X^T (g(X W) - Y)        with W of shape (features, k * outputs),

which reads the data once per step and lets BLAS work on a block instead of a vector (Sparks et al., TuPAQ,
SoCC 2015). This module is that optimisation, and only that: every configuration follows the trajectory it
would follow if trained alone with the same seed (all per-configuration arithmetic is column-wise; only the
floating-point summation order inside BLAS differs), so batching changes the cost of a search, never its
results.

The objectives, with ``n`` training rows and ``lambda`` the L2 strength per row:

``logistic`` (:class:`~sklearn.linear_model.LogisticRegression`)
    mean cross-entropy + ``lambda ||W||^2 / 2``: a sigmoid for two classes, a softmax for more (one column
    per class, as scikit-learn's multinomial model).
``hinge`` (a linear SVM: :class:`~sklearn.svm.LinearSVC` or SGDClassifier with ``loss="hinge"``)
    mean ``max(0, 1 - y f(x))`` + ``lambda ||W||^2 / 2``, one-vs-rest for more than two classes.
``squared_hinge`` (:class:`~sklearn.svm.LinearSVC`'s default loss)
    mean ``max(0, 1 - y f(x))^2`` + ``lambda ||W||^2 / 2``, one-vs-rest for more than two classes.
``squared`` (:class:`~sklearn.linear_model.Ridge`)
    ``mean (x w + b - y)^2 / 2`` + ``lambda ||w||^2 / 2``.

``lambda`` comes from each configuration in scikit-learn's own conventions: ``C`` (LogisticRegression,
LinearSVC) gives ``1 / (C n)``; ``alpha`` gives ``alpha`` for the classifiers (SGDClassifier) and
``alpha / n`` for ``squared`` (Ridge). Intercepts are not penalised.

The optimiser is mini-batch SGD (or full-batch gradient descent) with a step of ``learning_rate / L`` per
configuration, ``L`` the smoothness constant of its objective: the loss's curvature times the data's
(estimated once, see :func:`_data_smoothness`), plus ``lambda``; the plain hinge, which has no curvature,
takes the same scale with curvature 1. With mini-batches the step decays as ``1 / sqrt(1 + epoch / 10)``
and the model read out after each epoch is the mean of that epoch's iterates, both to damp the sampling
noise. The trainer expects standardised numeric features, as :class:`~paqdb.ml.features.Featurizer`
produces.

The plain hinge's gradient jumps at a margin of exactly 1, so a rounding difference could in principle send
a batched and a single trajectory apart; a margin would have to land within rounding error (about 1e-16,
relative) of 1, and the tests find the trajectories equal, as for the smooth losses.

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> X = rng.standard_normal((200, 3))
>>> y = (X[:, 0] > 0).astype(int)
>>> trainer = BatchedLinearTrainer("logistic", [{"C": 0.1}, {"C": 10.0}]).start(X, y)
>>> trainer.advance(20)
20
>>> sorted(trainer.scores(X, y, "accuracy"))
[0, 1]
>>> trainer.estimator(1).predict(X[:3]).tolist() == y[:3].tolist()
True
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias

import numpy as np
from scipy.special import expit, softmax
from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.svm import LinearSVC

from paqdb.errors import InvalidParameterError, TrainingError
from paqdb.ml.families import FAMILIES, Task
from paqdb.ml.metrics import Metric, get_metric, positive_class_code

Loss: TypeAlias = Literal["logistic", "hinge", "squared_hinge", "squared"]
LOSSES: tuple[Loss, ...] = ("logistic", "hinge", "squared_hinge", "squared")

BATCHABLE_FAMILIES: tuple[str, ...] = ("logistic", "linear_svm", "ridge")
"""The model families whose estimators are linear models this trainer can train; the trainer also accepts
their names as ``loss`` (see :func:`family_loss`)."""

_ESTIMATOR_LOSSES: dict[str, Loss] = {
    # Loss parameters of scikit-learn's linear estimators, as this module names them.
    "log_loss": "logistic",
    "hinge": "hinge",
    "squared_hinge": "squared_hinge",
}

_LOSS_TASKS: dict[Loss, Task] = {
    "logistic": "classification",
    "hinge": "classification",
    "squared_hinge": "classification",
    "squared": "regression",
}
_LOSS_FAMILIES: dict[Loss, str] = {
    "logistic": "logistic",
    "hinge": "linear_svm",
    "squared_hinge": "linear_svm",
    "squared": "ridge",
}

DEFAULT_BATCH_SIZE = 256
"""Rows per mini-batch unless the trainer is told otherwise."""

MAX_CONFIGURATIONS_PER_BATCH = 64
"""Most configurations :func:`batch_size_for` puts in one batch. The gain flattens with width (on Adult, 6x
at 16 configurations and 8x at 32, see ``bench/batching.py``) while memory grows with it."""

STEP_DECAY_EPOCHS = 10
"""With mini-batches, the step is ``learning_rate / L / sqrt(1 + epoch / STEP_DECAY_EPOCHS)``."""

POWER_ITERATIONS = 50
"""Most power-iteration steps that estimate the data's largest squared singular value (for the step size);
they stop earlier once the estimate settles, typically after 5 to 10."""

SPECTRAL_SAMPLE_ROWS = 2048
"""Rows the step-size estimate reads: within about 5% of the whole matrix's value on Adult and MNIST."""

_IGNORED_HYPERPARAMETERS = frozenset({"max_iter", "tol"})
"""Family hyperparameters a configuration may carry that the trainer does not read: the caller decides how
many epochs to run through :meth:`BatchedLinearTrainer.advance`."""

_CURVATURE: dict[tuple[Loss, bool], float] = {
    # Largest second derivative of the per-row loss in one output column, for (loss, multiclass).
    ("logistic", False): 0.25,  # sigmoid: p (1 - p) <= 1/4
    ("logistic", True): 0.5,  # softmax: diag(p) - p p^T has eigenvalues <= 1/2
    ("hinge", False): 1.0,  # no curvature: a scale that converges on Adult, digits, breast cancer
    ("hinge", True): 1.0,
    ("squared_hinge", False): 2.0,
    ("squared_hinge", True): 2.0,
    ("squared", False): 1.0,
}


@dataclass(frozen=True)
class _Settings:
    """One configuration, validated: its regulariser as given (``C`` or ``alpha``), step and intercept."""

    regularizer: Literal["C", "alpha"]
    strength: float
    learning_rate: float
    fit_intercept: bool
    #: ``class_weight='balanced'``: each row's loss weighted by ``rows / (classes x rows of its class)``,
    #: as scikit-learn's classifiers weigh it.
    balanced: bool = False

    def penalty(self, loss: Loss, n_rows: int) -> float:
        """The L2 strength per row, ``lambda``, in the convention of the regulariser's estimator."""
        if self.regularizer == "C":
            return 1.0 / (self.strength * n_rows)
        return self.strength / n_rows if loss == "squared" else self.strength


def family_loss(family: str) -> Loss:
    """The loss that model family ``family`` minimises, read from the estimator its builder makes (so it
    follows the family's definition: ``linear_svm`` is LinearSVC's squared hinge, or SGDClassifier's hinge).

    Raises :class:`~paqdb.errors.InvalidParameterError` for a family that is not a batchable linear model.
    """
    model_family = FAMILIES.get(family)
    if model_family is None or family not in BATCHABLE_FAMILIES:
        raise InvalidParameterError(
            f"model family {family!r} cannot train batched",
            hint=f"batchable families: {', '.join(BATCHABLE_FAMILIES)}",
        )
    estimator = model_family.build(model_family.tasks[0], None, 0)
    if isinstance(estimator, LogisticRegression):
        return "logistic"
    if isinstance(estimator, Ridge):
        return "squared"
    name = estimator.get_params().get("loss")
    if isinstance(name, str) and name in _ESTIMATOR_LOSSES:
        return _ESTIMATOR_LOSSES[name]
    raise InvalidParameterError(
        f"model family {family!r} builds a {type(estimator).__name__} with loss {name!r}, which batched "
        f"training does not implement",
        hint=f"losses: {', '.join(LOSSES)}",
    )


def resolve_loss(loss: str) -> Loss:
    """The loss called ``loss``, or the loss of the model family called ``loss`` (:func:`family_loss`).

    Raises :class:`~paqdb.errors.InvalidParameterError` for any other name.
    """
    key = loss.strip().lower() if isinstance(loss, str) else loss
    for name in LOSSES:
        if key == name:
            return name
    if key in BATCHABLE_FAMILIES:
        return family_loss(key)
    raise InvalidParameterError(
        f"batched training has no loss {loss!r}",
        hint=f"losses: {', '.join(LOSSES)}; or a family: {', '.join(BATCHABLE_FAMILIES)}",
    )


def batch_size_for(
    n_features: int,
    n_classes: int,
    n_rows: int,
    memory_bytes: int,
    *,
    itemsize: int = 8,
    maximum: int = MAX_CONFIGURATIONS_PER_BATCH,
) -> int:
    """How many configurations to train in one batch.

    Each configuration holds ``outputs`` columns (1 for regression or two classes, ``n_classes`` for more)
    in five arrays of ``n_features`` rows (the iterate, its gradient, the epoch's running sum, the averaged
    model, and a copy while :meth:`~BatchedLinearTrainer.drop` compacts them), plus ``n_rows`` activations
    per column; the batch is as wide as fits in ``memory_bytes``, at least 1 (one configuration
    always trains) and at most ``maximum``.

    Parameters
    ----------
    n_features : int
        Columns of the training matrix.
    n_classes : int
        Classes of the label (0 or 1 for regression).
    n_rows : int
        The most rows the trainer evaluates at once: the mini-batch size, or the validation rows that
        :meth:`~BatchedLinearTrainer.scores` reads, or the training rows for full-batch descent.
    memory_bytes : int
        Memory the batch may use beyond the training matrix itself.
    itemsize : int, default=8
        Bytes per value (float64).
    maximum : int, default=MAX_CONFIGURATIONS_PER_BATCH

    Returns
    -------
    int
        Configurations per batch, between 1 and ``maximum``.
    """
    if n_features < 1 or n_rows < 1 or memory_bytes < 0 or maximum < 1 or itemsize < 1:
        raise ValueError(
            "n_features, n_rows, itemsize and maximum must be positive and memory_bytes non-negative; got "
            f"{n_features=}, {n_rows=}, {memory_bytes=}, {itemsize=}, {maximum=}"
        )
    outputs = n_classes if n_classes > 2 else 1
    per_configuration = itemsize * outputs * (5 * n_features + n_rows)
    return int(min(maximum, max(1, memory_bytes // per_configuration)))


class BatchedLinearTrainer:
    """Train several configurations of one linear model family on the same data, in one scan per step.

    Parameters
    ----------
    loss : {"logistic", "hinge", "squared_hinge", "squared"} or a family name
        The objective (see the module documentation); "logistic", "linear_svm" and "ridge" name the loss of
        that family (:func:`family_loss`).
    configurations : list of dict
        One dict per configuration, each with any of:

        * ``C`` or ``alpha``: the L2 strength in scikit-learn's convention for the loss (``C`` as in
          LogisticRegression and LinearSVC; ``alpha`` as in SGDClassifier for the classifiers and as in Ridge
          for ``squared``, which takes no ``C``). Missing, the family's default (``paqdb.ml.families``).
        * ``learning_rate``: the step as a fraction of ``1 / L`` (see the module documentation), default 1.
        * ``fit_intercept``: default True.

        ``max_iter`` and ``tol`` (which family configurations carry) are accepted and ignored: the caller
        decides the epochs with :meth:`advance`.
    batch_size : int or None, default=DEFAULT_BATCH_SIZE
        Rows per mini-batch; None (or at least the number of rows) for full-batch gradient descent.
    seed : int, default=0
        Seeds the mini-batch order, the same for every configuration.

    Attributes
    ----------
    classes_ : numpy.ndarray or None
        Sorted class labels (None for regression), set by :meth:`start`.
    n_features_in_ : int
    epochs_ : numpy.ndarray of int
        Epochs each configuration has trained (a dropped one keeps its count).
    """

    def __init__(
        self,
        loss: str,
        configurations: Sequence[Mapping[str, Any]],
        *,
        batch_size: int | None = DEFAULT_BATCH_SIZE,
        seed: int = 0,
    ) -> None:
        self.loss = loss
        self.configurations = configurations
        self.batch_size = batch_size
        self.seed = seed

    # Setting up.

    def start(self, X: Any, y: Any) -> BatchedLinearTrainer:
        """Check the data and hyperparameters, set the classes and start every configuration at zero weights.

        Parameters
        ----------
        X : array-like of shape (n_rows, n_features)
            Training matrix (float; standardised numeric columns train best). Used without a copy when it
            is already a C-ordered float64 array, so it must not change while the trainer uses it.
        y : array-like of shape (n_rows,)
            Class labels (any sortable values) or regression targets.

        Returns
        -------
        self

        Raises
        ------
        paqdb.errors.InvalidParameterError
            An unknown loss or hyperparameter, or a bad value (``C <= 0``, ``learning_rate <= 0``...).
        paqdb.errors.TrainingError
            No rows or no features, a single class, NaN or infinite values.
        """
        loss = resolve_loss(self.loss)
        settings = self._check_configurations(loss)
        batch_size = self.batch_size
        if batch_size is not None and (
            isinstance(batch_size, bool) or not isinstance(batch_size, int | np.integer) or batch_size < 1
        ):
            raise InvalidParameterError(
                f"batch_size must be a positive whole number or None, got {batch_size!r}"
            )
        matrix = _check_matrix(X, "training matrix")
        n_rows, n_features = matrix.shape
        task = _LOSS_TASKS[loss]
        target = np.asarray(y)
        if target.ndim != 1 or len(target) != n_rows:
            raise TrainingError(
                f"the label has shape {target.shape}; expected one value per training row ({n_rows})"
            )
        if target.dtype.kind in "fc" and not np.isfinite(target).all():
            raise TrainingError(
                f"the label has {int((~np.isfinite(target)).sum())} NaN or infinite values",
                hint="drop rows with a missing label before training",
            )

        if task == "classification":
            try:
                classes, codes = np.unique(target, return_inverse=True)
            except TypeError as error:
                raise TrainingError(f"class labels cannot be sorted: {error}") from error
            if len(classes) < 2:
                raise TrainingError(
                    f"the label has a single class ({classes[0]!r}); a classifier needs two or more",
                    hint="check the label column and any filter on the training rows",
                )
            self.classes_: np.ndarray | None = classes
            self._class_counts = np.bincount(codes, minlength=len(classes))
            # scikit-learn's "balanced" weights, per row; used by the configurations that ask for them.
            row_weights = (n_rows / (len(classes) * self._class_counts))[codes]
            outputs = len(classes) if len(classes) > 2 else 1
            # One target column per output: 0/1 (sigmoid) or one-hot (softmax) for the logistic loss, so
            # its gradient is prediction minus target; minus the +-1 label for the hinges (see _residual).
            if outputs == 1:
                indicator = (codes == 1).reshape(n_rows, 1)
            else:
                indicator = codes[:, None] == np.arange(len(classes))
            if loss == "logistic":
                self._target = indicator.astype(np.float64)
            else:
                self._target = np.where(indicator, -1.0, 1.0)
        else:
            if target.dtype.kind not in "biuf":
                raise TrainingError(f"a regression label must be numeric, got {target.dtype}")
            self.classes_ = None
            outputs = 1
            self._target = target.astype(np.float64).reshape(n_rows, 1)
            row_weights = np.ones(n_rows)

        self._loss: Loss = loss
        self._task: Task = task
        self._outputs = outputs
        self._matrix = matrix
        self.n_features_in_ = n_features
        k = len(settings)
        curvature = _CURVATURE[(loss, outputs > 1)]
        rows_per_step = n_rows if batch_size is None else min(int(batch_size), n_rows)
        # A weighted loss's curvature is that of the rows scaled by the square roots of their weights.
        data_smoothness = {
            (fit, balanced): _data_smoothness(matrix, fit, rows_per_step, row_weights if balanced else None)
            for fit, balanced in {(s.fit_intercept, s.balanced) for s in settings}
        }
        penalty = np.array([s.penalty(loss, n_rows) for s in settings])
        smoothness = (
            np.array([curvature * data_smoothness[(s.fit_intercept, s.balanced)] for s in settings]) + penalty
        )
        # All-zero data with no penalty has no curvature: any step is stable.
        smoothness[smoothness <= 0] = 1.0
        step = np.array([s.learning_rate for s in settings]) / smoothness
        intercept = np.array([1.0 if s.fit_intercept else 0.0 for s in settings])

        self._settings = settings
        # Per-column copies (each configuration repeated over its output columns): every update is then
        # one broadcast over the weight block, and a configuration's columns see exactly the arithmetic
        # they would see alone.
        self._penalty = np.repeat(penalty, outputs)
        self._step = np.repeat(step, outputs)
        self._intercept_mask = np.repeat(intercept, outputs)
        weighted = np.repeat(np.array([s.balanced for s in settings]), outputs)
        # Per-column row weights, or None when no configuration weighs its rows.
        self._row_weights: np.ndarray | None = row_weights if weighted.any() else None
        self._weighted_columns = weighted
        # The iterate that training updates, and the model the trainer reports: the same arrays for
        # full-batch descent, the mean of the last epoch's iterates with mini-batches (see _run_epoch).
        self._weights = np.zeros((n_features, k * outputs))
        self._intercepts = np.zeros(k * outputs)
        self._model_weights, self._model_intercepts = self._weights, self._intercepts
        self._active = np.arange(k)
        self._dropped: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self.epochs_ = np.zeros(k, dtype=np.int64)
        self._epoch = 0
        self._rng = np.random.default_rng(self.seed)
        return self

    def _check_configurations(self, loss: Loss) -> list[_Settings]:
        family = FAMILIES.get(_LOSS_FAMILIES[loss])
        defaults: Mapping[str, Any] = family.defaults if family is not None else {}
        regularizers: tuple[Literal["C", "alpha"], ...] = ("alpha",) if loss == "squared" else ("C", "alpha")
        allowed = {*regularizers, "learning_rate", "fit_intercept"} | _IGNORED_HYPERPARAMETERS
        if loss != "squared":
            allowed.add("class_weight")
        if isinstance(self.configurations, Mapping | str) or not isinstance(self.configurations, Sequence):
            raise InvalidParameterError("configurations must be a list of dicts, one per configuration")
        if not self.configurations:
            raise InvalidParameterError("batched training needs at least one configuration")
        settings = []
        for index, configuration in enumerate(self.configurations):
            if not isinstance(configuration, Mapping):
                raise InvalidParameterError(
                    f"configuration {index} is a {type(configuration).__name__}, not a dict"
                )
            unknown = sorted(set(configuration) - allowed)
            if unknown:
                raise InvalidParameterError(
                    f"configuration {index} has hyperparameters {', '.join(map(repr, unknown))} that "
                    f"batched {loss} training does not take",
                    hint=f"it takes: {', '.join(sorted(allowed))}",
                )
            given = [name for name in regularizers if name in configuration]
            if len(given) > 1:
                raise InvalidParameterError(
                    f"configuration {index} sets both C and alpha; they are two forms of one L2 strength",
                    hint="give one of them",
                )
            fallback = [name for name in regularizers if name in defaults] or [regularizers[0]]
            regularizer = given[0] if given else fallback[0]
            value = configuration[regularizer] if given else defaults.get(regularizer, 1.0)
            strength = _positive(
                value,
                f"configuration {index}: {regularizer}",
                allow_zero=regularizer == "alpha",
            )
            learning_rate = _positive(
                configuration.get("learning_rate", 1.0), f"configuration {index}: learning_rate"
            )
            fit_intercept = configuration.get("fit_intercept", True)
            if not isinstance(fit_intercept, bool | np.bool_):
                raise InvalidParameterError(
                    f"configuration {index}: fit_intercept must be true or false, got {fit_intercept!r}"
                )
            class_weight = configuration.get("class_weight")
            if class_weight not in (None, "balanced"):
                raise InvalidParameterError(
                    f"configuration {index}: class_weight must be None or 'balanced', got {class_weight!r}"
                )
            settings.append(
                _Settings(
                    regularizer, strength, learning_rate, bool(fit_intercept), class_weight == "balanced"
                )
            )
        return settings

    # Training.

    @property
    def active(self) -> list[int]:
        """Indices (into ``configurations``) of the configurations still training, in order."""
        self._require_started()
        return [int(index) for index in self._active]

    def advance(
        self,
        iterations: int,
        *,
        deadline: float | None = None,
        clock: Callable[[], float] = time.perf_counter,
    ) -> int:
        """Train every active configuration for ``iterations`` more epochs (passes over the training rows);
        the epochs run.

        An epoch is one gradient step on all rows (full batch) or one step per mini-batch, in an order drawn
        from ``seed`` that is the same for every configuration.

        With a ``deadline`` (a time of ``clock``), no epoch starts once the deadline has passed or once the
        slowest epoch so far would end after it, so fewer than ``iterations`` epochs may run (none when the
        deadline has already passed): a time budget holds to within one epoch.
        """
        self._require_started()
        if isinstance(iterations, bool) or not isinstance(iterations, int | np.integer) or iterations < 0:
            raise ValueError(f"iterations must be a non-negative whole number, got {iterations!r}")
        if len(self._active) == 0:
            return 0
        slowest = 0.0
        for done in range(int(iterations)):
            if deadline is not None:
                now = clock()
                if now >= deadline or now + slowest > deadline:
                    return done
            started = clock()
            self._run_epoch()
            self._epoch += 1
            self.epochs_[self._active] += 1
            slowest = max(slowest, clock() - started)
        return int(iterations)

    def _run_epoch(self) -> None:
        matrix, n_rows = self._matrix, self._matrix.shape[0]
        columns = self._weights.shape[1]
        gradient = np.empty_like(self._weights)
        self._fits_intercepts = bool(self._intercept_mask.any())
        if self.batch_size is None or self.batch_size >= n_rows:
            # Gradient descent converges with a constant step: no decay, no shuffling, no averaging.
            activations = np.empty((n_rows, columns))
            self._gradient_step(
                matrix,
                self._target,
                self._factors(self._step, n_rows),
                activations,
                gradient,
                self._row_weights,
            )
            return
        size = self.batch_size
        order = self._rng.permutation(n_rows)
        # The targets are small: permute them once per epoch and read each batch as a slice.
        targets = self._target[order]
        weights = None if self._row_weights is None else self._row_weights[order]
        step = self._step / math.sqrt(1.0 + self._epoch / STEP_DECAY_EPOCHS)
        full = self._factors(step, size)
        rows_buffer = np.empty((size, matrix.shape[1]))
        activations_buffer = np.empty((size, columns))
        weight_sum = np.zeros_like(self._weights)
        intercept_sum = np.zeros_like(self._intercepts)
        steps = 0
        for begin in range(0, n_rows, size):
            end = min(begin + size, n_rows)
            rows = rows_buffer[: end - begin]
            # A gather into a buffer that stays in cache for both products; clip mode skips the bounds
            # check's extra buffering (the indices come from a permutation).
            np.take(matrix, order[begin:end], axis=0, out=rows, mode="clip")
            factors = full if end - begin == size else self._factors(step, end - begin)
            self._gradient_step(
                rows,
                targets[begin:end],
                factors,
                activations_buffer[: end - begin],
                gradient,
                None if weights is None else weights[begin:end],
            )
            weight_sum += self._weights
            intercept_sum += self._intercepts
            steps += 1
        # The model is the mean of this epoch's iterates (tail averaging): the last mini-batch's noise,
        # which a decaying step only slowly damps, averages out. Training goes on from the last iterate.
        weight_sum *= 1.0 / steps
        intercept_sum *= 1.0 / steps
        self._model_weights, self._model_intercepts = weight_sum, intercept_sum

    def _factors(self, step: np.ndarray, n_rows: int) -> tuple[np.ndarray, np.ndarray]:
        """Per-column factors of one step on ``n_rows`` rows: the weight shrink and the gradient scale."""
        return 1.0 - step * self._penalty, step / n_rows

    def _gradient_step(
        self,
        rows: np.ndarray,
        target: np.ndarray,
        factors: tuple[np.ndarray, np.ndarray],
        activations: np.ndarray,
        gradient: np.ndarray,
        row_weights: np.ndarray | None = None,
    ) -> None:
        """One step of every active configuration on ``rows`` (all or a batch of the training matrix);
        ``row_weights`` (one per row) weigh the loss of the configurations with class weights."""
        shrink, scale = factors
        weights = self._weights
        # The one pass over the rows that the whole batch shares: activations of every configuration.
        np.matmul(rows, weights, out=activations)
        activations += self._intercepts
        residual = self._residual(activations, target)
        if row_weights is not None and self._weighted_columns.any():
            # A weighted mean loss: each row's derivative scaled by its weight, column by column, so an
            # unweighted configuration in the same batch sees exactly its own arithmetic.
            if self._weighted_columns.all():
                residual *= row_weights[:, None]
            else:
                residual[:, self._weighted_columns] *= row_weights[:, None]
        # Scale by step / n whichever of the residual (rows x columns) and the gradient (features x
        # columns) is smaller; the choice depends on the shapes only, not on which configurations train.
        scale_residual = residual.shape[0] <= gradient.shape[0]
        if scale_residual:
            residual *= scale
        # The second pass: X^T (g(XW) - Y), one matrix-matrix product for all configurations.
        np.matmul(rows.T, residual, out=gradient)
        if not scale_residual:
            gradient *= scale
        # W <- W - step * (gradient / n + penalty * W): a shrink and a subtraction, in place.
        weights *= shrink
        weights -= gradient
        if self._fits_intercepts:
            # Column sums as a product with ones (BLAS) rather than a strided reduction over rows.
            intercept_step = np.ones(residual.shape[0]) @ residual
            if not scale_residual:
                intercept_step *= scale
            # The mask is 0 for the configurations without an intercept.
            intercept_step *= self._intercept_mask
            self._intercepts -= intercept_step

    def _residual(self, activations: np.ndarray, target: np.ndarray) -> np.ndarray:
        """The loss's derivative with respect to each activation, computed in place of ``activations``.

        ``target`` has one column per output: 0/1 or one-hot for the logistic loss, the value for squared,
        and the negated +-1 label ``t = -y`` for the hinges (so that ``t * z`` is minus the margin).
        """
        blocks = activations.reshape(activations.shape[0], -1, self._outputs)
        targets = target[:, None, :]
        if self._loss == "squared":
            blocks -= targets
        elif self._loss == "logistic" and self._outputs == 1:
            expit(blocks, out=blocks)
            blocks -= targets
        elif self._loss == "logistic":
            blocks -= blocks.max(axis=2, keepdims=True)
            np.exp(blocks, out=blocks)
            blocks /= blocks.sum(axis=2, keepdims=True)
            blocks -= targets
        elif self._loss == "hinge":
            # d/dz max(0, 1 - y z) = -y where the margin y z is below 1, else 0; with t = -y: t [t z > -1].
            blocks *= targets
            np.multiply(blocks > -1.0, targets, out=blocks)
        else:
            # d/dz max(0, 1 - y z)^2 = -2 y max(0, 1 - y z) = 2 t max(0, 1 + t z).
            blocks *= targets
            blocks += 1.0
            np.maximum(blocks, 0.0, out=blocks)
            blocks *= 2.0 * targets
        return activations

    def drop(self, indices: Iterable[int]) -> None:
        """Stop the configurations ``indices`` (into ``configurations``): later epochs skip their columns.

        Their weights stay available through :meth:`estimator`. Raises ValueError for an index that is not
        active.
        """
        self._require_started()
        stopping = sorted({int(i) for i in indices})
        active = self.active
        missing = [i for i in stopping if i not in active]
        if missing:
            raise ValueError(f"configurations {missing} are not training (active: {active})")
        if not stopping:
            return
        for index in stopping:
            self._dropped[index] = self._coefficients(index)
        keep = ~np.isin(self._active, stopping)
        columns = np.repeat(keep, self._outputs)
        self._active = self._active[keep]
        averaged = self._model_weights is not self._weights
        self._weights = np.ascontiguousarray(self._weights[:, columns])
        self._intercepts = self._intercepts[columns]
        if averaged:
            self._model_weights = np.ascontiguousarray(self._model_weights[:, columns])
            self._model_intercepts = self._model_intercepts[columns]
        else:
            self._model_weights, self._model_intercepts = self._weights, self._intercepts
        self._penalty = self._penalty[columns]
        self._step = self._step[columns]
        self._intercept_mask = self._intercept_mask[columns]
        self._weighted_columns = self._weighted_columns[columns]

    # Reading the models.

    def decision_function(self, X: Any) -> np.ndarray:
        """Raw outputs ``X W + b`` of every active configuration.

        Returns
        -------
        numpy.ndarray of shape (n_rows, n_active), or (n_rows, n_active, n_classes) for more than two
        classes; configurations in :attr:`active` order. For two classes, positive means ``classes_[1]``.
        """
        self._require_started()
        matrix = _check_matrix(X, "matrix", allow_empty=True)
        if matrix.shape[1] != self.n_features_in_:
            raise TrainingError(
                f"the matrix has {matrix.shape[1]} features; the trainer was started on {self.n_features_in_}"
            )
        outputs = matrix @ self._model_weights + self._model_intercepts
        if self._outputs == 1:
            return outputs
        return outputs.reshape(matrix.shape[0], len(self._active), self._outputs)

    def scores(
        self, X_val: Any, y_val: Any, metric: str | Metric | None = None, *, positive_class: int | None = None
    ) -> dict[int, float]:
        """The validation score of every active configuration.

        Parameters
        ----------
        X_val : array-like of shape (n_rows, n_features)
        y_val : array-like of shape (n_rows,)
            Labels from ``classes_`` (classification) or values (regression).
        metric : str or Metric, optional
            A name from :mod:`paqdb.ml.metrics` (the task's default when None). Probabilities are a sigmoid
            or softmax of the outputs, as :func:`paqdb.ml.model.class_probabilities` computes them.
        positive_class : int, optional
            Code (position in ``classes_``) of the positive class for binary ``f1``/``auc``; by default the
            training data's minority class (:func:`~paqdb.ml.metrics.positive_class_code`).

        Returns
        -------
        dict
            Configuration index to score, for the active configurations.
        """
        self._require_started()
        chosen = metric if isinstance(metric, Metric) else get_metric(metric, self._task)
        if chosen.task != self._task:
            raise InvalidParameterError(f"metric '{chosen.name}' is for {chosen.task}, not {self._task}")
        outputs = self.decision_function(X_val)
        truth = np.asarray(y_val)
        if truth.ndim != 1 or len(truth) != outputs.shape[0]:
            raise TrainingError(
                f"y_val has shape {truth.shape}; expected one value per validation row ({outputs.shape[0]})"
            )
        if len(truth) == 0:
            raise TrainingError("no validation rows to score")
        if self.classes_ is None:
            values = truth.astype(np.float64)
            return {
                int(index): chosen.score(values, outputs[:, column])
                for column, index in enumerate(self._active)
            }
        codes = np.minimum(np.searchsorted(self.classes_, truth), len(self.classes_) - 1)
        unknown = self.classes_[codes] != truth
        if unknown.any():
            raise TrainingError(
                f"validation labels {sorted(set(truth[unknown].tolist()))[:5]} are not among the training "
                f"classes {self.classes_.tolist()[:10]}"
            )
        positive = positive_class_code(self._class_counts) if positive_class is None else positive_class
        results = {}
        for column, index in enumerate(self._active):
            margins = outputs[:, column]
            if margins.ndim == 1:
                probability = expit(margins)
                probabilities = np.column_stack([1.0 - probability, probability])
            else:
                probabilities = softmax(margins, axis=1)
            results[int(index)] = chosen.score(codes, probabilities.argmax(axis=1), probabilities, positive)
        return results

    def estimator(self, index: int) -> BaseEstimator:
        """Configuration ``index`` as a fitted scikit-learn estimator (active or dropped).

        A :class:`~sklearn.linear_model.LogisticRegression` (logistic), :class:`~sklearn.svm.LinearSVC`
        (hinge and squared_hinge, with that ``loss``) or :class:`~sklearn.linear_model.Ridge` (squared)
        whose L2 strength is the configuration's (as ``C``, or ``alpha`` for Ridge), with the trained
        ``coef_``, ``intercept_``, ``classes_``, ``n_features_in_`` and ``n_iter_`` (epochs) set, so that
        ``predict``, ``decision_function`` and ``predict_proba`` (logistic) work and skops can store it.
        """
        self._require_started()
        if not 0 <= index < len(self._settings):
            raise ValueError(f"no configuration {index}; there are {len(self._settings)}")
        coef, intercept = self._coefficients(index)
        setting = self._settings[index]
        # The per-row strength back in each estimator's own convention.
        penalty = setting.penalty(self._loss, self._matrix.shape[0])
        n_rows = self._matrix.shape[0]
        epochs = int(self.epochs_[index])
        model: Any
        if self._loss == "squared":
            model = Ridge(alpha=penalty * n_rows, fit_intercept=setting.fit_intercept, random_state=self.seed)
            model.coef_ = coef[0]
            model.intercept_ = float(intercept[0])
            model.n_iter_ = None
        else:
            inverse = math.inf if penalty == 0 else 1.0 / (penalty * n_rows)
            if self._loss == "logistic":
                model = LogisticRegression(
                    C=inverse,
                    fit_intercept=setting.fit_intercept,
                    class_weight="balanced" if setting.balanced else None,
                    random_state=self.seed,
                )
                model.n_iter_ = np.array([epochs], dtype=np.int32)
            else:
                model = LinearSVC(
                    C=inverse,
                    loss=self._loss,
                    fit_intercept=setting.fit_intercept,
                    class_weight="balanced" if setting.balanced else None,
                    random_state=self.seed,
                )
                model.n_iter_ = epochs
            model.coef_ = coef
            model.intercept_ = intercept
            assert self.classes_ is not None
            model.classes_ = self.classes_.copy()
        model.n_features_in_ = self.n_features_in_
        return model

    def _coefficients(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        """Copies of configuration ``index``'s weights (outputs, features) and intercepts (outputs,)."""
        if index in self._dropped:
            coef, intercept = self._dropped[index]
            return coef.copy(), intercept.copy()
        position = int(np.searchsorted(self._active, index))
        columns = slice(position * self._outputs, (position + 1) * self._outputs)
        return self._model_weights[:, columns].T.copy(), self._model_intercepts[columns].copy()

    def _require_started(self) -> None:
        if not hasattr(self, "_weights"):
            raise NotFittedError("call start(X, y) before training or reading the models")


def _positive(value: Any, name: str, *, allow_zero: bool = False) -> float:
    """``value`` as a finite float above zero (or at least zero), else InvalidParameterError."""
    if isinstance(value, bool):
        raise InvalidParameterError(f"{name} must be a number, got {value!r}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InvalidParameterError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(number) or number < 0 or (number == 0 and not allow_zero):
        bound = "non-negative" if allow_zero else "positive"
        raise InvalidParameterError(f"{name} must be a finite {bound} number, got {value!r}")
    return number


def _check_matrix(X: Any, what: str, *, allow_empty: bool = False) -> np.ndarray:
    """``X`` as a C-ordered float64 matrix (copied only when it is not one already), checked."""
    try:
        matrix = np.ascontiguousarray(X, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise TrainingError(f"the {what} is not numeric: {error}") from error
    if matrix.ndim != 2:
        raise TrainingError(f"the {what} must be two-dimensional (rows, features), got shape {matrix.shape}")
    if not allow_empty and matrix.shape[0] == 0:
        raise TrainingError(f"the {what} has no rows", hint="check the training query's filter")
    if matrix.shape[1] == 0:
        raise TrainingError(f"the {what} has no feature columns")
    if not np.isfinite(matrix).all():
        bad = int((~np.isfinite(matrix)).sum())
        raise TrainingError(
            f"the {what} has {bad} NaN or infinite values",
            hint="impute or drop them first (paqdb's Featurizer does)",
        )
    return matrix


def _data_smoothness(
    matrix: np.ndarray, with_intercept: bool, rows_per_step: int, row_weights: np.ndarray | None = None
) -> float:
    """The smoothness of a mean over ``rows_per_step`` sampled rows of a loss with curvature 1, for SGD.

    Gower et al.'s expected smoothness (ICML 2019) for mini-batches of b of n rows without replacement,
    ``n (b - 1) / (b (n - 1)) L + (n - b) / (b (n - 1)) L_row``: the full-data constant ``L`` (largest
    eigenvalue of ``A^T A / n``) for full batches, a row's ``||a_i||^2`` for single rows, between the two
    for mini-batches, whose steps are noisier. ``L_row`` is the mean row's, not the largest as in the
    paper's worst case: one outlying row would set that (on standardised MNIST the largest is 33 times the
    mean, and steps three times smaller cost 2 points of accuracy after 10 epochs), and the averaged
    iterate absorbs the occasional large step. ``A`` is the matrix, with a column of ones when
    ``with_intercept``. With ``row_weights`` (a weighted loss), ``A``'s rows are scaled by the square roots
    of their weights.
    """
    n_rows = matrix.shape[0]
    full = _largest_squared_singular_value(matrix, with_intercept, row_weights)
    if rows_per_step >= n_rows:
        return full
    if row_weights is None:
        mean_row = float(np.einsum("ij,ij->", matrix, matrix)) / n_rows + float(with_intercept)
    else:
        squared = np.einsum("ij,ij->i", matrix, matrix) + float(with_intercept)
        mean_row = float(row_weights @ squared) / n_rows
    b, n = rows_per_step, n_rows
    return (n * (b - 1) * full + (n - b) * mean_row) / (b * (n - 1))


def _largest_squared_singular_value(
    matrix: np.ndarray, with_intercept: bool, row_weights: np.ndarray | None = None
) -> float:
    """Estimate the largest eigenvalue of ``A^T A / n``, ``A`` the matrix with a column of ones appended when
    ``with_intercept``, by power iteration without forming ``A``.

    It only sets the step size, so a few per cent of error is harmless, while the estimate must stay cheap
    next to an epoch (a configuration trained alone pays it too): it reads at most
    :data:`SPECTRAL_SAMPLE_ROWS` rows and stops when the estimate moves by less than 0.1%. The sample and
    the start vector are fixed, so every configuration gets the same value alone or in a batch.
    """
    n_rows, n_features = matrix.shape
    sampler = np.random.default_rng(0)
    weights = row_weights
    if n_rows > SPECTRAL_SAMPLE_ROWS:
        sample = np.sort(sampler.choice(n_rows, SPECTRAL_SAMPLE_ROWS, replace=False))
        matrix = matrix[sample]
        weights = None if weights is None else weights[sample]
    vector = sampler.standard_normal(n_features + int(with_intercept))
    vector /= np.linalg.norm(vector)
    value = 0.0
    for _ in range(POWER_ITERATIONS):
        image = matrix @ vector[:n_features]
        if with_intercept:
            image += vector[n_features]
        if weights is not None:
            # (D A)^T (D A) v = A^T (w * A v) with D = diag(sqrt(w)): no scaled copy of the matrix.
            image *= weights
        product = matrix.T @ image
        if with_intercept:
            product = np.append(product, image.sum())
        previous, value = value, float(np.linalg.norm(product))
        if value == 0.0:
            return 0.0
        vector = product / value
        if abs(value - previous) <= 1e-3 * value:
            break
    return value / matrix.shape[0]


__all__ = [
    "BATCHABLE_FAMILIES",
    "DEFAULT_BATCH_SIZE",
    "LOSSES",
    "MAX_CONFIGURATIONS_PER_BATCH",
    "BatchedLinearTrainer",
    "Loss",
    "batch_size_for",
    "family_loss",
    "resolve_loss",
]
