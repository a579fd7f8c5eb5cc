"""Model search (issue 3): scikit-learn's searchers, Optuna and paqdb's planner on one search space.

Every arm searches the same 24 configurations (logistic regression and a linear SVM over six values of C,
histogram gradient boosting over learning rate x leaf count x L2 penalty) on the same split of the same data,
with BLAS and OpenMP pinned to one thread (``OMP_NUM_THREADS=1`` and friends before numpy loads, and
``threadpoolctl.threadpool_limits(1)`` around every arm):

``GridSearchCV``
    the full grid; its best validation score defines the target, and its wall time the reference.
``RandomizedSearchCV``
    half the grid, drawn without replacement.
``HalvingRandomSearchCV``
    successive halving on the number of training rows (scikit-learn's defaults, factor 3).
``Optuna``
    ``TPESampler(seed=seed)`` with a ``HyperbandPruner`` (min_resource 1, reduction factor 3, max_resource the
    largest number of steps); each trial trains step by step (10 units per step, the unit paqdb's bandit
    uses: iterations for logistic regression and gradient boosting, a refit at 10 more iterations for the
    SVM), reporting its validation accuracy after every step.
``paqdb``
    the planner in three ablations: ``strategy="random"`` (search only: each configuration trained to the
    end), ``strategy="tupaq", batching=False`` (+ bandit) and ``strategy="tupaq", batching=True``
    (+ bandit + batching).

Per dataset and seed: the test set is ``paqdb.datasets.split(table, 0.2, seed=seed, stratify=label)``; the
training part is split into training and validation rows by paqdb itself
(:func:`paqdb.ml.training.prepare_training_data`, 20%, the same seed) and featurised by paqdb's
:class:`~paqdb.ml.features.Featurizer`; the scikit-learn searchers get that split as a ``PredefinedSplit``
over the featurised matrices, and every estimator is built by
:meth:`paqdb.ml.families.ModelFamily.build` so that each arm trains the estimators paqdb trains.

Time to target: the wall time until the best validation accuracy so far is within 0.005 of the grid's best.
The scikit-learn searchers only report when ``fit`` returns, so theirs is the whole ``fit`` (refit
included), or "not reached" when their best validation score misses the target. Optuna and paqdb report as
they go: theirs is the time of the first reported value within the target (any trial, any step, pruned or
stopped or not). paqdb's time includes its own split and featurisation; the others get the matrices
precomputed. Test accuracy is that of each arm's final model, refitted on training plus validation rows
(scikit-learn's ``refit=True``, paqdb's own refit; Optuna's best configuration refitted the same way).

Run: ``python bench/search.py`` (``--datasets adult,mnist,digits --seeds 0,1,2 --arms ...``; ``--quick``
for a tiny smoke run; ``--no-write`` to leave BENCHMARKS.md alone). It prints markdown and rewrites its
section of BENCHMARKS.md.
"""

from __future__ import annotations

import os

for _variable in (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "BLIS_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
):
    os.environ[_variable] = "1"

import argparse  # noqa: E402
import itertools  # noqa: E402
import math  # noqa: E402
import pickle  # noqa: E402
import re  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from collections.abc import Callable, Iterator, Mapping, Sequence  # noqa: E402
from contextlib import contextmanager  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
import pyarrow as pa  # noqa: E402
import pyarrow.compute as pc  # noqa: E402
from sklearn.base import BaseEstimator, TransformerMixin  # noqa: E402
from sklearn.exceptions import ConvergenceWarning, FitFailedWarning  # noqa: E402
from sklearn.experimental import enable_halving_search_cv  # noqa: E402, F401
from sklearn.model_selection import (  # noqa: E402
    GridSearchCV,
    HalvingRandomSearchCV,
    PredefinedSplit,
    RandomizedSearchCV,
)
from sklearn.pipeline import Pipeline  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))

from report import machine_line, write_section  # noqa: E402

from paqdb import datasets  # noqa: E402
from paqdb.ml.families import ModelFamily, get_family  # noqa: E402
from paqdb.ml.features import Featurizer  # noqa: E402
from paqdb.ml.training import TrainingData, prepare_training_data  # noqa: E402
from paqdb.search import search_for  # noqa: E402
from paqdb.search.base import SearchProgress  # noqa: E402
from paqdb.search.spec import Budget, SearchSpec  # noqa: E402

TOLERANCE = 0.005
"""An arm reaches the target when its best validation accuracy is within this of the grid's best."""
STEP = 10
"""Units (iterations) one Optuna step trains: paqdb's TuPAQ round (``DEFAULT_ROUND_RESOURCE``)."""
TEST_FRACTION = 0.2
VALIDATION_FRACTION = 0.2

SearchSpace = dict[str, dict[str, list[Any]]]
"""Family name -> hyperparameter -> candidates."""

FULL_SPACE: SearchSpace = {
    "logistic": {"C": [0.001, 0.01, 0.1, 1, 10, 100]},
    "linear_svm": {"C": [0.001, 0.01, 0.1, 1, 10, 100]},
    "gradient_boosting": {
        "learning_rate": [0.05, 0.1, 0.2],
        "max_leaf_nodes": [15, 63],
        "l2_regularization": [0.0, 1.0],
    },
}
QUICK_SPACE: SearchSpace = {
    "logistic": {"C": [0.1, 1]},
    "linear_svm": {"C": [0.1, 1]},
    "gradient_boosting": {"learning_rate": [0.2], "max_leaf_nodes": [15], "l2_regularization": [0.0, 1.0]},
}

MNIST_SPACE: SearchSpace = {
    family: {**hyperparameters, "max_iter": [100]} for family, hyperparameters in FULL_SPACE.items()
}
"""MNIST's space: the same 24 configurations with every family's ``max_iter`` at 100 (in every arm), because
10-class boosting on 784 pixels up to 500 iterations made the full grid take 18 minutes per seed here."""

DATASET_SPACES: dict[str, SearchSpace] = {"mnist": MNIST_SPACE}
"""Spaces that differ from :data:`FULL_SPACE` for a dataset (the same for every arm of that dataset)."""

DATASETS = ("adult", "mnist", "digits")

ARMS: dict[str, str] = {
    "grid": "GridSearchCV (full grid)",
    "random": "RandomizedSearchCV (half the grid)",
    "halving": "HalvingRandomSearchCV",
    "optuna": "Optuna TPE + Hyperband",
    "paqdb_random": "paqdb: search only (random)",
    "paqdb_bandit": "paqdb: + bandit (tupaq, no batching)",
    "paqdb_batching": "paqdb: + bandit + batching (tupaq)",
}
"""Arm key (``--arms``) -> name in the report, in report order."""

PAQDB_ARMS: dict[str, tuple[str, bool | None]] = {
    "paqdb_random": ("random", None),
    "paqdb_bandit": ("tupaq", False),
    "paqdb_batching": ("tupaq", True),
}


# --------------------------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------------------------


def dataset_label(name: str) -> str:
    """The label column of a registered dataset (``income``, ``label``, ``digit``...)."""
    return datasets.info(name).label


@dataclass
class Prepared:
    """One dataset and seed: the tables, paqdb's split and featurisation, and the matrices the baselines
    read (one-hot and ordinal side by side, every training row, the validation rows as fold 0)."""

    dataset: str
    label: str
    seed: int
    train_table: pa.Table
    test_table: pa.Table
    data: TrainingData
    featurizer: Featurizer
    X: np.ndarray
    y: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    blocks: dict[str, tuple[int, int]]
    masks: dict[str, np.ndarray]
    test_fold: np.ndarray
    prepare_seconds: float

    def split(self) -> PredefinedSplit:
        """The training / validation split as scikit-learn's cross-validator (one fold)."""
        return PredefinedSplit(self.test_fold)

    def block(self, encoding: str, rows: np.ndarray | None = None, test: bool = False) -> np.ndarray:
        """The ``encoding`` columns of the training matrix (``rows`` of it) or of the test matrix."""
        lo, hi = self.blocks[encoding]
        matrix = self.X_test if test else self.X
        part = matrix[:, lo:hi] if rows is None else matrix[rows, lo:hi]
        return np.ascontiguousarray(part)


def prepare(dataset: str, seed: int, table: pa.Table | None = None) -> Prepared:
    """Hold out the test rows, split the rest as paqdb does and featurise every part."""
    label = dataset_label(dataset)
    table = datasets.load(dataset) if table is None else table
    train_table, test_table = datasets.split(table, TEST_FRACTION, seed=seed, stratify=label)
    started = time.perf_counter()
    data = prepare_training_data(
        train_table, label, task=None, validation_fraction=VALIDATION_FRACTION, seed=seed
    )
    featurizer = Featurizer().fit(data.features)
    encodings = ("onehot", "ordinal")
    matrices = [featurizer.transform(data.features, encoding) for encoding in encodings]
    prepare_seconds = time.perf_counter() - started
    blocks: dict[str, tuple[int, int]] = {}
    offset = 0
    for encoding, matrix in zip(encodings, matrices, strict=True):
        blocks[encoding] = (offset, offset + matrix.shape[1])
        offset += matrix.shape[1]
    test_features = test_table.drop_columns([label])
    X_test = np.hstack([featurizer.transform(test_features, encoding) for encoding in encodings])
    assert data.classes is not None, "the benchmark is for classification datasets"
    codes = pc.index_in(test_table.column(label), value_set=data.classes)
    y_test = np.asarray(codes.to_numpy(zero_copy_only=False), np.float64)
    test_fold = np.full(data.n_rows, -1)
    test_fold[data.validation_index] = 0
    return Prepared(
        dataset=dataset,
        label=label,
        seed=seed,
        train_table=train_table,
        test_table=test_table,
        data=data,
        featurizer=featurizer,
        X=np.hstack(matrices),
        y=data.target,
        X_test=X_test,
        y_test=np.nan_to_num(y_test, nan=-1).astype(np.int64),
        blocks=blocks,
        masks={encoding: featurizer.categorical_mask(encoding) for encoding in encodings},
        test_fold=test_fold,
        prepare_seconds=prepare_seconds,
    )


def build(
    prep: Prepared, family: ModelFamily, hyperparameters: Mapping[str, Any], rows: Any
) -> BaseEstimator:
    """``family``'s estimator for ``hyperparameters`` as paqdb builds it for ``rows`` (the training
    indices, or None for every row: the refit)."""
    shape = prep.data.shape(rows, prep.masks[family.encoding])
    return family.build(prep.data.task, dict(hyperparameters), prep.seed, shape)


def configurations(space: SearchSpace) -> list[tuple[str, dict[str, Any]]]:
    """Every (family, hyperparameters) of ``space``, in grid order."""
    out: list[tuple[str, dict[str, Any]]] = []
    for family, hyperparameters in space.items():
        names = list(hyperparameters)
        for values in itertools.product(*(hyperparameters[name] for name in names)):
            out.append((family, dict(zip(names, values, strict=True))))
    return out


# --------------------------------------------------------------------------------------------------------
# Results and the time to target
# --------------------------------------------------------------------------------------------------------


@dataclass
class ArmResult:
    """One arm on one dataset and seed.

    ``trace`` holds ``(seconds since the arm started, best validation accuracy so far)`` each time the arm
    reported; for the scikit-learn searchers a single point, when ``fit`` returned.
    """

    arm: str
    trace: list[tuple[float, float]]
    seconds: float
    best_validation: float
    test_accuracy: float
    details: dict[str, Any] = field(default_factory=dict)

    def time_to_target(self, target: float, tolerance: float = TOLERANCE) -> float | None:
        return first_time_within(self.trace, target, tolerance)


def first_time_within(
    trace: Sequence[tuple[float, float]], target: float, tolerance: float = TOLERANCE
) -> float | None:
    """The first time in ``trace`` (pairs of seconds and validation score, in time order) whose score is
    within ``tolerance`` of ``target`` (or above it); None when none is.

    >>> first_time_within([(1.0, 0.80), (2.0, 0.851), (3.0, 0.86)], 0.855)
    2.0
    >>> first_time_within([(1.0, 0.80)], 0.855) is None
    True
    """
    threshold = target - tolerance - 1e-9
    for seconds, score in trace:
        if score is not None and math.isfinite(score) and score >= threshold:
            return seconds
    return None


def _running_best(points: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    best = -math.inf
    out = []
    for seconds, score in points:
        if math.isfinite(score):
            best = max(best, score)
        out.append((seconds, best))
    return out


def _accuracy(estimator: Any, X: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean(np.asarray(estimator.predict(X)) == y))


@contextmanager
def pinned() -> Iterator[None]:
    """One BLAS / OpenMP thread, and no warnings about iteration caps or failed fits (budget decisions)."""
    with threadpool_limits(limits=1), warnings.catch_warnings():
        for category in (ConvergenceWarning, FitFailedWarning, UserWarning, RuntimeWarning):
            warnings.simplefilter("ignore", category)
        yield


# --------------------------------------------------------------------------------------------------------
# scikit-learn searchers
# --------------------------------------------------------------------------------------------------------


class ColumnBlock(TransformerMixin, BaseEstimator):
    """Selects columns ``start:stop`` (the one-hot or the ordinal block) of the stacked matrix."""

    def __init__(self, start: int = 0, stop: int = 0) -> None:
        self.start = start
        self.stop = stop

    def fit(self, X: np.ndarray, y: Any = None) -> ColumnBlock:
        return self

    def transform(self, X: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(X[:, self.start : self.stop])


def param_grid(prep: Prepared, space: SearchSpace) -> list[dict[str, list[Any]]]:
    """One dict per family: the block it reads and its estimators, one per configuration, built by paqdb's
    builder for the training rows."""
    grid = []
    for name in space:
        family = get_family(name)
        estimators = [
            build(prep, family, hyperparameters, prep.data.train_index)
            for family_name, hyperparameters in configurations(space)
            if family_name == name
        ]
        grid.append({"select": [ColumnBlock(*prep.blocks[family.encoding])], "model": estimators})
    return grid


def _pipeline() -> Pipeline:
    return Pipeline([("select", ColumnBlock()), ("model", "passthrough")])


def _sklearn_arm(arm: str, searcher: Any, prep: Prepared) -> ArmResult:
    with pinned():
        started = time.perf_counter()
        searcher.fit(prep.X, prep.y)
        seconds = time.perf_counter() - started
        test_accuracy = float(searcher.score(prep.X_test, prep.y_test))
    best = float(searcher.best_score_)
    details = {
        "refit_seconds": float(getattr(searcher, "refit_time_", math.nan)),
        "candidates": len(searcher.cv_results_["params"]),
        "best": _describe(searcher.best_params_),
        "cv_results": searcher.cv_results_,
    }
    return ArmResult(arm, [(seconds, best)], seconds, best, test_accuracy, details)


def _describe(params: Mapping[str, Any]) -> str:
    model = params.get("model")
    return type(model).__name__ if model is not None else str(params)


def grid_arm(prep: Prepared, space: SearchSpace) -> ArmResult:
    """GridSearchCV over every configuration."""
    searcher = GridSearchCV(
        _pipeline(), param_grid(prep, space), cv=prep.split(), scoring="accuracy", refit=True
    )
    return _sklearn_arm("grid", searcher, prep)


def random_arm(prep: Prepared, space: SearchSpace) -> ArmResult:
    """RandomizedSearchCV over half the configurations (drawn without replacement: every list is finite)."""
    searcher = RandomizedSearchCV(
        _pipeline(),
        param_grid(prep, space),
        n_iter=len(configurations(space)) // 2,
        cv=prep.split(),
        scoring="accuracy",
        refit=True,
        random_state=prep.seed,
    )
    return _sklearn_arm("random", searcher, prep)


def halving_arm(prep: Prepared, space: SearchSpace) -> ArmResult:
    """HalvingRandomSearchCV: resource n_samples, factor 3, every configuration a candidate, and
    ``min_resources="exhaust"`` so that the last rung trains on (nearly) every training row.

    The default ``min_resources="smallest"`` (2 rows per class) fails here: halving subsamples the validation
    fold too, and a few dozen rows leave it empty; it would also pick the winner from a last rung of a few
    hundred rows."""
    searcher = HalvingRandomSearchCV(
        _pipeline(),
        param_grid(prep, space),
        factor=3,
        resource="n_samples",
        min_resources="exhaust",
        n_candidates=len(configurations(space)),
        cv=prep.split(),
        scoring="accuracy",
        refit=True,
        random_state=prep.seed,
    )
    result = _sklearn_arm("halving", searcher, prep)
    result.details["resources"] = [int(n) for n in searcher.n_resources_]
    return result


# --------------------------------------------------------------------------------------------------------
# Optuna
# --------------------------------------------------------------------------------------------------------


def _step_limit(family: ModelFamily, estimator: BaseEstimator) -> int:
    return max(1, math.ceil(int(estimator.get_params()[family.resource or "max_iter"]) / STEP))


def train_stepwise(
    family: ModelFamily,
    estimator: BaseEstimator,
    train: tuple[np.ndarray, np.ndarray],
    validation: tuple[np.ndarray, np.ndarray],
    report: Callable[[int, float], None],
) -> float:
    """Train ``estimator`` ``STEP`` units at a time, calling ``report(step, validation accuracy)`` after
    each step (it may raise ``optuna.TrialPruned``); the last accuracy.

    Logistic regression continues with ``warm_start`` (``max_iter=STEP`` per call) until an ``fit`` call
    converges (fewer than ``STEP`` iterations) or its ``max_iter`` is spent; gradient boosting adds
    ``STEP`` iterations per call (``warm_start``) until its internal early stopping ends it or its
    ``max_iter`` is reached; the linear SVM (liblinear has no warm start) is refitted with ``STEP`` more
    iterations each step until it converges or reaches its ``max_iter``.
    """
    X, y = train
    X_validation, y_validation = validation
    cap = int(estimator.get_params()["max_iter"])
    score = math.nan
    step = 0
    if family.name == "logistic":
        estimator.set_params(warm_start=True, max_iter=STEP)
        used = 0
        while True:
            estimator.fit(X, y)
            ran = int(np.max(estimator.n_iter_))
            used += ran
            step += 1
            score = _accuracy(estimator, X_validation, y_validation)
            report(step, score)
            if ran < STEP or used >= cap:
                return score
    if family.name == "gradient_boosting":
        estimator.set_params(warm_start=True, max_iter=min(STEP, cap))
        while True:
            estimator.fit(X, y)
            step += 1
            score = _accuracy(estimator, X_validation, y_validation)
            report(step, score)
            total = int(estimator.max_iter)
            if estimator.n_iter_ < total or total >= cap:
                return score
            estimator.set_params(max_iter=min(total + STEP, cap))
    if family.name == "linear_svm":
        while True:
            step += 1
            limit = min(STEP * step, cap)
            estimator.set_params(max_iter=limit)
            estimator.fit(X, y)
            score = _accuracy(estimator, X_validation, y_validation)
            report(step, score)
            if int(np.max(estimator.n_iter_)) < limit or limit >= cap:
                return score
    raise ValueError(f"no stepwise training for family {family.name!r}")


def optuna_arm(prep: Prepared, space: SearchSpace, n_trials: int | None = None) -> ArmResult:
    """Optuna's TPE sampler with a Hyperband pruner, each trial trained and reported step by step."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    n_trials = len(configurations(space)) if n_trials is None else n_trials
    families = {name: get_family(name) for name in space}
    train_rows, validation_rows = prep.data.train_index, prep.data.validation_index
    matrices = {
        encoding: (prep.block(encoding, train_rows), prep.block(encoding, validation_rows))
        for encoding in {family.encoding for family in families.values()}
    }
    y_train, y_validation = prep.y[train_rows], prep.y[validation_rows]
    max_steps = max(_step_limit(family, build(prep, family, {}, train_rows)) for family in families.values())
    points: list[tuple[float, float]] = []
    clock = time.perf_counter

    with pinned():
        started = clock()

        def objective(trial: optuna.Trial) -> float:
            name = trial.suggest_categorical("family", list(space))
            family = families[name]
            hyperparameters = {
                hp: trial.suggest_categorical(hp, candidates) for hp, candidates in space[name].items()
            }
            estimator = build(prep, family, hyperparameters, train_rows)
            train_matrix, validation_matrix = matrices[family.encoding]

            def report(step: int, score: float) -> None:
                points.append((clock() - started, score))
                trial.report(score, step)
                if trial.should_prune():
                    raise optuna.TrialPruned()

            return train_stepwise(
                family, estimator, (train_matrix, y_train), (validation_matrix, y_validation), report
            )

        study = optuna.create_study(
            direction="maximize",
            sampler=optuna.samplers.TPESampler(seed=prep.seed),
            pruner=optuna.pruners.HyperbandPruner(min_resource=1, max_resource=max_steps, reduction_factor=3),
        )
        study.optimize(objective, n_trials=n_trials)
        search_seconds = clock() - started
        complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
        best_trial = (
            max(complete, key=lambda t: t.value)
            if complete
            else max(study.trials, key=lambda t: max(t.intermediate_values.values(), default=-1.0))
        )
        params = dict(best_trial.params)
        family = families[params.pop("family")]
        model = build(prep, family, params, None)
        model.fit(prep.block(family.encoding), prep.y)
        seconds = clock() - started
        test_accuracy = _accuracy(model, prep.block(family.encoding, test=True), prep.y_test)
    trace = _running_best(points)
    pruned = sum(1 for t in study.trials if t.state == optuna.trial.TrialState.PRUNED)
    return ArmResult(
        "optuna",
        trace,
        seconds,
        max((score for _, score in trace), default=math.nan),
        test_accuracy,
        {
            "search_seconds": search_seconds,
            "trials": len(study.trials),
            "pruned": pruned,
            "max_steps": max_steps,
            "steps": len(points),
            "best": f"{family.name} {params}",
        },
    )


# --------------------------------------------------------------------------------------------------------
# paqdb
# --------------------------------------------------------------------------------------------------------


def paqdb_hyperparameters(space: SearchSpace) -> dict[str, list[Any]]:
    """``space`` as ``SearchSpec.hyperparameters``: each family's default space replaced, and every
    hyperparameter of a family's default space that ``space`` leaves out pinned to its default (so paqdb
    searches exactly ``space``). A name shared by families (``C``) must have the same candidates in each."""
    merged: dict[str, list[Any]] = {}
    for name, hyperparameters in space.items():
        family = get_family(name)
        pinned = {hp: [family.defaults[hp]] for hp in family.space if hp not in hyperparameters}
        for hp, candidates in {**pinned, **hyperparameters}.items():
            if hp in merged and merged[hp] != list(candidates):
                raise ValueError(f"hyperparameter {hp!r} has different candidates in different families")
            merged[hp] = list(candidates)
    return merged


def paqdb_spec(space: SearchSpace, strategy: str, batching: bool | None, seed: int) -> SearchSpec:
    """The SearchSpec of a paqdb arm (``batching`` passed only when SearchSpec has the field)."""
    arguments: dict[str, Any] = {
        "families": tuple(space),
        "budget": Budget(trials=len(configurations(space))),
        "strategy": strategy,
        "seed": seed,
        "hyperparameters": paqdb_hyperparameters(space),
    }
    if batching is not None and "batching" in SearchSpec.__dataclass_fields__:
        arguments["batching"] = batching
    return SearchSpec(**arguments)


def paqdb_arm(prep: Prepared, space: SearchSpace, arm: str) -> ArmResult:
    """paqdb's planner on the raw training table (it splits and featurises inside ``run``)."""
    strategy, batching = PAQDB_ARMS[arm]
    spec = paqdb_spec(space, strategy, batching, prep.seed)
    points: list[tuple[float, float]] = []
    clock = time.perf_counter
    with pinned():
        search = search_for(spec)
        started = clock()

        def progress(snapshot: SearchProgress) -> None:
            if snapshot.best_score is not None:
                points.append((clock() - started, float(snapshot.best_score)))

        result = search.run(prep.train_table, prep.label, spec, progress=progress)
        seconds = clock() - started
    predicted, _ = result.model.predict_arrow(prep.test_table)
    truth = prep.test_table.column(prep.label)
    test_accuracy = float(np.mean(pc.equal(predicted, truth.combine_chunks()).to_numpy(zero_copy_only=False)))
    details = {
        "trials": len(result.trials),
        "refit": result.refit,
        "best": f"{result.model.family} {result.model.hyperparameters}",
        "batching": getattr(spec, "batching", None) if strategy == "tupaq" else None,
        "stopped": sum(1 for t in result.trials if t.status == "stopped"),
    }
    return ArmResult(
        arm, _running_best(points), seconds, float(result.validation_score), test_accuracy, details
    )


# --------------------------------------------------------------------------------------------------------
# Running and reporting
# --------------------------------------------------------------------------------------------------------


def run_arm(arm: str, prep: Prepared, space: SearchSpace) -> ArmResult:
    """Run the arm called ``arm`` (a key of :data:`ARMS`) on ``prep``."""
    if arm == "grid":
        return grid_arm(prep, space)
    if arm == "random":
        return random_arm(prep, space)
    if arm == "halving":
        return halving_arm(prep, space)
    if arm == "optuna":
        return optuna_arm(prep, space)
    if arm in PAQDB_ARMS:
        return paqdb_arm(prep, space, arm)
    raise ValueError(f"unknown arm {arm!r}; arms: {', '.join(ARMS)}")


@dataclass
class SeedRun:
    """Every arm on one dataset and seed; the target is the grid's best validation score."""

    prep: Prepared
    results: dict[str, ArmResult]

    @property
    def target(self) -> float:
        return self.results["grid"].best_validation


def run_dataset(
    dataset: str,
    seeds: Sequence[int],
    arms: Sequence[str],
    space: SearchSpace,
    log: Callable[[str], None] = print,
) -> list[SeedRun]:
    """Every arm (the grid first) on ``dataset`` for each seed."""
    table = datasets.load(dataset)
    order = ["grid", *[arm for arm in ARMS if arm in arms and arm != "grid"]]
    runs = []
    for seed in seeds:
        prep = prepare(dataset, seed, table)
        results: dict[str, ArmResult] = {}
        for arm in order:
            result = run_arm(arm, prep, space)
            results[arm] = result
            reached = result.time_to_target(results["grid"].best_validation)
            log(
                f"{dataset} seed {seed} {arm}: {result.seconds:.1f} s total, best validation "
                f"{result.best_validation:.4f}, test {result.test_accuracy:.4f}, to target "
                f"{'not reached' if reached is None else f'{reached:.1f} s'}"
            )
        runs.append(SeedRun(prep, results))
    return runs


_LOG_LINE = re.compile(
    r"^(?P<dataset>\w+) seed (?P<seed>\d+) (?P<arm>\w+): (?P<total>[\d.]+) s total, best validation "
    r"(?P<validation>[\d.]+), test (?P<test>[\d.]+), to target (?P<reached>not reached|[\d.]+ s)$"
)


def runs_from_log(text: str) -> dict[str, list[SeedRun]]:
    """The seeds a progress log (``run_dataset``'s lines) finished with every arm, as :class:`SeedRun`
    with one-point traces: the logged time to target (or the total, when not reached) at the arm's best
    validation score, which gives the same time to target and the same table rows."""
    logged: dict[str, dict[int, dict[str, ArmResult]]] = {}
    for line in text.splitlines():
        match = _LOG_LINE.match(line.strip())
        if match is None:
            continue
        total, validation = float(match["total"]), float(match["validation"])
        reached = match["reached"]
        point = total if reached == "not reached" else float(reached.removesuffix(" s"))
        result = ArmResult(
            match["arm"],
            [(point, validation)],
            total,
            validation,
            float(match["test"]),
            {"refit_seconds": math.nan},
        )
        logged.setdefault(match["dataset"], {}).setdefault(int(match["seed"]), {})[match["arm"]] = result
    runs: dict[str, list[SeedRun]] = {}
    for dataset, seeds in logged.items():
        table = datasets.load(dataset)
        finished = [
            SeedRun(prepare(dataset, seed, table), results)
            for seed, results in sorted(seeds.items())
            if set(results) == set(ARMS)
        ]
        if finished:
            runs[dataset] = finished
    return runs


def _refit_seconds(runs: Sequence[SeedRun]) -> str:
    seconds = [run.results["grid"].details.get("refit_seconds", math.nan) for run in runs]
    known = [value for value in seconds if not math.isnan(value)]
    return f"{_median(known):.1f} s" if known else "not logged"


def _median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def _seconds(value: float | None) -> str:
    return "not reached" if value is None or math.isinf(value) else f"{value:.1f}"


def render_dataset(dataset: str, runs: Sequence[SeedRun]) -> str:
    """The markdown section of one dataset."""
    first = runs[0].prep
    targets = [run.target for run in runs]
    grid_tests = [run.results["grid"].test_accuracy for run in runs]
    prepare_seconds = [run.prep.prepare_seconds for run in runs]
    lines = [
        f"### {dataset}",
        "",
        f"{first.data.n_rows + first.test_table.num_rows:,} rows: {len(first.data.train_index):,} training, "
        f"{len(first.data.validation_index):,} validation, {first.test_table.num_rows:,} test; "
        f"{first.blocks['onehot'][1]} one-hot and "
        f"{first.blocks['ordinal'][1] - first.blocks['ordinal'][0]} ordinal columns. "
        f"Grid's best validation accuracy (median over seeds) {_median(targets):.4f} "
        f"(per seed {', '.join(f'{t:.4f}' for t in targets)}), its test accuracy {_median(grid_tests):.4f}; "
        f"target = grid best - {TOLERANCE}. GridSearchCV's time includes its refit "
        f"({_refit_seconds(runs)}); paqdb's split "
        f"and featurisation, inside its arms' times, take {_median(prepare_seconds):.2f} s.",
        "",
        "| arm | time to target (median, s) | Grid time / arm time | total time (median, s) | "
        "best validation (median) | final test accuracy (median) | per-seed times to target (s) |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for arm, title in ARMS.items():
        if any(arm not in run.results for run in runs):
            continue
        times, ratios = [], []
        for run in runs:
            reached = run.results[arm].time_to_target(run.target)
            grid_time = run.results["grid"].time_to_target(run.target)
            times.append(math.inf if reached is None else reached)
            ratios.append(0.0 if reached is None or grid_time is None else grid_time / max(reached, 1e-9))
        median_time = _median(times)
        ratio = "n/a" if math.isinf(median_time) else f"{_median(ratios):.2f}x"
        results = [run.results[arm] for run in runs]
        lines.append(
            f"| {title} | {_seconds(median_time)} | {ratio} | {_median([r.seconds for r in results]):.1f} | "
            f"{_median([r.best_validation for r in results]):.4f} | "
            f"{_median([r.test_accuracy for r in results]):.4f} | "
            f"{', '.join(_seconds(t) for t in times)} |"
        )
    return "\n".join(lines)


_GB = FULL_SPACE["gradient_boosting"]
RULES = f"""\
Every arm searches the same 24 configurations: `logistic` and `linear_svm` over C in
{FULL_SPACE["logistic"]["C"]}, `gradient_boosting` over learning_rate {_GB["learning_rate"]} x
max_leaf_nodes {_GB["max_leaf_nodes"]} x l2_regularization {_GB["l2_regularization"]} (its other
hyperparameters at paqdb's defaults, pinned in paqdb's spec), each estimator built by paqdb's family
builders (so gradient boosting stops itself internally, at most 500 iterations). Per seed, 20% of the
rows are held out for test (`paqdb.datasets.split`, stratified); paqdb splits the rest 80/20 into
training and validation rows and the baselines get that very split (`PredefinedSplit`) over paqdb's
featurised matrices (one-hot for the linear families, ordinal codes for boosting). BLAS and OpenMP run on
one thread in every arm. Time to target is the wall time until the best validation accuracy so far is
within {TOLERANCE} of the grid's best. scikit-learn's searchers only give results when `fit` returns, so
theirs is the whole `fit` (the refit on training plus validation rows included), or "not reached" when
their best validation score misses the target. Optuna (TPE sampler, Hyperband pruner; trials train {STEP}
iterations per step and report the validation accuracy after each) and paqdb (its progress callback)
report as they go: theirs is the first reported value within the target, from any trial at any step,
pruned or stopped or not. paqdb's progress callback fires after each trial (random), and after each
allocation round and at each new best score (tupaq). MNIST's space is the same with `max_iter` 100 for
every family in every arm (boosting up to 500 iterations on 784 pixels and 10 classes made one seed's
grid take 18 minutes). paqdb's times include its own split and featurisation
of the raw table (the time given under each dataset); the baselines are handed the matrices precomputed,
which favours them. Final test accuracy is that of the model each arm ends with, refitted on training
plus validation rows (scikit-learn's `refit=True`, paqdb's own refit, Optuna's best configuration
refitted the same way). The ratio is the median over seeds of grid time / arm time (0 for a seed that
missed); a median time "not reached" means most seeds missed."""


def render(all_runs: Mapping[str, Sequence[SeedRun]], command: str) -> str:
    """The whole markdown section."""
    parts = [machine_line(), "", f"Command: `{command}`", "", RULES]
    for dataset, runs in all_runs.items():
        parts += ["", render_dataset(dataset, runs)]
    return "\n".join(parts) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--datasets", default=",".join(DATASETS))
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--arms", default=",".join(ARMS), help=f"comma list of: {', '.join(ARMS)}")
    parser.add_argument("--quick", action="store_true", help="tiny smoke run: digits, one seed, 6 configs")
    parser.add_argument("--no-write", action="store_true", help="leave BENCHMARKS.md alone")
    parser.add_argument("--dump", help="also pickle the runs to this file (to merge runs made in parallel)")
    parser.add_argument(
        "--merge", help="comma list of files written by --dump: render them together instead of running"
    )
    parser.add_argument(
        "--from-log",
        help="comma list of progress logs (this script's stderr): rebuild their finished seeds and render "
        "them with --merge's files (for a run stopped before its dump; the grid's refit time is not logged)",
    )
    args = parser.parse_args(argv)
    arms = [arm.strip() for arm in args.arms.split(",") if arm.strip()]
    unknown = [arm for arm in arms if arm not in ARMS]
    if unknown:
        parser.error(f"unknown arms {unknown}; arms: {', '.join(ARMS)}")
    if args.quick:
        names, seeds, space = ["digits"], [0], QUICK_SPACE
    else:
        names = [name.strip() for name in args.datasets.split(",") if name.strip()]
        seeds = [int(seed) for seed in args.seeds.split(",") if seed.strip()]
        space = FULL_SPACE
    if args.merge or args.from_log:
        all_runs: dict[str, list[SeedRun]] = {}
        for path in args.merge.split(",") if args.merge else []:
            with open(path, "rb") as dumped:
                for name, runs in pickle.load(dumped).items():
                    all_runs.setdefault(name, []).extend(runs)
        for path in args.from_log.split(",") if args.from_log else []:
            for name, runs in runs_from_log(Path(path).read_text()).items():
                all_runs.setdefault(name, []).extend(runs)
        for runs in all_runs.values():
            runs.sort(key=lambda run: run.prep.seed)
    else:
        all_runs = {
            name: run_dataset(
                name,
                seeds,
                arms,
                DATASET_SPACES.get(name, space) if not args.quick else space,
                log=lambda line: print(line, file=sys.stderr, flush=True),
            )
            for name in names
        }
    if args.dump:
        with open(args.dump, "wb") as dump:
            pickle.dump(all_runs, dump)
    command = "python bench/search.py " + " ".join(sys.argv[1:] if argv is None else argv)
    body = render(all_runs, command.strip())
    print(body)
    if not args.no_write and not args.quick:
        write_section("Model search (issue 3)", body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
