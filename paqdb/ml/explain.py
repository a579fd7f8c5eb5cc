"""Explanations of a trained model: global feature importance, and per-row contributions.

Both speak of the model's *input columns* (``age``, ``occupation``), never of the featurised slots a column
becomes (``occupation=Sales``, ``age__missing``): a column's slots are summed.

Global importance
    :func:`permutation_importance` (Breiman 2001; scikit-learn's ``permutation_importance`` does the same
    on a matrix): the model's validation metric, then the metric again with one input column's values
    shuffled among the rows, a few times with a seeded generator. The importance of the column is the mean
    drop in quality (in the metric's units: for ``accuracy`` 0.05 is five points lost; for ``rmse`` it is
    how much the error grows), its deviation over the repeats beside it. Shuffling a column's values among
    rows is shuffling the rows of its block of the featurised matrix, so the matrix is built once and each
    column costs ``repeats`` predictions of the sampled rows, stacked into one call. A search computes it
    at the end, for the configuration it keeps as trained on the training rows, on (at most
    :data:`IMPORTANCE_ROWS` of) the validation rows: rows that model never saw (the stored model is then
    refitted on every row, so scoring it on the validation rows would flatter every column).

Per-row contributions
    :class:`ModelExplainer` gives, for each row, a ``base_value`` and one contribution per input column
    that add up to the model's *raw output* for the row (exactly, up to floating point):

    * regression: the prediction;
    * binary classification: the logit (log-odds, decision function) of the positive class (the second in
      the model's class order) for linear models and gradient boosting, its probability for a random
      forest (a forest averages the trees' class fractions: it has no logit);
    * multiclass: the same score of the predicted class (the model's decision function row, boosting's
      raw score, the forest's probability of that class).

    Linear models (``logistic``, ``linear_svm``, ``ridge``) are explained exactly: the contribution of a
    featurised slot is ``weight * (x - reference)``, with the reference the slot's mean over the training
    rows (stored with the model: :func:`reference_means`; a model trained before that has none and uses
    a reference of zeros, i.e. the standardised mean of a number and "no category" of a string); the
    base value is the output at the reference. With a ``pca`` step, the weights are carried back through
    the (linear) projection, whose own mean is the reference.

    Trees (``random_forest``, ``gradient_boosting``) are explained by the path-based method of Saabas
    (``treeinterpreter``): each node's expected output is the count-weighted mean of its leaves; following
    a row from the root to its leaf, every split adds the change of expectation to the column it tests;
    the base value is the root's expectation (plus boosting's baseline). It is exact in the sense above
    (base plus contributions is the tree's output), computed for whole batches with NumPy and SciPy sparse
    products over precomputed root-to-leaf tables, and it reads gradient boosting's native categorical
    splits as scikit-learn does (the leaf is found by scikit-learn's own predictor). It is not the
    Shapley value (TreeSHAP): the credit a column gets can depend on where in the trees it is split.
    ``shap``'s TreeExplainer was not adopted: it misreads HistGradientBoosting's categorical splits
    (shap issue 3436), which paqdb's boosting uses by default, and it brings numba and LLVM into the
    install.

    ``mlp`` and ``kernel_approximation`` are refused (:data:`EXPLAINABLE_FAMILIES`).

Nothing here imports scikit-learn at module level.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from paqdb.errors import NotSupportedError
from paqdb.ml.families import SINGLE_THREAD_ROWS
from paqdb.ml.features import Encoding, Featurizer
from paqdb.ml.metrics import Metric
from paqdb.ml.model import TrainedModel, class_probabilities

if TYPE_CHECKING:
    from scipy.sparse import csr_matrix
    from sklearn.base import BaseEstimator

IMPORTANCE_ROWS = 2000
"""Most validation rows permutation importance scores (a seeded sample of them when there are more)."""

IMPORTANCE_MIN_ROWS = 250
"""Fewest rows a time limit (``max_seconds``) leaves permutation importance to score."""

IMPORTANCE_SHARE = 0.05
"""Share of a search's time limit its permutation importance aims to stay within (at least
:data:`IMPORTANCE_MIN_SECONDS`)."""

IMPORTANCE_MIN_SECONDS = 0.25

IMPORTANCE_REPEATS = 5
"""Shuffles per input column; the importance is their mean drop, ``importance_std`` their deviation."""

IMPORTANCE_STACK_BYTES = 64 * 1024**2
"""Largest stacked matrix of shuffled copies scored in one prediction call."""

IMPORTANCE_KEY = "feature_importance"
"""The key of a model's ``info`` (its artifact's manifest) holding the importance."""

REFERENCE_KEY = "featurized_means"
"""The key of a model's ``info`` holding a linear model's reference: the training mean of each slot."""

LINEAR_FAMILIES = ("logistic", "linear_svm", "ridge")
TREE_FAMILIES = ("random_forest", "gradient_boosting")
EXPLAINABLE_FAMILIES = LINEAR_FAMILIES + TREE_FAMILIES
"""Families whose rows ``PREDICT ... WITH (explain => true)`` explains."""

LINEAR_METHOD = "exact linear (weight x (value - training mean) per one-hot or scaled slot)"
TREE_METHOD = "path-based (Saabas): changes of expected output along each tree's decision path"


def explain_method(family: str) -> str:
    """How rows of a ``family`` model are explained (for EXPLAIN); raises for a family that is not
    explained (see :func:`require_explainable`)."""
    require_explainable(family)
    return LINEAR_METHOD if family in LINEAR_FAMILIES else TREE_METHOD


def require_explainable(family: str) -> None:
    """Raise :class:`~paqdb.errors.NotSupportedError` unless rows of ``family`` models can be explained."""
    if family not in EXPLAINABLE_FAMILIES:
        raise NotSupportedError(
            f"per-row contributions are not supported for '{family}' models",
            hint=f"explain => true works for {', '.join(EXPLAINABLE_FAMILIES)}; train one of those "
            "(USING SEARCH (families => [...])), or read the model's global importance with "
            "DESCRIBE MODEL m FEATURES",
        )


def column_spans(featurizer: Featurizer, encoding: Encoding) -> list[tuple[int, int]]:
    """For each input column, the ``[start, stop)`` of its slots in the featurised matrix."""
    spans = []
    offset = 0
    for state in featurizer.columns_:
        width = state.width(encoding)
        spans.append((offset, offset + width))
        offset += width
    return spans


def slot_owners(featurizer: Featurizer, encoding: Encoding) -> np.ndarray:
    """The input column (its position) each featurised slot comes from."""
    spans = column_spans(featurizer, encoding)
    return np.repeat(np.arange(len(spans)), [stop - start for start, stop in spans])


# -- global importance -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportanceProblem:
    """What scoring the validation rows needs: the estimator, how to reach its matrix, and the metric.

    Attributes
    ----------
    estimator : BaseEstimator
        Fitted on the featurised (and, with ``reducer``, projected) training rows.
    featurizer : Featurizer
    encoding : {"onehot", "ordinal"}
    metric : Metric
    task : {"classification", "regression"}
    n_classes : int
        Classes of the label (classification); 0 for regression.
    positive_class : int
        Code of the positive class (binary metrics).
    reducer : object, optional
        A fitted projection (PCA) applied to the featurised matrix before the estimator.
    """

    estimator: BaseEstimator
    featurizer: Featurizer
    encoding: Encoding
    metric: Metric
    task: str
    n_classes: int = 0
    positive_class: int = 1
    reducer: Any = None

    def outputs(self, matrix: np.ndarray) -> np.ndarray:
        """Class probabilities (classification) or predictions (regression) of featurised rows."""
        if self.reducer is not None:
            matrix = self.reducer.transform(matrix)
        if self.task == "classification":
            return class_probabilities(self.estimator, matrix, self.n_classes)
        return np.asarray(self.estimator.predict(matrix), np.float64)

    def score(self, target: np.ndarray, outputs: np.ndarray) -> float:
        """The metric of ``outputs`` (from :meth:`outputs`) against ``target``."""
        if self.task == "classification":
            return self.metric.score(target, outputs.argmax(axis=1), outputs, self.positive_class)
        return self.metric.score(target, outputs)


def permutation_importance(
    problem: ImportanceProblem,
    features: pa.Table,
    target: np.ndarray,
    *,
    seed: int = 0,
    repeats: int = IMPORTANCE_REPEATS,
    max_rows: int = IMPORTANCE_ROWS,
    max_seconds: float | None = None,
    clock: Callable[[], float] = time.perf_counter,
) -> dict[str, Any] | None:
    """Permutation importance of each input column of ``features`` (validation rows) against ``target``.

    Args:
        problem: the fitted estimator, its featurizer and the metric.
        features: the validation rows' feature columns (in the featurizer's order, read by name).
        target: their label (class codes, or values).
        seed: seeds the row sample and the shuffles.
        repeats: shuffles per column.
        max_rows: rows scored at most (a seeded sample of ``features`` when it has more).
        max_seconds: a time to keep within: when scoring the rows once, times the shuffles to come,
            would take longer, fewer rows are scored (at least :data:`IMPORTANCE_MIN_ROWS`).
        clock: times the computation (``seconds`` in the result).

    Returns:
        ``{"metric", "baseline", "rows", "repeats", "seed", "seconds", "features": [{"feature",
        "importance", "importance_std"}, ...]}`` in input column order, or None when the metric is
        undefined on these rows (a single class, say). A column with no slots (entirely NULL in
        training) has importance 0.
    """
    started = clock()
    rng = np.random.default_rng(seed)
    n_rows = features.num_rows
    if n_rows == 0:
        return None
    if n_rows > max_rows:
        chosen = np.sort(rng.choice(n_rows, size=max_rows, replace=False))
        features = features.take(pa.array(chosen))
        target = target[chosen]
        n_rows = max_rows
    matrix = problem.featurizer.transform(features, problem.encoding)
    spans = column_spans(problem.featurizer, problem.encoding)
    scoring_started = clock()
    baseline = problem.score(target, problem.outputs(matrix))
    expected = (clock() - scoring_started) * repeats * sum(1 for start, stop in spans if stop > start)
    if max_seconds is not None and expected > max_seconds and n_rows > IMPORTANCE_MIN_ROWS:
        # Scoring time grows with the rows: keep the share of them that fits.
        keep = max(IMPORTANCE_MIN_ROWS, int(n_rows * max_seconds / expected))
        chosen = np.sort(rng.choice(n_rows, size=keep, replace=False))
        matrix, target, n_rows = matrix[chosen], target[chosen], keep
        baseline = problem.score(target, problem.outputs(matrix))
    if not np.isfinite(baseline):
        return None
    sign = 1.0 if problem.metric.greater_is_better else -1.0
    per_call = max(1, min(repeats, IMPORTANCE_STACK_BYTES // max(1, matrix.nbytes)))
    results = []
    for state, (start, stop) in zip(problem.featurizer.columns_, spans, strict=True):
        drops: list[float] = []
        if stop > start:
            done = 0
            while done < repeats:
                count = min(per_call, repeats - done)
                stacked = np.tile(matrix, (count, 1))
                for r in range(count):
                    order = rng.permutation(n_rows)
                    stacked[r * n_rows : (r + 1) * n_rows, start:stop] = matrix[order, start:stop]
                outputs = problem.outputs(stacked)
                for r in range(count):
                    shuffled = problem.score(target, outputs[r * n_rows : (r + 1) * n_rows])
                    if np.isfinite(shuffled):
                        drops.append(sign * (baseline - shuffled))
                done += count
        values = np.asarray(drops if drops else [0.0])
        results.append(
            {
                "feature": state.name,
                "importance": float(values.mean()),
                "importance_std": float(values.std()),
            }
        )
    return {
        "method": "permutation",
        "metric": problem.metric.name,
        "baseline": float(baseline),
        "rows": int(n_rows),
        "repeats": int(repeats),
        "seed": int(seed),
        "seconds": round(clock() - started, 4),
        "features": results,
    }


def reference_means(family: str, matrix: np.ndarray) -> list[float] | None:
    """A linear model's reference for its contributions: each slot's mean over ``matrix`` (the one-hot
    training matrix); None for other families, which need none."""
    if family not in LINEAR_FAMILIES or matrix.shape[0] == 0:
        return None
    return [float(v) for v in np.asarray(matrix.mean(axis=0), np.float64)]


@dataclass(frozen=True)
class ImportanceRow:
    """One input column's stored importance (``DESCRIBE MODEL m FEATURES``)."""

    feature: str
    kind: str
    arrow_type: str
    importance: float | None
    importance_std: float | None
    rank: int | None


def importance_rows(model: TrainedModel) -> tuple[list[ImportanceRow], dict[str, Any] | None]:
    """The model's input columns with their stored importance, most important first (input order when
    none is stored), and the stored facts (metric, rows, repeats; None when there are none)."""
    stored = model.info.get(IMPORTANCE_KEY)
    by_name: dict[str, dict[str, Any]] = {}
    if isinstance(stored, dict) and isinstance(stored.get("features"), list):
        by_name = {str(e.get("feature")): e for e in stored["features"] if isinstance(e, dict)}
    else:
        stored = None
    rows = []
    for spec in model.features:
        entry = by_name.get(spec.name)
        importance = _finite(entry.get("importance")) if entry else None
        deviation = _finite(entry.get("importance_std")) if entry else None
        rows.append(ImportanceRow(spec.name, spec.kind, spec.arrow_type, importance, deviation, None))
    if stored is None:
        return rows, None
    ranked = sorted(
        range(len(rows)),
        key=lambda i: (rows[i].importance is None, -(rows[i].importance or 0.0), i),
    )
    result = []
    for rank, index in enumerate(ranked, start=1):
        row = rows[index]
        result.append(
            ImportanceRow(
                row.feature,
                row.kind,
                row.arrow_type,
                row.importance,
                row.importance_std,
                rank if row.importance is not None else None,
            )
        )
    return result, stored


def _finite(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not np.isfinite(value):
        return None
    return float(value)


# -- per-row contributions ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class RowExplanations:
    """Contributions of a batch of rows.

    Attributes
    ----------
    base_value : numpy.ndarray of shape (rows,)
    contributions : numpy.ndarray of shape (rows, input columns)
        In the model's input column order (:attr:`ModelExplainer.feature_names`).
    explained_class : numpy.ndarray of int or None
        Classification: the class code whose score is explained (the positive class of a binary model,
        the predicted class otherwise); None for regression.
    """

    base_value: np.ndarray
    contributions: np.ndarray
    explained_class: np.ndarray | None


class _OutputExplainer:
    """Base values (outputs,) and contributions (rows, inputs, outputs) of a featurised matrix, and the
    class code of each output column (classification)."""

    method: str
    output_classes: np.ndarray | None
    positive_only: bool = False  # a forest's two probability columns: only the second is explained

    def explain(self, matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError


class _LinearExplainer(_OutputExplainer):
    method = LINEAR_METHOD

    def __init__(self, model: TrainedModel, owners: np.ndarray, n_inputs: int) -> None:
        from sklearn.pipeline import Pipeline

        estimator = model.estimator
        width = len(owners)
        if isinstance(estimator, Pipeline):
            # PCA then a linear model: z = (x - mean) @ components.T, output = z @ coef.T + intercept, so
            # the weights of x are components.T @ coef.T and the projection's mean is the reference.
            reducer, linear = estimator.steps[0][1], estimator.steps[-1][1]
            coef = np.atleast_2d(np.asarray(linear.coef_, np.float64))
            weights = np.asarray(reducer.components_, np.float64).T @ coef.T
            reference = np.asarray(reducer.mean_, np.float64)
        else:
            linear = estimator
            coef = np.atleast_2d(np.asarray(linear.coef_, np.float64))
            weights = coef.T
            stored = model.info.get(REFERENCE_KEY)
            reference = (
                np.asarray(stored, np.float64)
                if isinstance(stored, list) and len(stored) == width
                else np.zeros(width)
            )
        intercept = np.atleast_1d(np.asarray(linear.intercept_, np.float64))
        if isinstance(estimator, Pipeline):
            intercept = intercept - reference @ weights  # output = x @ weights + this
        self.weights = weights  # (slots, outputs)
        self.reference = reference
        self.base = intercept + reference @ weights
        # (slots, inputs): sums a row's slot contributions into its input columns.
        self.owner_matrix = np.zeros((width, n_inputs))
        self.owner_matrix[np.arange(width), owners] = 1.0
        self.output_classes = np.asarray(linear.classes_) if model.task == "classification" else None
        if self.output_classes is not None and len(self.output_classes) == 2:
            self.output_classes = self.output_classes[1:]  # one logit: of the second class

    def explain(self, matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        centred = matrix - self.reference
        outputs = self.weights.shape[1]
        contributions = np.empty((matrix.shape[0], self.owner_matrix.shape[1], outputs))
        for k in range(outputs):
            contributions[:, :, k] = (centred * self.weights[:, k]) @ self.owner_matrix
        return np.broadcast_to(self.base, (matrix.shape[0], outputs)), contributions


@dataclass
class _TreeTables:
    """Every tree's root-to-leaf contributions, stacked: row ``offset[t] + leaf`` of ``paths`` holds the
    contributions (inputs x outputs, flattened input-major) of tree ``t``'s leaf, already weighted."""

    paths: csr_matrix
    offsets: np.ndarray
    base: np.ndarray


def _path_table(
    left: np.ndarray,
    right: np.ndarray,
    is_leaf: np.ndarray,
    tested_input: np.ndarray,
    expectation: np.ndarray,
    output_columns: np.ndarray,
    n_inputs: int,
    n_outputs: int,
    weight: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One tree's leaf contributions as COO triplets (node, column, value).

    ``expectation`` is (nodes, k): each node's expected output for the tree's ``k`` output columns
    (``output_columns``); ``tested_input`` the input column a split node tests.
    """
    n_nodes = len(left)
    parent = np.full(n_nodes, -1)
    split = np.flatnonzero(~is_leaf)
    parent[left[split]] = split
    parent[right[split]] = split
    depth = np.zeros(n_nodes, dtype=np.int64)
    levels = []
    frontier = np.array([0])
    while frontier.size:
        levels.append(frontier)
        inner = frontier[~is_leaf[frontier]]
        frontier = np.concatenate([left[inner], right[inner]]) if inner.size else np.array([], int)
    max_depth = max(1, len(levels) - 1)
    tested = np.zeros((n_nodes, max_depth), dtype=np.int64)
    delta = np.zeros((n_nodes, max_depth, expectation.shape[1]))
    for d, nodes in enumerate(levels[1:], start=1):
        up = parent[nodes]
        depth[nodes] = d
        tested[nodes] = tested[up]
        delta[nodes] = delta[up]
        tested[nodes, d - 1] = tested_input[up]
        delta[nodes, d - 1] = expectation[nodes] - expectation[up]
    leaves = np.flatnonzero(is_leaf)
    steps = np.arange(max_depth)[None, :] < depth[leaves][:, None]  # (leaves, max_depth)
    leaf_of, step_of = np.nonzero(steps)
    k = expectation.shape[1]
    rows = np.repeat(leaves[leaf_of], k)
    columns = (tested[leaves[leaf_of], step_of][:, None] * n_outputs + output_columns[None, :]).reshape(-1)
    values = (delta[leaves[leaf_of], step_of] * weight).reshape(-1)
    return rows, columns, values


class _TreeExplainer(_OutputExplainer):
    method = TREE_METHOD

    def __init__(self, model: TrainedModel, owners: np.ndarray, n_inputs: int) -> None:
        from scipy.sparse import coo_matrix

        estimator = model.estimator
        self.estimator = estimator
        self.is_forest = model.family == "random_forest"
        triplets: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        offsets: list[int] = []
        total = 0
        if self.is_forest:
            trees = [tree.tree_ for tree in estimator.estimators_]
            n_outputs = trees[0].value.shape[2] if model.task == "classification" else 1
            columns = np.arange(n_outputs)
            base = np.zeros(n_outputs)
            weight = 1.0 / len(trees)
            for tree in trees:
                values = np.asarray(tree.value[:, 0, :n_outputs], np.float64)
                is_leaf = tree.children_left < 0
                tested = (
                    owners[np.where(is_leaf, 0, tree.feature)] if len(owners) else np.zeros(len(is_leaf), int)
                )
                triplets.append(
                    _path_table(
                        tree.children_left,
                        tree.children_right,
                        is_leaf,
                        tested,
                        values,
                        columns,
                        n_inputs,
                        n_outputs,
                        weight,
                    )
                )
                base += weight * values[0]
                offsets.append(total)
                total += tree.node_count
            self.output_classes = np.asarray(estimator.classes_) if model.task == "classification" else None
            if self.output_classes is not None and n_outputs == 2:
                self.positive_only = True
        else:
            n_outputs = int(estimator.n_trees_per_iteration_)
            base = np.asarray(estimator._baseline_prediction, np.float64).reshape(-1).copy()
            self.predictors = []
            for iteration in estimator._predictors:
                for k, predictor in enumerate(iteration):
                    nodes = predictor.nodes
                    is_leaf = nodes["is_leaf"].astype(bool)
                    expectation = _boosting_expectations(nodes, is_leaf)
                    tested = owners[np.where(is_leaf, 0, nodes["feature_idx"])]
                    triplets.append(
                        _path_table(
                            nodes["left"].astype(np.int64),
                            nodes["right"].astype(np.int64),
                            is_leaf,
                            tested,
                            expectation[:, None],
                            np.array([k]),
                            n_inputs,
                            n_outputs,
                            1.0,
                        )
                    )
                    base[k] += expectation[0]
                    offsets.append(total)
                    total += len(nodes)
                    self.predictors.append(_leaf_finder(predictor))
            classes = np.asarray(estimator.classes_) if model.task == "classification" else None
            self.output_classes = classes[1:] if classes is not None and n_outputs == 1 else classes
        rows = np.concatenate([r + offset for (r, _, _), offset in zip(triplets, offsets, strict=True)])
        cols = np.concatenate([c for _, c, _ in triplets])
        vals = np.concatenate([v for _, _, v in triplets])
        paths = coo_matrix((vals, (rows, cols)), shape=(total, n_inputs * n_outputs)).tocsr()
        self.tables = _TreeTables(paths, np.asarray(offsets), base)
        self.n_inputs, self.n_outputs = n_inputs, n_outputs

    def _leaves(self, matrix: np.ndarray) -> np.ndarray:
        """(rows, trees): the leaf each row reaches in each tree, as the estimator finds it."""
        if self.is_forest:
            return np.asarray(self.estimator.apply(matrix), np.int64)
        from sklearn.utils._openmp_helpers import _openmp_effective_n_threads

        estimator = self.estimator
        prepared = estimator._preprocess_X(matrix, reset=False)
        known, index_map = estimator._bin_mapper.make_known_categories_bitsets()
        # One thread for the small batches scoring hands over (a 2,048-row vector): OpenMP's barriers cost
        # more than they save there, and far more on a busy machine (see families.SINGLE_THREAD_ROWS).
        threads = 1 if matrix.shape[0] < SINGLE_THREAD_ROWS else _openmp_effective_n_threads(None)
        leaves = np.empty((matrix.shape[0], len(self.predictors)), np.int64)
        for t, finder in enumerate(self.predictors):
            leaves[:, t] = finder.predict(prepared, known, index_map, threads).astype(np.int64)
        return leaves

    def explain(self, matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        from scipy.sparse import csr_matrix

        n_rows = matrix.shape[0]
        leaves = self._leaves(matrix) + self.tables.offsets[None, :]
        trees = leaves.shape[1]
        indicator = csr_matrix(
            (np.ones(n_rows * trees), leaves.reshape(-1), np.arange(0, n_rows * trees + 1, trees)),
            shape=(n_rows, self.tables.paths.shape[0]),
        )
        contributions = np.asarray((indicator @ self.tables.paths).todense())
        contributions = contributions.reshape(n_rows, self.n_inputs, self.n_outputs)
        return np.broadcast_to(self.tables.base, (n_rows, self.n_outputs)), contributions


def _leaf_finder(predictor: Any) -> Any:
    """A copy of a boosting tree's predictor whose "prediction" is the index of the leaf a row reaches:
    scikit-learn's own traversal (numeric thresholds, missing values, categorical bitsets), with each
    node's value replaced by its index."""
    from sklearn.ensemble._hist_gradient_boosting.predictor import TreePredictor

    nodes = predictor.nodes.copy()
    nodes["value"] = np.arange(len(nodes))
    return TreePredictor(nodes, predictor.binned_left_cat_bitsets, predictor.raw_left_cat_bitsets)


def _boosting_expectations(nodes: np.ndarray, is_leaf: np.ndarray) -> np.ndarray:
    """Each node's expected raw value: its leaves' values weighted by their training counts."""
    expectation = np.asarray(nodes["value"], np.float64).copy()
    count = np.asarray(nodes["count"], np.float64)
    for node in np.argsort(-np.asarray(nodes["depth"], np.int64), kind="stable"):
        if is_leaf[node]:
            continue
        left, right = int(nodes["left"][node]), int(nodes["right"][node])
        total = count[left] + count[right]
        if total > 0:
            expectation[node] = (count[left] * expectation[left] + count[right] * expectation[right]) / total
        else:
            expectation[node] = 0.5 * (expectation[left] + expectation[right])
    return expectation


class ModelExplainer:
    """Per-row contributions of a :class:`~paqdb.ml.model.TrainedModel` (see the module's docstring).

    Built once per model (:func:`explainer_for` caches it): a tree model's root-to-leaf tables are
    computed here, so each batch costs one pass to find the leaves and one sparse product.

    Raises :class:`~paqdb.errors.NotSupportedError` for a family not in :data:`EXPLAINABLE_FAMILIES`.
    """

    def __init__(self, model: TrainedModel) -> None:
        require_explainable(model.family)
        self.model = model
        self.feature_names = model.feature_names
        owners = slot_owners(model.featurizer, model.encoding)
        n_inputs = len(self.feature_names)
        self._explainer: _OutputExplainer = (
            _LinearExplainer(model, owners, n_inputs)
            if model.family in LINEAR_FAMILIES
            else _TreeExplainer(model, owners, n_inputs)
        )
        self.method = self._explainer.method

    def explain(self, columns: Sequence[pa.Array | pa.ChunkedArray] | pa.Table) -> RowExplanations:
        """Base values and contributions of each row of ``columns`` (the model's feature columns)."""
        matrix = self.model.featurize(columns)
        return self.explain_matrix(matrix)

    def explain_matrix(self, matrix: np.ndarray) -> RowExplanations:
        """:meth:`explain` of an already featurised matrix."""
        n_rows = matrix.shape[0]
        base, contributions = self._explainer.explain(matrix)
        classes = self._explainer.output_classes
        if self.model.task != "classification" or classes is None:
            return RowExplanations(np.array(base[:, 0]), contributions[:, :, 0], None)
        if self._explainer.positive_only:
            # A forest's two probability columns: the positive class's.
            base, contributions, classes = base[:, 1:], contributions[:, :, 1:], classes[1:]
        if len(classes) == 1:
            codes = np.full(n_rows, int(classes[0]))
            return RowExplanations(np.array(base[:, 0]), contributions[:, :, 0], codes)
        # The class PREDICT predicts (the model's own argmax: summed contributions could break a tie
        # between two classes the other way).
        predicted = self.model.predict_probabilities(matrix).argmax(axis=1)
        chosen = np.clip(np.searchsorted(classes, predicted), 0, len(classes) - 1)
        rows = np.arange(n_rows)
        return RowExplanations(
            np.array(base[rows, chosen]), contributions[rows, :, chosen], classes[chosen].astype(np.int64)
        )


_EXPLAINERS: weakref.WeakKeyDictionary[TrainedModel, ModelExplainer] = weakref.WeakKeyDictionary()


def explainer_for(model: TrainedModel) -> ModelExplainer:
    """The (cached) :class:`ModelExplainer` of ``model``."""
    explainer = _EXPLAINERS.get(model)
    if explainer is None:
        explainer = ModelExplainer(model)
        _EXPLAINERS[model] = explainer
    return explainer


def raw_output(model: TrainedModel, matrix: np.ndarray, explained_class: np.ndarray | None) -> np.ndarray:
    """The model's raw output that contributions add up to, computed by the estimator itself (for tests
    and checks): the prediction, a linear model's decision function or boosting's raw score for the
    explained class (one logit for a binary model), a forest's probability of the explained class."""
    estimator = model.estimator
    if model.task == "regression":
        return np.asarray(estimator.predict(matrix), np.float64)
    assert explained_class is not None
    rows = np.arange(matrix.shape[0])
    if model.family == "random_forest":
        probabilities = estimator.predict_proba(matrix)
        positions = np.searchsorted(np.asarray(estimator.classes_), explained_class)
        return np.asarray(probabilities[rows, positions], np.float64)
    scores = (
        estimator._raw_predict(matrix)
        if model.family == "gradient_boosting"
        else estimator.decision_function(matrix)
    )
    scores = np.asarray(scores, np.float64)
    if scores.ndim == 1 or scores.shape[1] == 1:
        return scores.reshape(-1)
    fitted = np.asarray(estimator.classes_ if not hasattr(estimator, "steps") else estimator[-1].classes_)
    return scores[rows, np.searchsorted(fitted, explained_class)]


__all__ = [
    "EXPLAINABLE_FAMILIES",
    "IMPORTANCE_KEY",
    "IMPORTANCE_REPEATS",
    "IMPORTANCE_ROWS",
    "LINEAR_FAMILIES",
    "REFERENCE_KEY",
    "TREE_FAMILIES",
    "ImportanceProblem",
    "ImportanceRow",
    "ModelExplainer",
    "RowExplanations",
    "column_spans",
    "explain_method",
    "explainer_for",
    "importance_rows",
    "permutation_importance",
    "raw_output",
    "reference_means",
    "require_explainable",
    "slot_owners",
]
