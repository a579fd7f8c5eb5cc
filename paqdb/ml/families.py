"""The model families a search can try, each with its default hyperparameter space.

A family knows which tasks it supports, which feature encoding it reads (one-hot for linear models and
networks, ordinal category codes for trees), the space a search samples from, the configuration tried first
(a sound default, so a search whose budget only covers one trial per family still gets a good model), and how
to build an unfitted scikit-learn estimator from a configuration.

Hyperparameter values are JSON-able plain values (numbers, strings, None, lists) so that trials and model
artifacts can record them as they are; a builder converts where scikit-learn wants another form (a tuple of
layer sizes).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

import numpy as np

from paqdb.errors import InvalidParameterError
from paqdb.ml.features import Encoding
from paqdb.ml.tasks import TASKS, Task
from paqdb.options import Range

# scikit-learn is imported by the builders, not here: this table is read at planning time (names, tasks,
# spaces), and importing scikit-learn costs about a second that only training needs (issue 9, fast start).
if TYPE_CHECKING:
    from sklearn.base import BaseEstimator


SpaceValue: TypeAlias = list[Any] | Range
"""The candidates for one hyperparameter: an explicit list of values, or a :class:`~paqdb.options.Range`."""


SINGLE_THREAD_ROWS = 100_000
"""Below this many training rows, estimators train on one thread (OpenMP, BLAS and joblib alike).

Their parallel regions are then short, so threads gain little on an idle machine and lose a lot on a busy
one: with more runnable threads than cores, every barrier waits for a descheduled thread. Measured on a
2-core machine shared with other work (Adult, 26,048 rows, repeated runs): HistGradientBoosting took
0.84 s on one thread every time, and between 0.67 s and 73 s on two; LogisticRegression 0.52 s against
1.2 to 4.3 s; MLP 3.8 s against 3.1 to 34 s."""


@dataclass(frozen=True)
class TrainingShape:
    """What a builder may need to know about the training matrix to pick safe settings.

    Attributes
    ----------
    n_samples : int
        Training rows.
    min_class_count : int or None
        Rows of the rarest class (classification), None for regression.
    categorical_features : numpy.ndarray of bool or None
        Which matrix columns hold ordinal category codes (see ``Featurizer.categorical_mask``).
    n_features : int
        Columns of the training matrix; 0 when unknown (builders then keep scikit-learn's defaults).
    n_classes : int
        Classes of the label (classification); 0 when unknown or for regression.
    """

    n_samples: int
    min_class_count: int | None = None
    categorical_features: np.ndarray | None = None
    n_features: int = 0
    n_classes: int = 0

    @property
    def single_threaded(self) -> bool:
        """Whether to train on one thread (see :data:`SINGLE_THREAD_ROWS`)."""
        return self.n_samples < SINGLE_THREAD_ROWS

    def can_hold_out(self, fraction: float, minimum: int = 100) -> bool:
        """Whether an estimator's internal early-stopping split of ``fraction`` is safe and worth it."""
        enough_rows = self.n_samples * fraction >= minimum
        # Stratified internal splits fail outright when a class has a single row.
        return enough_rows and (self.min_class_count is None or self.min_class_count >= 2)


CLASS_WEIGHT = "class_weight"
"""The hyperparameter carrying a search's ``class_weight`` option (``'balanced'`` or None) to a builder."""


Builder: TypeAlias = "Callable[[Task, dict[str, Any], int, TrainingShape], BaseEstimator]"


@dataclass(frozen=True)
class ModelFamily:
    """One kind of model a search can train.

    Attributes
    ----------
    name : str
        The name used in SQL (``families = ['gradient_boosting']``).
    tasks : tuple of Task
        Tasks the family can learn.
    encoding : {"onehot", "ordinal"}
        Feature encoding its estimators read.
    space : mapping of str to list or Range
        Default search space.
    defaults : mapping of str to value
        The first configuration tried; also fills in hyperparameters a configuration leaves out.
    resource : str or None
        The hyperparameter that sets training effort (trees, iterations), for budgeted allocation.
    integer_hyperparameters : frozenset of str
        Hyperparameters whose values must be whole numbers (a sampled 7.6 becomes 8).
    task_only : mapping of str to Task
        Hyperparameters that apply to one task only (``kernel_approximation``'s ``C`` for classification,
        ``alpha`` for regression); the others apply to every task. See :meth:`space_for`.
    class_weighted : bool
        Whether its classifiers take ``class_weight`` (:data:`CLASS_WEIGHT`, a classification-only
        hyperparameter without a default: a search's ``class_weight`` option sets it in every
        configuration, and the builder passes it to the estimator).
    """

    name: str
    tasks: tuple[Task, ...]
    encoding: Encoding
    space: Mapping[str, SpaceValue]
    defaults: Mapping[str, Any]
    builder: Builder = field(repr=False)
    resource: str | None = None
    integer_hyperparameters: frozenset[str] = frozenset()
    description: str = ""
    task_only: Mapping[str, Task] = field(default_factory=dict)
    class_weighted: bool = False

    def supports(self, task: Task) -> bool:
        """Whether the family can learn ``task``."""
        return task in self.tasks

    def require(self, task: Task) -> None:
        """Raise :class:`~paqdb.errors.InvalidParameterError` unless the family supports ``task``."""
        if not self.supports(task):
            raise InvalidParameterError(
                f"model family '{self.name}' does not support {task}",
                hint=f"families for {task}: {', '.join(f.name for f in families_for(task))}",
            )

    @property
    def hyperparameter_names(self) -> frozenset[str]:
        """Every hyperparameter a configuration of this family may set, for any task."""
        weighted = frozenset({CLASS_WEIGHT}) if self.class_weighted else frozenset()
        return frozenset(self.space) | frozenset(self.defaults) | weighted

    def applies_to(self, name: str, task: Task) -> bool:
        """Whether hyperparameter ``name`` means something when the family learns ``task``."""
        if name == CLASS_WEIGHT:
            return self.class_weighted and task == "classification"
        return self.task_only.get(name, task) == task

    def hyperparameter_names_for(self, task: Task) -> frozenset[str]:
        """The hyperparameters a configuration for ``task`` may set (:attr:`hyperparameter_names` less
        those of another task)."""
        return frozenset(n for n in self.hyperparameter_names if self.applies_to(n, task))

    def space_for(self, task: Task) -> dict[str, SpaceValue]:
        """The default search space for ``task``: :attr:`space` less the hyperparameters of another task
        (a search sampling them would try configurations that differ in nothing the estimator reads)."""
        return {name: values for name, values in self.space.items() if self.applies_to(name, task)}

    def configuration(
        self, hyperparameters: Mapping[str, Any] | None = None, task: Task | None = None
    ) -> dict[str, Any]:
        """The full configuration: ``defaults`` updated with ``hyperparameters``, values coerced.

        With ``task``, hyperparameters of another task (see :attr:`task_only`) are left out, whether
        defaults or given: a search applies an override such as ``C`` to every family that has it.
        Raises :class:`~paqdb.errors.InvalidParameterError` for a hyperparameter the family does not have.
        """
        unknown = sorted(set(hyperparameters or {}) - self.hyperparameter_names)
        if unknown:
            raise InvalidParameterError(
                f"model family '{self.name}' has no hyperparameter {', '.join(repr(n) for n in unknown)}",
                hint=f"'{self.name}' takes: {', '.join(sorted(self.hyperparameter_names))}",
            )
        merged = {**self.defaults, **(hyperparameters or {})}
        return {
            name: self._coerce(name, value)
            for name, value in merged.items()
            if task is None or self.applies_to(name, task)
        }

    def _coerce(self, name: str, value: Any) -> Any:
        if name in self.integer_hyperparameters and isinstance(value, float) and math.isfinite(value):
            return round(value)
        if isinstance(value, np.generic):
            return value.item()
        return value

    def build(
        self,
        task: Task,
        hyperparameters: Mapping[str, Any] | None,
        seed: int,
        shape: TrainingShape | None = None,
    ) -> BaseEstimator:
        """An unfitted scikit-learn estimator for ``task`` with the given hyperparameters.

        Parameters
        ----------
        task : {"classification", "regression"}
        hyperparameters : mapping or None
            Values to use instead of :attr:`defaults`.
        seed : int
            ``random_state`` of the estimator.
        shape : TrainingShape, optional
            The training matrix's size and categorical columns; builders use it to turn on internal early
            stopping only where it is safe and to mark native categorical columns.
        """
        self.require(task)
        return self.builder(task, self.configuration(hyperparameters, task), seed, shape or TrainingShape(0))


NEWTON_CHOLESKY_MAX_FEATURES = 128
"""Most matrix columns for which binary logistic regression uses the ``newton-cholesky`` solver."""

RIDGE_CHOLESKY_MAX_SIZE = 1024
"""Largest linear system (the smaller of rows and columns) Ridge solves exactly with ``cholesky``."""


def choose_solver(linear_model: Literal["logistic", "ridge"], shape: TrainingShape) -> str:
    """The scikit-learn ``solver`` a linear model uses for a training matrix of ``shape``.

    KeystoneML's optimiser picks each learner's solver from the data's shape; this is that rule for the
    two linear models the families build with scikit-learn solvers (the ``logistic`` and ``ridge``
    families and the linear model of ``kernel_approximation``; LinearSVC keeps its dual solver). A shape
    with ``n_features`` 0 (unknown) keeps scikit-learn's own defaults, ``lbfgs`` and ``auto``.

    ``logistic`` (LogisticRegression): ``newton-cholesky`` for a binary label (``n_classes == 2``) and at
    most :data:`NEWTON_CHOLESKY_MAX_FEATURES` columns, ``lbfgs`` otherwise. A Newton step costs
    ``rows x columns**2`` but 5 to 7 of them converge, against 25 to 160 cheaper ``lbfgs`` steps; both
    reach the same optimum and support ``warm_start`` and ``max_iter``. Measured on one core of a busy
    2-core machine (Adult, 26,049 rows, C in {0.01, 1, 100}, best of 3): at 113 columns 0.39 to 0.57 s
    against 0.26 to 0.82 s (1.1 to 2.1x faster for C >= 1, 1.6x slower at C = 0.01); on the 20 to 90
    busiest columns 1.0 to 2.5x faster; at 200 columns 0.86 to 1.5 s against 0.28 to 1.4 s and at 300
    columns 2.6 to 3.0 s against 0.49 to 1.9 s (slower); on 512 random features 7.2 to 7.8 s against 0.7
    to 0.9 s. The same pattern at 104,196 rows. ``saga`` was 20 s (500 iterations, not converged) where
    ``lbfgs`` took 0.5 s, so it is never chosen. Multiclass stays on ``lbfgs``: its Newton system grows
    with columns x classes.

    ``ridge`` (Ridge): ``cholesky`` (exact normal equations, or the kernel system when rows are fewer than
    columns) when the smaller of rows and columns is at most :data:`RIDGE_CHOLESKY_MAX_SIZE`, ``lsqr``
    (iterative) above. Measured on one core: Adult one-hot (112 columns) 0.05 s against lsqr 0.29 s and sag
    8.4 s; 1,024 random features of Adult, cholesky 2.6 to 3.2 s against lsqr 0.6 to 5.9 s (faster for
    alpha >= 1, slower and slightly less exact at alpha = 0.001); 3,000 random features, cholesky 20 to
    23 s against lsqr 1.5 to 26 s; Gaussian 10,000 x 4,000, cholesky 17 s against lsqr 1.4 s.
    """
    if linear_model == "logistic":
        if shape.n_classes == 2 and 0 < shape.n_features <= NEWTON_CHOLESKY_MAX_FEATURES:
            return "newton-cholesky"
        return "lbfgs"
    if linear_model == "ridge":
        if shape.n_features == 0:
            return "auto"
        system = min(shape.n_features, shape.n_samples) if shape.n_samples else shape.n_features
        return "cholesky" if system <= RIDGE_CHOLESKY_MAX_SIZE else "lsqr"
    raise ValueError(f"no solver rule for {linear_model!r}")


def _build_logistic(task: Task, hp: dict[str, Any], seed: int, shape: TrainingShape) -> BaseEstimator:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(
        C=hp["C"],
        max_iter=hp["max_iter"],
        tol=hp["tol"],
        solver=choose_solver("logistic", shape),
        class_weight=hp.get(CLASS_WEIGHT),
        random_state=seed,
    )


def _build_linear_svm(task: Task, hp: dict[str, Any], seed: int, shape: TrainingShape) -> BaseEstimator:
    # The dual coordinate-descent solver, capped at max_iter epochs, keeps the cost near linear in the
    # data: liblinear's primal Newton solver (what dual="auto" picks when rows outnumber features) took
    # 11 to 150 s on 4,000 standardised MNIST digits, the dual one 5 to 7 s for the same accuracy.
    from sklearn.svm import LinearSVC

    return LinearSVC(
        C=hp["C"], dual=True, max_iter=hp["max_iter"], class_weight=hp.get(CLASS_WEIGHT), random_state=seed
    )


def _build_ridge(task: Task, hp: dict[str, Any], seed: int, shape: TrainingShape) -> BaseEstimator:
    from sklearn.linear_model import Ridge

    return Ridge(alpha=hp["alpha"], solver=choose_solver("ridge", shape), random_state=seed)


def _build_kernel_approximation(
    task: Task, hp: dict[str, Any], seed: int, shape: TrainingShape
) -> BaseEstimator:
    from sklearn.kernel_approximation import RBFSampler
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.pipeline import Pipeline

    gamma = hp["gamma"]
    if gamma is None:
        # 1 / columns: for standardised columns the mean squared distance between two rows is about
        # 2 x columns, so the kernel's exponent stays near 1 whatever the width. Without the shape,
        # scikit-learn's "scale" (1 / (columns x variance)) says the same for standardised data.
        gamma = 1.0 / shape.n_features if shape.n_features else "scale"
    features = RBFSampler(gamma=gamma, n_components=hp["n_components"], random_state=seed)
    # The linear model reads the random features, so its solver follows their number.
    linear_shape = replace(shape, n_features=hp["n_components"], categorical_features=None)
    model: BaseEstimator
    if task == "classification":
        model = LogisticRegression(
            C=hp["C"],
            max_iter=hp["max_iter"],
            tol=hp["tol"],
            solver=choose_solver("logistic", linear_shape),
            class_weight=hp.get(CLASS_WEIGHT),
            random_state=seed,
        )
    else:
        model = Ridge(alpha=hp["alpha"], solver=choose_solver("ridge", linear_shape), random_state=seed)
    return Pipeline([("features", features), ("model", model)])


def _build_random_forest(task: Task, hp: dict[str, Any], seed: int, shape: TrainingShape) -> BaseEstimator:
    from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

    weights = {"class_weight": hp.get(CLASS_WEIGHT)} if task == "classification" else {}
    estimator = RandomForestClassifier if task == "classification" else RandomForestRegressor
    max_features = hp["max_features"]
    if max_features is None:
        # scikit-learn's own per-task defaults: sqrt for classification, all features for regression.
        max_features = "sqrt" if task == "classification" else 1.0
    return estimator(
        **weights,
        n_estimators=hp["n_estimators"],
        max_depth=hp["max_depth"],
        min_samples_leaf=hp["min_samples_leaf"],
        max_features=max_features,
        n_jobs=None if shape.single_threaded else -1,
        random_state=seed,
    )


def _build_gradient_boosting(
    task: Task, hp: dict[str, Any], seed: int, shape: TrainingShape
) -> BaseEstimator:
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    weights = {"class_weight": hp.get(CLASS_WEIGHT)} if task == "classification" else {}
    estimator = HistGradientBoostingClassifier if task == "classification" else HistGradientBoostingRegressor
    categorical = shape.categorical_features
    if not hp["native_categorical"] or categorical is None or not categorical.any():
        categorical = None
    # Internal early stopping makes max_iter a ceiling rather than a guess; it needs enough rows, and
    # without it a long run of tiny trees on small data costs much and gains nothing.
    early_stopping = shape.can_hold_out(0.1)
    max_iter = hp["max_iter"]
    if max_iter is None:
        max_iter = 500 if early_stopping else 100
    return estimator(
        **weights,
        learning_rate=hp["learning_rate"],
        max_iter=max_iter,
        max_leaf_nodes=hp["max_leaf_nodes"],
        max_depth=hp["max_depth"],
        min_samples_leaf=hp["min_samples_leaf"],
        l2_regularization=hp["l2_regularization"],
        max_features=hp["max_features"],
        categorical_features=categorical,
        early_stopping=early_stopping,
        validation_fraction=0.1,
        n_iter_no_change=20,
        random_state=seed,
    )


def _build_mlp(task: Task, hp: dict[str, Any], seed: int, shape: TrainingShape) -> BaseEstimator:
    from sklearn.neural_network import MLPClassifier, MLPRegressor

    estimator = MLPClassifier if task == "classification" else MLPRegressor
    layers = hp["hidden_layer_sizes"]
    layers = tuple(int(n) for n in layers) if isinstance(layers, Sequence) else (int(layers),)
    return estimator(
        hidden_layer_sizes=layers,
        alpha=hp["alpha"],
        learning_rate_init=hp["learning_rate_init"],
        # scikit-learn warns, then clips, when a batch is larger than the data.
        batch_size=min(hp["batch_size"], shape.n_samples) if shape.n_samples else hp["batch_size"],
        max_iter=hp["max_iter"],
        early_stopping=shape.can_hold_out(0.1, minimum=50),
        n_iter_no_change=8,
        random_state=seed,
    )


_FAMILIES: tuple[ModelFamily, ...] = (
    ModelFamily(
        name="logistic",
        tasks=("classification",),
        encoding="onehot",
        space={"C": Range(1e-3, 1e2, "log")},
        defaults={"C": 1.0, "max_iter": 500, "tol": 1e-4},
        builder=_build_logistic,
        class_weighted=True,
        resource="max_iter",
        integer_hyperparameters=frozenset({"max_iter"}),
        description="logistic regression (scikit-learn LogisticRegression, L2)",
    ),
    ModelFamily(
        name="linear_svm",
        tasks=("classification",),
        encoding="onehot",
        space={"C": Range(1e-3, 1e1, "log")},
        defaults={"C": 0.1, "max_iter": 200},
        builder=_build_linear_svm,
        class_weighted=True,
        resource="max_iter",
        integer_hyperparameters=frozenset({"max_iter"}),
        description=(
            "linear support vector machine (LinearSVC, squared hinge); confidence is a sigmoid (or softmax) "
            "of the margin, not a calibrated probability"
        ),
    ),
    ModelFamily(
        name="ridge",
        tasks=("regression",),
        encoding="onehot",
        space={"alpha": Range(1e-3, 1e3, "log")},
        defaults={"alpha": 1.0},
        builder=_build_ridge,
        description="linear regression with an L2 penalty (Ridge); also called 'linear'",
    ),
    ModelFamily(
        name="gradient_boosting",
        tasks=("classification", "regression"),
        encoding="ordinal",
        space={
            "learning_rate": Range(0.03, 0.3, "log"),
            "max_leaf_nodes": [7, 15, 31, 63],
            "max_depth": [None, 4, 8],
            "min_samples_leaf": [10, 20, 40, 80],
            "l2_regularization": [0.0, 0.1, 1.0, 10.0],
            "max_features": [0.5, 0.8, 1.0],
        },
        defaults={
            "learning_rate": 0.1,
            "max_iter": None,
            "max_leaf_nodes": 31,
            "max_depth": None,
            "min_samples_leaf": 20,
            "l2_regularization": 0.0,
            "max_features": 1.0,
            # Native categorical splits cost a ColumnTransformer pass on every predict call: on Adult,
            # 30 ms instead of 19 ms per 2048-row batch, for no accuracy gain over frequency-ordered codes
            # (0.870 against 0.871 test accuracy). Available as an override.
            "native_categorical": False,
        },
        builder=_build_gradient_boosting,
        class_weighted=True,
        resource="max_iter",
        integer_hyperparameters=frozenset({"max_iter", "max_leaf_nodes", "max_depth", "min_samples_leaf"}),
        description=(
            "histogram gradient boosting (HistGradientBoosting) on category codes, or native categorical "
            "splits with native_categorical; max_iter None means 500 with internal early stopping, "
            "or 100 on data too small for it"
        ),
    ),
    ModelFamily(
        name="random_forest",
        tasks=("classification", "regression"),
        encoding="ordinal",
        space={
            "max_depth": [None, 10, 20, 30],
            "min_samples_leaf": [1, 2, 5, 10],
            "max_features": [None, 0.3, 0.5, 0.8],
        },
        defaults={"n_estimators": 100, "max_depth": None, "min_samples_leaf": 1, "max_features": None},
        builder=_build_random_forest,
        class_weighted=True,
        resource="n_estimators",
        integer_hyperparameters=frozenset({"n_estimators", "max_depth", "min_samples_leaf"}),
        description="random forest (RandomForestClassifier / RandomForestRegressor)",
    ),
    ModelFamily(
        name="kernel_approximation",
        tasks=("classification", "regression"),
        encoding="onehot",
        space={
            "gamma": Range(1e-3, 1.0, "log"),
            "n_components": [256, 512, 1024],
            "C": Range(1e-2, 1e2, "log"),
            "alpha": Range(1e-3, 1e3, "log"),
        },
        defaults={
            # None: 1 / columns of the one-hot matrix (0.0088 on Adult's 113), see the builder.
            "gamma": None,
            "n_components": 512,
            "C": 1.0,
            "alpha": 1.0,
            "max_iter": 200,
            "tol": 1e-4,
        },
        builder=_build_kernel_approximation,
        class_weighted=True,
        integer_hyperparameters=frozenset({"n_components", "max_iter"}),
        task_only={
            "C": "classification",
            "max_iter": "classification",
            "tol": "classification",
            "alpha": "regression",
        },
        description=(
            "random Fourier features of an RBF kernel (Rahimi & Recht; RBFSampler) feeding a linear model: "
            "LogisticRegression (C) for classification, Ridge (alpha) for regression; gamma None means "
            "1 / columns"
        ),
    ),
    ModelFamily(
        name="mlp",
        tasks=("classification", "regression"),
        encoding="onehot",
        space={
            "hidden_layer_sizes": [[64], [128], [64, 64], [128, 64]],
            "alpha": Range(1e-5, 1e-1, "log"),
            "learning_rate_init": Range(1e-4, 1e-2, "log"),
        },
        defaults={
            "hidden_layer_sizes": [64],
            "alpha": 1e-4,
            "learning_rate_init": 1e-3,
            "batch_size": 512,
            "max_iter": 100,
        },
        builder=_build_mlp,
        resource="max_iter",
        integer_hyperparameters=frozenset({"batch_size", "max_iter"}),
        description="small multi-layer perceptron (MLPClassifier / MLPRegressor, Adam, early stopping)",
    ),
)

FAMILIES: dict[str, ModelFamily] = {family.name: family for family in _FAMILIES}
"""Every family by name, cheapest to train first (the order a search interleaves them in)."""

ALIASES: dict[str, str] = {
    "linear": "ridge",
    "linear_regression": "ridge",
    "logistic_regression": "logistic",
    "svm": "linear_svm",
    "hist_gradient_boosting": "gradient_boosting",
    "gbt": "gradient_boosting",
    "forest": "random_forest",
    "neural_network": "mlp",
    "random_features": "kernel_approximation",
}


def get_family(name: str) -> ModelFamily:
    """The family called ``name`` (or one of its :data:`ALIASES`), case-insensitively.

    Raises :class:`~paqdb.errors.InvalidParameterError` listing the known families otherwise.
    """
    key = name.strip().lower() if isinstance(name, str) else name
    key = ALIASES.get(key, key)
    family = FAMILIES.get(key)
    if family is None:
        raise InvalidParameterError(
            f"unknown model family {name!r}",
            hint=f"known families: {', '.join(FAMILIES)} (aliases: {', '.join(sorted(ALIASES))})",
        )
    return family


def families_for(task: Task) -> list[ModelFamily]:
    """The families that support ``task``, in :data:`FAMILIES` order."""
    return [family for family in FAMILIES.values() if family.supports(task)]


__all__ = [
    "ALIASES",
    "FAMILIES",
    "NEWTON_CHOLESKY_MAX_FEATURES",
    "RIDGE_CHOLESKY_MAX_SIZE",
    "TASKS",
    "ModelFamily",
    "SpaceValue",
    "Task",
    "TrainingShape",
    "choose_solver",
    "families_for",
    "get_family",
]
